/* Portable versions of the backward row kernels and their run-time dispatch. */
#include "train/grad_kernels.h"

#include <math.h>

#include "core/simd.h"

/* Below this, expf returns subnormals; the SIMD version flushes them, and so does this one. */
#define EXP_MIN_ARG (-87.3365447504019f)

static float exp_row_scalar(float *x, int64_t n, float scale, float shift, float alpha) {
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        const float t = scale * x[i] - shift;
        const float e = t < EXP_MIN_ARG ? 0.0f : expf(t);
        sum += e;
        x[i] = alpha * e;
    }
    return sum;
}

static float max_row_scalar(const float *x, int64_t n) {
    float m = x[0];
    for (int64_t i = 1; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

static void swiglu_row_scalar(const float *g, const float *u, const float *dh, float *dg, float *du,
                              int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float gi = g[i], ui = u[i], d = dh[i];
        const float s = 1.0f / (1.0f + expf(-gi));
        du[i] = d * gi * s;
        dg[i] = d * ui * s * (1.0f + gi * (1.0f - s));
    }
}

float l4_grad_exp_row(float *x, int64_t n, float scale, float shift, float alpha) {
    if (l4_simd_level() >= LORA4J_SIMD_AVX2) return l4_grad_exp_row_avx2(x, n, scale, shift, alpha);
    return exp_row_scalar(x, n, scale, shift, alpha);
}

float l4_grad_max_row(const float *x, int64_t n) {
    if (l4_simd_level() >= LORA4J_SIMD_AVX2) return l4_grad_max_row_avx2(x, n);
    return max_row_scalar(x, n);
}

void l4_grad_swiglu_row(const float *g, const float *u, const float *dh, float *dg, float *du,
                        int64_t n) {
    if (l4_simd_level() >= LORA4J_SIMD_AVX2) l4_grad_swiglu_row_avx2(g, u, dh, dg, du, n);
    else swiglu_row_scalar(g, u, dh, dg, du, n);
}
