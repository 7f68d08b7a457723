/* Log-probabilities of the targets over the output head's logits and, in place, their gradient
 * (train/grad_head.c): one block per row. */
#include "ops/ops.h"
#include "ops/reduce.h"

#define HEAD_THREADS 512
#define HEAD_MAX_BLOCKS 65535

/* A pass over the row keeps each thread's running max and sum of exp(x - max) (rescaled when the
 * max grows), so the row is read once for its logsumexp; the block then rescales the threads'
 * sums to the row's max and adds them. A second pass writes the gradient: with g = w[i],
 * dlogit_v = -g softmax_v, plus g at the target (the CPU's order of operations). Rows without a
 * target have lp 0 and, with w, a zero gradient (they take no part in the objective). */
static __global__ void head_logprobs_kernel(float *logits, int64_t m, int64_t V, const int32_t *tgt,
                                            const float *w, float *lp) {
    __shared__ float scratch[32];
    for (int64_t i = blockIdx.x; i < m; i += gridDim.x) {
        float *row = logits + i * V;
        const int32_t t = tgt[i];
        if (t < 0) {
            if (w)
                for (int64_t v = threadIdx.x; v < V; v += blockDim.x) row[v] = 0.0f;
            if (threadIdx.x == 0) lp[i] = 0.0f;
            continue;
        }
        float mx = -INFINITY, sum = 0.0f;
        for (int64_t v = threadIdx.x; v < V; v += blockDim.x) {
            const float x = row[v];
            if (x > mx) {
                sum = sum * expf(mx - x) + 1.0f;
                mx = x;
            } else {
                sum += expf(x - mx);
            }
        }
        const float row_max = lcu_block_reduce(mx, lcu_op_max(), -INFINITY, scratch);
        sum = mx == -INFINITY ? 0.0f : sum * expf(mx - row_max);
        sum = lcu_block_reduce(sum, lcu_op_sum(), 0.0f, scratch);
        const float lse = row_max + logf(sum);
        const float target_logit = row[t];
        if (threadIdx.x == 0) lp[i] = target_logit - lse;
        if (!w) continue;
        /* every thread has read row[t] before any thread overwrites it */
        __syncthreads();
        const float g = w[i];
        for (int64_t v = threadIdx.x; v < V; v += blockDim.x) {
            float d = -g * expf(row[v] - lse);
            if (v == t) d += g;
            row[v] = d;
        }
    }
}

void lcu_head_logprobs(lcu_stream s, float *logits, int64_t m, int64_t V, const int32_t *tgt, const float *w,
                       float *lp) {
    if (m <= 0 || V <= 0) return;
    const unsigned blocks = (unsigned)(m < HEAD_MAX_BLOCKS ? m : HEAD_MAX_BLOCKS);
    LCU_LAUNCH(head_logprobs_kernel, blocks, HEAD_THREADS, 0, s, logits, m, V, tgt, w, lp);
}
