/* AVX2/FMA versions of the forward-pass row kernels (compiled with -mavx2 -mfma; called only
 * when the CPU has them). */
#include <immintrin.h>
#include <math.h>

#include "core/simd_avx2.h"
#include "infer/kernels.h"

void l4_rmsnorm_row_avx2(const float *x, const float *w, float *out, int64_t n, float eps) {
    __m256 acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        acc = _mm256_fmadd_ps(v, v, acc);
    }
    float sum = hsum(acc);
    for (; i < n; i++) sum += x[i] * x[i];
    float scale = 1.0f / sqrtf(sum / (float)n + eps);
    __m256 vs = _mm256_set1_ps(scale);
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), vs);
        _mm256_storeu_ps(out + i, _mm256_mul_ps(v, _mm256_loadu_ps(w + i)));
    }
    for (; i < n; i++) out[i] = x[i] * scale * w[i];
}

void l4_swiglu_row_avx2(float *gate, const float *up, int64_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_loadu_ps(gate + i);
        __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), g));
        __m256 s = _mm256_div_ps(g, _mm256_add_ps(one, e));
        _mm256_storeu_ps(gate + i, _mm256_mul_ps(s, _mm256_loadu_ps(up + i)));
    }
    for (; i < n; i++) gate[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

/* Scores of four consecutive keys: the horizontal sums share their shuffles. */
static inline __m128 dot4(const float *q, const float *k, int64_t hd) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t d = 0;
    for (; d + 8 <= hd; d += 8) {
        __m256 vq = _mm256_loadu_ps(q + d);
        a0 = _mm256_fmadd_ps(vq, _mm256_loadu_ps(k + d), a0);
        a1 = _mm256_fmadd_ps(vq, _mm256_loadu_ps(k + hd + d), a1);
        a2 = _mm256_fmadd_ps(vq, _mm256_loadu_ps(k + 2 * hd + d), a2);
        a3 = _mm256_fmadd_ps(vq, _mm256_loadu_ps(k + 3 * hd + d), a3);
    }
    __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    if (d < hd) {
        float t[4] = {0, 0, 0, 0};
        for (int j = 0; j < 4; j++) {
            for (int64_t e = d; e < hd; e++) t[j] += q[e] * k[j * hd + e];
        }
        s = _mm_add_ps(s, _mm_loadu_ps(t));
    }
    return s;
}

static inline float dot1(const float *q, const float *k, int64_t hd) {
    __m256 a = _mm256_setzero_ps();
    int64_t d = 0;
    for (; d + 8 <= hd; d += 8) a = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), _mm256_loadu_ps(k + d), a);
    float s = hsum(a);
    for (; d < hd; d++) s += q[d] * k[d];
    return s;
}

/* out[0..8*NV) = inv * sum_j p_j v_j[0..8*NV), the V rows hd apart. */
static inline __attribute__((always_inline)) void v_pass(const float *p, const float *v, int64_t n_keys, int64_t hd,
                                                         float inv, float *out, int NV) {
    __m256 o[8];
    for (int i = 0; i < NV; i++) o[i] = _mm256_setzero_ps();
    for (int64_t j = 0; j < n_keys; j++) {
        const __m256 pj = _mm256_broadcast_ss(p + j);
        for (int i = 0; i < NV; i++) o[i] = _mm256_fmadd_ps(pj, _mm256_loadu_ps(v + j * hd + 8 * i), o[i]);
    }
    const __m256 vi = _mm256_set1_ps(inv);
    for (int i = 0; i < NV; i++) _mm256_storeu_ps(out + 8 * i, _mm256_mul_ps(o[i], vi));
}

void l4_attend_row_avx2(const float *q, const float *k, const float *v, int64_t n_keys, int64_t hd,
                        float scale, float *scores, float *out) {
    const __m128 vscale = _mm_set1_ps(scale);
    int64_t j = 0;
    for (; j + 4 <= n_keys; j += 4) _mm_storeu_ps(scores + j, _mm_mul_ps(dot4(q, k + j * hd, hd), vscale));
    for (; j < n_keys; j++) scores[j] = dot1(q, k + j * hd, hd) * scale;

    __m256 vmax = _mm256_set1_ps(-INFINITY);
    for (j = 0; j + 8 <= n_keys; j += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(scores + j));
    float max = hmax(vmax);
    for (; j < n_keys; j++) max = scores[j] > max ? scores[j] : max;

    __m256 vsum = _mm256_setzero_ps(), vm = _mm256_set1_ps(max);
    for (j = 0; j + 8 <= n_keys; j += 8) {
        __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(scores + j), vm));
        _mm256_storeu_ps(scores + j, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    float sum = hsum(vsum);
    for (; j < n_keys; j++) {
        scores[j] = expf(scores[j] - max);
        sum += scores[j];
    }
    const float inv = 1.0f / sum;

    /* out = sum_j p_j v_j, up to 64 output lanes at a time kept in registers across all keys
     * (a head of 64 or fewer in one pass over V) */
    int64_t d = 0;
    while (d + 8 <= hd) {
        const int64_t nv = (hd - d) / 8 < 8 ? (hd - d) / 8 : 8;
        switch (nv) {
        case 8: v_pass(scores, v + d, n_keys, hd, inv, out + d, 8); break;
        case 7: v_pass(scores, v + d, n_keys, hd, inv, out + d, 7); break;
        case 6: v_pass(scores, v + d, n_keys, hd, inv, out + d, 6); break;
        case 5: v_pass(scores, v + d, n_keys, hd, inv, out + d, 5); break;
        case 4: v_pass(scores, v + d, n_keys, hd, inv, out + d, 4); break;
        case 3: v_pass(scores, v + d, n_keys, hd, inv, out + d, 3); break;
        case 2: v_pass(scores, v + d, n_keys, hd, inv, out + d, 2); break;
        default: v_pass(scores, v + d, n_keys, hd, inv, out + d, 1); break;
        }
        d += 8 * nv;
    }
    for (; d < hd; d++) {
        float o = 0;
        for (j = 0; j < n_keys; j++) o += scores[j] * v[j * hd + d];
        out[d] = o * inv;
    }
}

float l4_logsumexp_row_avx2(const float *x, int64_t n) {
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
    float max = hmax(vmax);
    for (; i < n; i++) max = x[i] > max ? x[i] : max;
    __m256 vm = _mm256_set1_ps(max), vsum = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) vsum = _mm256_add_ps(vsum, exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm)));
    double sum = hsum(vsum);
    for (; i < n; i++) sum += expf(x[i] - max);
    return max + (float)log(sum);
}
