/* f32 row kernels of the forward pass. Each call dispatches on the active SIMD level to an AVX2
 * version (kernels_avx2.c) or the portable one (kernels.c); results agree to rounding. */
#ifndef LORA4J_INFER_KERNELS_H
#define LORA4J_INFER_KERNELS_H

#include <stdint.h>

/* out = x / sqrt(mean(x^2) + eps) * w, n elements (out may alias x). */
void l4_rmsnorm_row(const float *x, const float *w, float *out, int64_t n, float eps);

/* gate = silu(gate) * up, n elements. */
void l4_swiglu_row(float *gate, const float *up, int64_t n);

/* One query against n_keys cached keys/values (rows of hd floats, consecutive):
 * out = softmax(scale * K q) V, using scores[n_keys] as scratch. Stable: subtracts the max. */
void l4_attend_row(const float *q, const float *k, const float *v, int64_t n_keys, int64_t hd,
                   float scale, float *scores, float *out);

/* log(sum(exp(x))) over n elements, computed stably. */
float l4_logsumexp_row(const float *x, int64_t n);

/* Per-level implementations behind the dispatchers. */
void l4_rmsnorm_row_avx2(const float *x, const float *w, float *out, int64_t n, float eps);
void l4_swiglu_row_avx2(float *gate, const float *up, int64_t n);
void l4_attend_row_avx2(const float *q, const float *k, const float *v, int64_t n_keys, int64_t hd,
                        float scale, float *scores, float *out);
float l4_logsumexp_row_avx2(const float *x, int64_t n);

#endif
