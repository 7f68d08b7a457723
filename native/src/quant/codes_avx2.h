/* Inline AVX2 extraction of each quantized type's codes: one unsigned byte per element, the
 * values l4_unpacked.u holds (quant_impl.h), 32 elements per vector in element order. Shared
 * by the dequantize/unpack kernels (quant_avx2.c) and the direct dot kernels (vecdot_*.c).
 * Include it only from files compiled with -mavx2 -mfma -mf16c: it emits those instructions. */
#ifndef LORA4J_QUANT_CODES_AVX2_H
#define LORA4J_QUANT_CODES_AVX2_H

#include <immintrin.h>

#include "quant/quant_impl.h"

#ifndef INLINE
#define INLINE static inline __attribute__((always_inline))
#endif

INLINE float half_at(const uint8_t *p) { return _cvtsh_ss(l4_rd16(p)); }

INLINE __m128i lo128(__m256i v) { return _mm256_castsi256_si128(v); }
INLINE __m128i hi128(__m256i v) { return _mm256_extracti128_si256(v, 1); }

/* 16 packed bytes -> 32 nibble codes: low nibbles first, then high nibbles. */
INLINE __m256i nibbles(const uint8_t *p) {
    const __m128i v = _mm_loadu_si128((const __m128i *)p), m = _mm_set1_epi8(0x0F);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m), _mm_and_si128(v, m));
}

/* 32 bits (little-endian) -> 32 bytes, byte j = 0x10 if bit j is set (the 5th bit of Q5_x).
 * A file built for AVX-512 BW/VL turns the bits into a byte mask directly. */
INLINE __m256i bits_to_0x10(uint32_t h) {
#if defined(__AVX512BW__) && defined(__AVX512VL__)
    return _mm256_maskz_mov_epi8((__mmask32)h, _mm256_set1_epi8(0x10));
#else
    const __m256i spread = _mm256_shuffle_epi8(
        _mm256_set1_epi32((int)h), _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2,
                                                     2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    const __m256i bit = _mm256_set1_epi64x(0x8040201008040201ll);
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit), _mm256_set1_epi8(0x10));
#endif
}

/* byte-wise (v >> shift) & mask */
INLINE __m256i shr_mask(__m256i v, int shift, int mask) {
    return _mm256_and_si256(_mm256_srli_epi16(v, shift), _mm256_set1_epi8((char)mask));
}

/* byte-wise: value where (v & bit) != 0, else 0 */
INLINE __m256i bit_select(__m256i v, int bit, int value) {
    const __m256i b = _mm256_set1_epi8((char)bit);
#if defined(__AVX512BW__) && defined(__AVX512VL__)
    return _mm256_maskz_mov_epi8(_mm256_test_epi8_mask(v, b), _mm256_set1_epi8((char)value));
#else
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(v, b), b), _mm256_set1_epi8((char)value));
#endif
}

INLINE __m256i load32(const uint8_t *p) { return _mm256_loadu_si256((const __m256i *)p); }
INLINE void store32(uint8_t *p, __m256i v) { _mm256_storeu_si256((__m256i *)p, v); }

/* ---- 32-blocks: the codes of one block (b points at the block) --------------------------- */

INLINE __m256i q8_0_codes(const uint8_t *b) { return _mm256_xor_si256(load32(b + 2), _mm256_set1_epi8((char)0x80)); }
INLINE __m256i q4_0_codes(const uint8_t *b) { return nibbles(b + 2); }
INLINE __m256i q4_1_codes(const uint8_t *b) { return nibbles(b + 4); }
INLINE __m256i q5_0_codes(const uint8_t *b) { return _mm256_or_si256(nibbles(b + 6), bits_to_0x10(l4_rd32le(b + 2))); }
INLINE __m256i q5_1_codes(const uint8_t *b) { return _mm256_or_si256(nibbles(b + 8), bits_to_0x10(l4_rd32le(b + 4))); }
INLINE __m256i iq4_nl_codes(const uint8_t *b) {
    /* grid + 128 */
    const __m256i table = _mm256_setr_epi8(1, 24, 45, 63, 79, 93, 106, 118, (char)129, (char)141, (char)153, (char)166,
                                           (char)181, (char)197, (char)217, (char)241, 1, 24, 45, 63, 79, 93, 106, 118,
                                           (char)129, (char)141, (char)153, (char)166, (char)181, (char)197, (char)217,
                                           (char)241);
    return _mm256_shuffle_epi8(table, nibbles(b + 2));
}

/* ---- K-quants: each super-block as 8 vectors of 32 codes, element order ------------------ */

INLINE void q2_k_codes(const uint8_t *b, __m256i c[8]) {
    for (int h = 0; h < 2; h++)
        for (int j = 0; j < 4; j++) c[4 * h + j] = shr_mask(load32(b + 16 + 32 * h), 2 * j, 3);
}

INLINE void q3_k_codes(const uint8_t *b, __m256i c[8]) {
    const __m256i hm = load32(b);
    for (int h = 0; h < 2; h++)
        for (int j = 0; j < 4; j++)
            c[4 * h + j] = _mm256_or_si256(shr_mask(load32(b + 32 + 32 * h), 2 * j, 3), bit_select(hm, 1 << (4 * h + j), 4));
}

INLINE void q4_k_codes(const uint8_t *b, __m256i c[8]) {
    for (int k = 0; k < 4; k++) {
        const __m256i v = load32(b + 16 + 32 * k);
        c[2 * k] = _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
        c[2 * k + 1] = shr_mask(v, 4, 0x0F);
    }
}

INLINE void q5_k_codes(const uint8_t *b, __m256i c[8]) {
    const __m256i qh = load32(b + 16);
    for (int k = 0; k < 4; k++) {
        const __m256i v = load32(b + 48 + 32 * k);
        c[2 * k] = _mm256_or_si256(_mm256_and_si256(v, _mm256_set1_epi8(0x0F)), bit_select(qh, 1 << (2 * k), 16));
        c[2 * k + 1] = _mm256_or_si256(shr_mask(v, 4, 0x0F), bit_select(qh, 1 << (2 * k + 1), 16));
    }
}

INLINE void q6_k_codes(const uint8_t *b, __m256i c[8]) {
    for (int h = 0; h < 2; h++) {
        const __m256i ql0 = load32(b + 64 * h), ql1 = load32(b + 64 * h + 32), qh = load32(b + 128 + 32 * h);
        for (int k = 0; k < 4; k++) {
            const __m256i ql = (k & 1) ? ql1 : ql0;
            const __m256i lo = (k & 2) ? shr_mask(ql, 4, 0x0F) : _mm256_and_si256(ql, _mm256_set1_epi8(0x0F));
            c[4 * h + k] = _mm256_or_si256(lo, _mm256_slli_epi16(shr_mask(qh, 2 * k, 3), 4));
        }
    }
}

#endif
