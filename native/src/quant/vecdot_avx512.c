/* Direct dot kernels (vecdot_body.h) with AVX-512 VNNI on 256-bit vectors: dpbusd takes the
 * u8 x s8 sums, dpwssd applies the K-quants' group scales. */
#include <immintrin.h>

#include "core/simd_avx2.h"
#include "quant/codes_avx2.h"

typedef struct {
    __m256i x;
    __m256i neg; /* -off * (sums of 4 consecutive x): the start of every row's dpbusd */
} xprep;

INLINE xprep prep_a(__m256i x, int off) {
    const __m256i zero = _mm256_setzero_si256();
    xprep p = {x, zero};
    if (off) p.neg = _mm256_sub_epi32(zero, _mm256_dpbusd_epi32(zero, _mm256_set1_epi8((char)off), x));
    return p;
}

INLINE __m256i dot_a(__m256i u, xprep p, int off) { return _mm256_dpbusd_epi32(p.neg, u, p.x); }

INLINE __m256i dot_b(__m256i acc, __m256i u, __m256i x, __m256i sc) {
    return _mm256_dpwssd_epi32(acc, _mm256_maddubs_epi16(u, x), sc);
}

#include "quant/vecdot_body.h"

l4_vecdot_fn l4_vecdot_avx512(int32_t type) { return direct_for(type); }
