/* Portable versions of the forward-pass row kernels and the run-time dispatch. */
#include "infer/kernels.h"

#include <math.h>

#include "core/simd.h"

static void rmsnorm_scalar(const float *x, const float *w, float *out, int64_t n, float eps) {
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += (double)x[i] * x[i];
    float scale = 1.0f / sqrtf((float)(sum / (double)n) + eps);
    for (int64_t i = 0; i < n; i++) out[i] = x[i] * scale * w[i];
}

static void swiglu_scalar(float *gate, const float *up, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float g = gate[i];
        gate[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

static void attend_scalar(const float *q, const float *k, const float *v, int64_t n_keys,
                          int64_t hd, float scale, float *scores, float *out) {
    float max = -INFINITY;
    for (int64_t j = 0; j < n_keys; j++) {
        const float *kj = k + j * hd;
        float s = 0;
        for (int64_t d = 0; d < hd; d++) s += q[d] * kj[d];
        s *= scale;
        scores[j] = s;
        if (s > max) max = s;
    }
    float sum = 0;
    for (int64_t j = 0; j < n_keys; j++) {
        scores[j] = expf(scores[j] - max);
        sum += scores[j];
    }
    for (int64_t d = 0; d < hd; d++) out[d] = 0;
    for (int64_t j = 0; j < n_keys; j++) {
        const float *vj = v + j * hd;
        float p = scores[j];
        for (int64_t d = 0; d < hd; d++) out[d] += p * vj[d];
    }
    float inv = 1.0f / sum;
    for (int64_t d = 0; d < hd; d++) out[d] *= inv;
}

static float logsumexp_scalar(const float *x, int64_t n) {
    float max = -INFINITY;
    for (int64_t i = 0; i < n; i++) max = x[i] > max ? x[i] : max;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += expf(x[i] - max);
    return max + (float)log(sum);
}

void l4_rmsnorm_row(const float *x, const float *w, float *out, int64_t n, float eps) {
    if (l4_simd_level() >= LORA4J_SIMD_AVX2) l4_rmsnorm_row_avx2(x, w, out, n, eps);
    else rmsnorm_scalar(x, w, out, n, eps);
}

void l4_swiglu_row(float *gate, const float *up, int64_t n) {
    if (l4_simd_level() >= LORA4J_SIMD_AVX2) l4_swiglu_row_avx2(gate, up, n);
    else swiglu_scalar(gate, up, n);
}

void l4_attend_row(const float *q, const float *k, const float *v, int64_t n_keys, int64_t hd,
                   float scale, float *scores, float *out) {
    if (l4_simd_level() >= LORA4J_SIMD_AVX2) l4_attend_row_avx2(q, k, v, n_keys, hd, scale, scores, out);
    else attend_scalar(q, k, v, n_keys, hd, scale, scores, out);
}

float l4_logsumexp_row(const float *x, int64_t n) {
    if (l4_simd_level() >= LORA4J_SIMD_AVX2) return l4_logsumexp_row_avx2(x, n);
    return logsumexp_scalar(x, n);
}
