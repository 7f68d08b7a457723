/* AVX2/FMA versions of the backward row kernels (compiled with -mavx2 -mfma; called only when
 * the CPU has them). */
#include <immintrin.h>
#include <math.h>

#include "core/simd_avx2.h"
#include "train/grad_kernels.h"

#define EXP_MIN_ARG (-87.3365447504019f)

float l4_grad_exp_row_avx2(float *x, int64_t n, float scale, float shift, float alpha) {
    const __m256 vscale = _mm256_set1_ps(scale), vshift = _mm256_set1_ps(shift),
                 valpha = _mm256_set1_ps(alpha), vmin = _mm256_set1_ps(EXP_MIN_ARG);
    __m256 vsum = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 t = _mm256_fmsub_ps(vscale, _mm256_loadu_ps(x + i), vshift);
        /* exp8 clamps tiny arguments to 2^-126; the mask makes them (and -inf) exactly 0 */
        const __m256 e = _mm256_and_ps(exp8(t), _mm256_cmp_ps(t, vmin, _CMP_GE_OQ));
        vsum = _mm256_add_ps(vsum, e);
        _mm256_storeu_ps(x + i, _mm256_mul_ps(valpha, e));
    }
    float sum = hsum(vsum);
    for (; i < n; i++) {
        const float t = scale * x[i] - shift;
        const float e = t < EXP_MIN_ARG ? 0.0f : expf(t);
        sum += e;
        x[i] = alpha * e;
    }
    return sum;
}

float l4_grad_max_row_avx2(const float *x, int64_t n) {
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
    float m = hmax(vmax);
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

void l4_grad_swiglu_row_avx2(const float *g, const float *u, const float *dh, float *dg, float *du,
                             int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 vg = _mm256_loadu_ps(g + i), vu = _mm256_loadu_ps(u + i), vd = _mm256_loadu_ps(dh + i);
        const __m256 s = _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), vg))));
        const __m256 ds = _mm256_fmadd_ps(vg, _mm256_sub_ps(one, s), one); /* 1 + g (1 - s) */
        _mm256_storeu_ps(du + i, _mm256_mul_ps(vd, _mm256_mul_ps(vg, s)));
        _mm256_storeu_ps(dg + i, _mm256_mul_ps(_mm256_mul_ps(vd, vu), _mm256_mul_ps(s, ds)));
    }
    for (; i < n; i++) {
        const float gi = g[i], ui = u[i], d = dh[i];
        const float s = 1.0f / (1.0f + expf(-gi));
        du[i] = d * gi * s;
        dg[i] = d * ui * s * (1.0f + gi * (1.0f - s));
    }
}
