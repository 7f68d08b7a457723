/* f32 row kernels of the backward pass. Each call dispatches on the active SIMD level to an AVX2
 * version (grad_kernels_avx2.c) or the portable one (grad_kernels.c); results agree to rounding. */
#ifndef LORA4J_TRAIN_GRAD_KERNELS_H
#define LORA4J_TRAIN_GRAD_KERNELS_H

#include <stdint.h>

/* x[i] = alpha * exp(scale * x[i] - shift), n elements; arguments below the f32 range (-inf
 * included) give exactly 0. Returns sum_i exp(scale * x[i] - shift) (before alpha). */
float l4_grad_exp_row(float *x, int64_t n, float scale, float shift, float alpha);

/* max of n > 0 elements. */
float l4_grad_max_row(const float *x, int64_t n);

/* SwiGLU backward of h = silu(g) * u: du = dh * silu(g), dg = dh * u * silu'(g), n elements.
 * dg may alias g and du may alias u. */
void l4_grad_swiglu_row(const float *g, const float *u, const float *dh, float *dg, float *du,
                        int64_t n);

/* Per-level implementations behind the dispatchers. */
float l4_grad_exp_row_avx2(float *x, int64_t n, float scale, float shift, float alpha);
float l4_grad_max_row_avx2(const float *x, int64_t n);
void l4_grad_swiglu_row_avx2(const float *g, const float *u, const float *dh, float *dg, float *du,
                             int64_t n);

#endif
