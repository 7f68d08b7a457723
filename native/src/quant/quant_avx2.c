/* AVX2/F16C per-type kernels: dequantization (to f32), unpacking to the int8 path's canonical
 * form, and F16/BF16 row conversions. Every type first extracts its codes (one unsigned byte
 * per element, the same values l4_unpacked.u holds); dequantization then applies the scales
 * with the same operations, in the same order, as the scalar code, so results are identical
 * bit for bit. fp-contract is off: a fused multiply-add would round differently. */
#pragma GCC optimize("fp-contract=off")

#include <immintrin.h>

#include "quant/codes_avx2.h"
#include "quant/kquant_fit.h"
#include "quant/quant_avx2.h"

enum { NO_TERM = 0, ADD_TERM = 1, SUB_TERM = 2 };

/* dst[0..16) = (float)(code + off) * s, then + a or - a (a separate rounding, and a real
 * subtraction: adding -a would flip the sign of a NaN a, which the scalar code does not). */
INLINE void emit16(float *dst, __m128i codes, int off, float s, float a, int term) {
    const __m256i o = _mm256_set1_epi32(off);
    const __m256 vs = _mm256_set1_ps(s), va = _mm256_set1_ps(a);
    for (int h = 0; h < 2; h++) {
        const __m256i q = _mm256_add_epi32(_mm256_cvtepu8_epi32(h ? _mm_srli_si128(codes, 8) : codes), o);
        __m256 y = _mm256_mul_ps(_mm256_cvtepi32_ps(q), vs);
        if (term == ADD_TERM) y = _mm256_add_ps(y, va);
        if (term == SUB_TERM) y = _mm256_sub_ps(y, va);
        _mm256_storeu_ps(dst + 8 * h, y);
    }
}

INLINE void emit32(float *dst, __m256i codes, int off, float s, float a, int term) {
    emit16(dst, lo128(codes), off, s, a, term);
    emit16(dst + 16, hi128(codes), off, s, a, term);
}

/* ---- 32-blocks ----------------------------------------------------------------------------- */

#define BLOCK32_KERNELS(t, bytes, off, dexpr, aexpr, term, cexpr)                            \
    void l4_##t##_to_float_avx2(const void *src, float *dst, int64_t n) {                      \
        const uint8_t *b = src;                                                                 \
        for (int64_t i = 0; i < n / L4_QK; i++, b += (bytes), dst += L4_QK) {                   \
            const float d = (dexpr), a = (aexpr);                                              \
            (void)a;                                                                            \
            emit32(dst, t##_codes(b), (off), d, a, (term));                                     \
        }                                                                                       \
    }                                                                                           \
    void l4_##t##_unpack_avx2(const void *row, int64_t n, const l4_unpacked *view) {           \
        const l4_unpacked out = *view;                                                          \
        const uint8_t *b = row;                                                                 \
        for (int64_t i = 0; i < n / L4_QK; i++, b += (bytes)) {                                 \
            store32(out.u + i * L4_QK, t##_codes(b));                                           \
            const float d = (dexpr), a = (aexpr);                                              \
            (void)a;                                                                            \
            _mm256_storeu_ps(out.dexp + i * 8, _mm256_set1_ps(d));                              \
            out.c[2 * i] = out.c[2 * i + 1] = (cexpr);                                          \
        }                                                                                       \
    }

BLOCK32_KERNELS(q8_0, 34, -128, half_at(b), 0.0f, NO_TERM, -128.0f * d)
BLOCK32_KERNELS(q4_0, 18, -8, half_at(b), 0.0f, NO_TERM, -8.0f * d)
BLOCK32_KERNELS(q4_1, 20, 0, half_at(b), half_at(b + 2), ADD_TERM, a)
BLOCK32_KERNELS(q5_0, 22, -16, half_at(b), 0.0f, NO_TERM, -16.0f * d)
BLOCK32_KERNELS(q5_1, 24, 0, half_at(b), half_at(b + 2), ADD_TERM, a)
BLOCK32_KERNELS(iq4_nl, 18, -128, half_at(b), 0.0f, NO_TERM, -128.0f * d)

/* ---- K-quants: each super-block as 8 vectors of 32 codes, element order ------------------ */

/* Per-16-group scale s[g] and subtracted min m[g] (0 for the symmetric types). */
typedef struct {
    float s[16], m[16];
    int16_t sc[16]; /* integer group scale for the unpacked form */
    float c[16];    /* group term for the unpacked form */
    float d;
} kscales;

INLINE void q2_k_scales(const uint8_t *b, kscales *k) {
    const float d = half_at(b + 80), dmin = half_at(b + 82);
    k->d = d;
    for (int g = 0; g < 16; g++) {
        k->s[g] = d * (float)(b[g] & 0xF);
        k->m[g] = dmin * (float)(b[g] >> 4);
        k->sc[g] = (int16_t)(b[g] & 0xF);
        k->c[g] = -dmin * (float)(b[g] >> 4);
    }
}

INLINE void q3_k_scales(const uint8_t *b, kscales *k) {
    const float d = half_at(b + 108);
    const uint8_t *s = b + 96;
    k->d = d;
    for (int g = 0; g < 16; g++) {
        const int lo = g < 8 ? s[g] & 0xF : s[g - 8] >> 4;
        const int sc = (lo | (((s[8 + g % 4] >> (2 * (g / 4))) & 3) << 4)) - 32;
        k->s[g] = d * (float)sc;
        k->m[g] = 0.0f;
        k->sc[g] = (int16_t)sc;
        k->c[g] = -4.0f * (d * (float)sc);
    }
}

INLINE void q45_k_scales(const uint8_t *b, kscales *k) {
    const float d = half_at(b), dmin = half_at(b + 2);
    k->d = d;
    for (int j = 0; j < 8; j++) {
        int sc, m;
        l4_k4_get_scale_min(b + 4, j, &sc, &m);
        for (int h = 0; h < 2; h++) {
            k->s[2 * j + h] = d * (float)sc;
            k->m[2 * j + h] = dmin * (float)m;
            k->sc[2 * j + h] = (int16_t)sc;
            k->c[2 * j + h] = -dmin * (float)m;
        }
    }
}

INLINE void q6_k_scales(const uint8_t *b, kscales *k) {
    const float d = half_at(b + 208);
    k->d = d;
    for (int g = 0; g < 16; g++) {
        const int sc = (int8_t)b[192 + g];
        k->s[g] = d * (float)sc;
        k->m[g] = 0.0f;
        k->sc[g] = (int16_t)sc;
        k->c[g] = -32.0f * (d * (float)sc);
    }
}

#define q4_k_scales q45_k_scales
#define q5_k_scales q45_k_scales

#define KQUANT_KERNELS(t, bytes, off, term)                                                     \
    void l4_##t##_to_float_avx2(const void *src, float *dst, int64_t n) {                      \
        const uint8_t *b = src;                                                                 \
        for (int64_t i = 0; i < n / L4_QK_K; i++, b += (bytes), dst += L4_QK_K) {               \
            __m256i c[8];                                                                       \
            kscales k;                                                                          \
            t##_codes(b, c);                                                                    \
            t##_scales(b, &k);                                                                  \
            for (int v = 0; v < 8; v++) {                                                       \
                emit16(dst + 32 * v, lo128(c[v]), (off), k.s[2 * v], k.m[2 * v], (term));        \
                emit16(dst + 32 * v + 16, hi128(c[v]), (off), k.s[2 * v + 1], k.m[2 * v + 1], (term)); \
            }                                                                                   \
        }                                                                                       \
    }                                                                                           \
    void l4_##t##_unpack_avx2(const void *row, int64_t n, const l4_unpacked *view) {           \
        const l4_unpacked out = *view;                                                          \
        const uint8_t *b = row;                                                                 \
        for (int64_t i = 0; i < n / L4_QK_K; i++, b += (bytes)) {                               \
            __m256i c[8];                                                                       \
            kscales k;                                                                          \
            t##_codes(b, c);                                                                    \
            t##_scales(b, &k);                                                                  \
            for (int v = 0; v < 8; v++) store32(out.u + i * L4_QK_K + 32 * v, c[v]);           \
            for (int g = 0; g < 16; g++) {                                                      \
                _mm_storeu_si128((__m128i *)(out.scx + (i * 16 + g) * 8), _mm_set1_epi16(k.sc[g])); \
                out.c[i * 16 + g] = k.c[g];                                                     \
            }                                                                                   \
            out.d[i] = k.d;                                                                     \
        }                                                                                       \
    }

KQUANT_KERNELS(q2_k, 84, 0, SUB_TERM)
KQUANT_KERNELS(q3_k, 110, -4, NO_TERM)
KQUANT_KERNELS(q4_k, 144, 0, SUB_TERM)
KQUANT_KERNELS(q5_k, 176, 0, SUB_TERM)
KQUANT_KERNELS(q6_k, 210, -32, NO_TERM)

/* ---- F16 / BF16 rows ------------------------------------------------------------------------ */

void l4_f16_to_float_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *s = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + 2 * i))));
    for (; i < n; i++) dst[i] = _cvtsh_ss(l4_rd16(s + 2 * i));
}

void l4_f16_from_float_avx2(const float *src, void *dst, int64_t n) {
    uint8_t *d = dst;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(d + 2 * i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) l4_wr16(d + 2 * i, l4_fp32_to_fp16(src[i]));
}

void l4_bf16_to_float_avx2(const void *src, float *dst, int64_t n) {
    const uint8_t *s = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(s + 2 * i)));
        _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
    }
    for (; i < n; i++) dst[i] = l4_bf16_to_fp32(l4_rd16(s + 2 * i));
}

/* Round to nearest even on the upper 16 bits; NaNs keep their top bits and become quiet. */
void l4_bf16_from_float_avx2(const float *src, void *dst, int64_t n) {
    uint8_t *d = dst;
    int64_t i = 0;
    const __m256i abs_mask = _mm256_set1_epi32(0x7FFFFFFF), inf = _mm256_set1_epi32(0x7F800000);
    for (; i + 8 <= n; i += 8) {
        const __m256i u = _mm256_castps_si256(_mm256_loadu_ps(src + i));
        const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
        const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(_mm256_set1_epi32(0x7FFF), odd)), 16);
        const __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x40));
        const __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, abs_mask), inf);
        const __m256i r = _mm256_blendv_epi8(rounded, quiet, is_nan);
        const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(r, r), 0x08);
        _mm_storeu_si128((__m128i *)(d + 2 * i), _mm256_castsi256_si128(packed));
    }
    for (; i < n; i++) l4_wr16(d + 2 * i, l4_fp32_to_bf16(src[i]));
}
