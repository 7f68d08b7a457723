/* A projection with its LoRA terms: y = x·Wᵀ (+ bias) + sum_i u_i (s_i (x·A_iᵀ)·B_iᵀ + bias_delta_i).
 * Every product is an lcu_gemm with bf16 operands: h = x·Aᵀ lands in f32, is rounded to bf16 and
 * multiplied by B straight into y (beta 1), so the adapters cost two thin GEMMs each. */
#include "engine/engine.h"

/* y[i][j] += u * b[j] for n rows of dim. */
__global__ void lcu_add_scaled_bias_kernel(float *y, const float *b, float u, int64_t n, int64_t dim) {
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n * dim) y[i] += u * b[i % dim];
}

static void add_scaled_bias(lcu_stream s, float *y, const float *b, float u, int64_t n, int64_t dim) {
    const int threads = 256;
    LCU_LAUNCH(lcu_add_scaled_bias_kernel, (unsigned)lcu_cdiv(n * dim, threads), threads, 0, s, y, b, u, n, dim);
}

void lcu_project(lcu_stream s, const lcu_mat *w, const float *bias, const lcu_lora_set *set, int layer, int t,
                 const lcu_bf16 *x, int64_t n, float *y) {
    const int64_t n_in = w->cols, n_out = w->rows;
    const lcu_mat xm = {LORA4J_TYPE_BF16, x, n, n_in, n_in, 0};
    lcu_gemm(s, &xm, w, 1.0f, 0.0f, y, n_out);
    if (bias) lcu_add_bias(s, y, bias, n, n_out);
    for (int i = 0; set && i < set->n; i++) {
        const lcu_dpair *p = lcu_dadapter_pair(set->ads[i], layer, t);
        if (!p) continue;
        const float u = set->scales[i];
        if (p->rank > 0) {
            const int64_t r = p->rank;
            const lcu_mat am = {LORA4J_TYPE_F32, p->a, r, n_in, n_in, 1};
            lcu_gemm(s, &xm, &am, 1.0f, 0.0f, set->h, r);
            lcu_to_bf16(s, set->h, set->h16, n * r);
            const lcu_mat hm = {LORA4J_TYPE_BF16, set->h16, n, r, r, 0};
            const lcu_mat bm = {LORA4J_TYPE_F32, p->b, n_out, r, r, 1};
            lcu_gemm(s, &hm, &bm, u * p->scale, 1.0f, y, n_out);
        }
        if (p->bias_delta) add_scaled_bias(s, y, p->bias_delta, u, n, n_out);
    }
}
