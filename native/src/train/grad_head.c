/* Output head + log-softmax + weighted objective and its gradient, a chunk of rows at a time:
 * logits = W xn (exact f32 product), lp = logit[target] - logsumexp, and in place of the logits
 * dlogits = weight * (onehot(target) - softmax), which flows back to xn through W^T and (full
 * fine-tuning) into dW. Rows without a target are skipped by the products; rows without a
 * gradient are skipped by the backward ones, so a masked prompt costs only its forward. */
#include "core/threadpool.h"
#include "infer/kernels.h"
#include "quant/quant.h"
#include "train/grad_kernels.h"
#include "train/grad_ops.h"

typedef struct head_job {
    const float *bias;
    const int32_t *target;
    const float *weight;
    float *lp;
    float *logits; /* rows of this chunk */
    int64_t row0, n_rows, n_vocab;
} head_job;

/* A row takes part in the products when it has a target, in the backward ones when its weight
 * is also nonzero. */
static int wanted(const int32_t *target, const float *weight, int need_grad, int64_t i) {
    return target[i] >= 0 && (!need_grad || (weight && weight[i] != 0.0f));
}

/* Log-probabilities, and the rows' logits turned into dlogits. */
static void softmax_task(void *arg, int ith, int nth) {
    const head_job *j = arg;
    int64_t b, e;
    l4_split(j->n_rows, ith, nth, &b, &e);
    for (int64_t r = b; r < e; r++) {
        const int64_t i = j->row0 + r;
        float *row = j->logits + r * j->n_vocab;
        if (!wanted(j->target, j->weight, 0, i)) {
            j->lp[i] = 0.0f;
            continue;
        }
        if (j->bias)
            for (int64_t v = 0; v < j->n_vocab; v++) row[v] += j->bias[v];
        const float lse = l4_logsumexp_row(row, j->n_vocab);
        const int32_t t = j->target[i];
        j->lp[i] = row[t] - lse;
        if (wanted(j->target, j->weight, 1, i)) {
            const float g = j->weight[i];
            l4_grad_exp_row(row, j->n_vocab, 1.0f, lse, -g);
            row[t] += g;
        }
    }
}

/* End of the run of wanted rows from i on (i < end). */
static int64_t run_end(const int32_t *target, const float *weight, int need_grad, int64_t i, int64_t end) {
    while (i < end && wanted(target, weight, need_grad, i)) i++;
    return i;
}

double l4_head_logprobs(const l4_matrix *w, const float *bias, const float *xn, int64_t n,
                        const int32_t *target, const float *weight, float *lp, float *dxn, float *dw,
                        float *logits_scratch, int64_t chunk, int n_threads) {
    const int64_t n_vocab = w->n_out, n_embd = w->n_in;
    if (chunk < 1) chunk = 1;
    const int nth = n_threads > 0 ? n_threads : l4_n_cores();
    for (int64_t c0 = 0; c0 < n; c0 += chunk) {
        const int64_t c1 = c0 + chunk < n ? c0 + chunk : n;
        for (int64_t i = c0; i < c1;) {
            const int64_t e = run_end(target, weight, 0, i, c1);
            if (e > i)
                l4_matmul(w->type, w->data, n_vocab, n_embd, xn + i * n_embd, n_embd, e - i,
                          logits_scratch + (i - c0) * n_vocab, n_vocab, n_threads, 1);
            i = e > i ? e : i + 1;
        }
        head_job job = {bias, target, weight, lp, logits_scratch, c0, c1 - c0, n_vocab};
        l4_parallel(softmax_task, &job, (int)(c1 - c0 < nth ? c1 - c0 : nth));
        if (!weight) continue;
        for (int64_t i = c0; i < c1;) {
            const int64_t e = run_end(target, weight, 1, i, c1);
            if (e > i) {
                const float *dlogits = logits_scratch + (i - c0) * n_vocab;
                if (dxn)
                    l4_matmul_t_acc(w->type, w->data, n_vocab, n_embd, dlogits, n_vocab, e - i,
                                    dxn + i * n_embd, n_embd, n_threads);
                if (dw) l4_linear_backward_w(xn + i * n_embd, dlogits, e - i, n_embd, n_vocab, dw, n_threads);
            }
            i = e > i ? e : i + 1;
        }
    }
    double L = 0.0;
    if (weight)
        for (int64_t i = 0; i < n; i++)
            if (target[i] >= 0) L += (double)weight[i] * lp[i];
    return L;
}
