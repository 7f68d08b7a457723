/* The output head over the selected rows, a chunk at a time: gather the rows' final hidden
 * states, output-norm them, logits = xn·Wᵀ (+ bias), log-probs and, in place, dlogits =
 * w (onehot - softmax), then dxn = dlogits·W back through the norm into the rows of dx. */
#include "engine/trainer.h"

/* dst[i] = src[rows[i]], rows of dim floats. */
__global__ void lcu_gather_rows_kernel(const float *src, const int32_t *rows, int64_t m, int64_t dim, float *dst) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < m * dim) dst[i] = src[(int64_t)rows[i / dim] * dim + i % dim];
}

/* dst[rows[i]] += src[i] (rows distinct). */
__global__ void lcu_scatter_add_rows_kernel(const float *src, const int32_t *rows, int64_t m, int64_t dim,
                                            float *dst) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < m * dim) dst[(int64_t)rows[i / dim] * dim + i % dim] += src[i];
}

void lcu_tr_head(lcu_trainer *t, int64_t m, int with_grad) {
    const int64_t E = t->E, V = t->V;
    const int threads = 256;
    if (with_grad) cudaMemsetAsync(t->dx, 0, (size_t)(t->N * E) * sizeof(float), t->s);
    lcu_mat wt = t->m->output;
    wt.trans = 0;
    for (int64_t c0 = 0; c0 < m; c0 += t->head_chunk) {
        const int64_t n = m - c0 < t->head_chunk ? m - c0 : t->head_chunk;
        const unsigned blocks = (unsigned)lcu_cdiv(n * E, threads);
        LCU_LAUNCH(lcu_gather_rows_kernel, blocks, threads, 0, t->s, t->x_out, t->rows + c0, n, E, t->xg);
        lcu_rmsnorm(t->s, t->xg, t->m->output_norm, n, E, t->eps, t->xng, NULL);
        const lcu_mat xm = lcu_tr_dense(LORA4J_TYPE_BF16, t->xng, n, E, 0);
        lcu_gemm(t->s, &xm, &t->m->output, 1.0f, 0.0f, t->logits, V);
        if (t->m->output_bias) lcu_add_bias(t->s, t->logits, t->m->output_bias, n, V);
        lcu_head_logprobs(t->s, t->logits, n, V, t->tgt + c0, with_grad ? t->wrow + c0 : NULL, t->lp + c0);
        if (!with_grad) continue;
        const lcu_mat dl = lcu_tr_dense(LORA4J_TYPE_F32, t->logits, n, V, 0);
        lcu_gemm(t->s, &dl, &wt, 1.0f, 0.0f, t->dxng, E);
        cudaMemsetAsync(t->dxg, 0, (size_t)(n * E) * sizeof(float), t->s);
        lcu_rmsnorm_backward(t->s, t->xg, t->m->output_norm, t->dxng, n, E, t->eps, t->dxg, NULL);
        LCU_LAUNCH(lcu_scatter_add_rows_kernel, blocks, threads, 0, t->s, t->dxg, t->rows + c0, n, E, t->dx);
    }
}
