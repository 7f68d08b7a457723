/* AVX2 activation quantization (act_quant.c), bit for bit the scalar result: the same amax
 * (max ignores NaN, order does not matter), the same products, and cvtps rounds to nearest
 * even as the scalar trick does. */
#include <immintrin.h>

#include "core/simd_avx2.h"
#include "quant/gemm.h"

#define INLINE static inline __attribute__((always_inline))

/* Quantize 8*nv values (nv 4 or 32) to q; returns the scale. */
INLINE float quantize_block(const float *x, int nv, int8_t *q) {
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    __m256 amax = _mm256_setzero_ps();
    /* maxps returns its second operand when either is NaN: a NaN |x| leaves amax as it was */
    for (int i = 0; i < nv; i++) amax = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + 8 * i), abs_mask), amax);
    const float am = hmax(amax);
    const __m256 id = _mm256_set1_ps(am > 0.0f ? 127.0f / am : 0.0f);
    const __m256 hi = _mm256_set1_ps(127.0f), lo = _mm256_set1_ps(-127.0f);
    for (int i = 0; i < nv; i += 4) {
        __m256i c[4];
        for (int j = 0; j < 4; j++) {
            __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + 8 * (i + j)), id);
            v = _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_ORD_Q));
            v = _mm256_max_ps(_mm256_min_ps(v, hi), lo);
            c[j] = _mm256_cvtps_epi32(v);
        }
        /* packs interleave 128-bit lanes; the permute restores element order */
        const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(c[0], c[1]), _mm256_packs_epi32(c[2], c[3]));
        _mm256_storeu_si256((__m256i *)(q + 8 * i),
                            _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
    }
    return am / 127.0f;
}

/* Sums of the 16 codes of each group in 32 codes: two int32 values. */
INLINE void group_sums(const int8_t *q, int16_t *bs, float *s, float d) {
    const __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), _mm256_loadu_si256((const __m256i *)q)),
                                        _mm256_set1_epi16(1));
    /* lanes 0-3: group 0, lanes 4-7: group 1 */
    const __m128i h = _mm_hadd_epi32(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
    const __m128i g = _mm_hadd_epi32(h, h);
    const int s0 = _mm_cvtsi128_si32(g), s1 = _mm_extract_epi32(g, 1);
    bs[0] = (int16_t)s0;
    bs[1] = (int16_t)s1;
    s[0] = d * (float)s0;
    s[1] = d * (float)s1;
}

void l4_quantize_acts_avx2(const float *x, int64_t ldx, int64_t t0, int64_t t1, int64_t n, int kind,
                           const l4_qact *out) {
    const int blk = kind == L4_KIND_A ? L4_QK : L4_QK_K;
    for (int64_t t = t0; t < t1; t++) {
        const float *xt = x + t * ldx;
        int8_t *q = out->q + t * n;
        float *s = out->s + t * (n / 16);
        int16_t *bs = out->bs + t * (n / 16);
        for (int64_t b = 0; b < n / blk; b++) {
            const float d = quantize_block(xt + b * blk, blk / 8, q + b * blk);
            if (kind == L4_KIND_A) {
                _mm256_storeu_ps(out->dexp + t * (n / 4) + b * 8, _mm256_set1_ps(d));
            } else {
                out->d[t * (n / L4_QK_K) + b] = d;
            }
            for (int g = 0; g < blk / 16; g += 2) group_sums(q + b * blk + g * 16, bs + b * (blk / 16) + g, s + b * (blk / 16) + g, d);
        }
    }
}
