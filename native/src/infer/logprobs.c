/* Log-probabilities of target tokens from rows of logits (log-softmax at one index). */
#include "core/threadpool.h"
#include "infer/kernels.h"
#include "infer/ops.h"

typedef struct logprob_job {
    const float *logits;
    int64_t n, n_vocab;
    const int32_t *targets;
    float *out;
} logprob_job;

static void logprob_task(void *arg, int ith, int nth) {
    const logprob_job *j = arg;
    int64_t b, e;
    l4_split(j->n, ith, nth, &b, &e);
    for (int64_t i = b; i < e; i++) {
        const float *row = j->logits + i * j->n_vocab;
        j->out[i] = row[j->targets[i]] - l4_logsumexp_row(row, j->n_vocab);
    }
}

void l4_logprobs(const float *logits, int64_t n, int64_t n_vocab, const int32_t *targets,
                 float *out, int n_threads) {
    logprob_job job = {logits, n, n_vocab, targets, out};
    if (n < 2 || n_threads < 2) logprob_task(&job, 0, 1);
    else l4_parallel(logprob_task, &job, n_threads);
}
