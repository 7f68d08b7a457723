/* Direct dot kernels (vecdot_body.h) with AVX2: maddubs takes u8 x s8 pair sums into int16,
 * madd widens them (and applies the K-quants' group scales). Pairs must fit int16: codes
 * with offset 128 (Q8_0, IQ4_NL) are made signed and multiplied by the sign trick. */
#include <immintrin.h>

#include "core/simd_avx2.h"
#include "quant/codes_avx2.h"

typedef struct {
    __m256i x;
    __m256i offx; /* off * x pair sums, for offsets below 128 */
} xprep;

INLINE xprep prep_a(__m256i x, int off) {
    xprep p = {x, _mm256_setzero_si256()};
    if (off && off < 128) p.offx = _mm256_maddubs_epi16(_mm256_set1_epi8((char)off), x);
    return p;
}

INLINE __m256i dot_a(__m256i u, xprep p, int off) {
    __m256i p16;
    if (off == 128) {
        const __m256i w = _mm256_xor_si256(u, _mm256_set1_epi8((char)0x80)); /* u - 128 as int8 */
        p16 = _mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(p.x, w));
    } else {
        p16 = _mm256_maddubs_epi16(u, p.x);
        if (off) p16 = _mm256_sub_epi16(p16, p.offx);
    }
    return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

INLINE __m256i dot_b(__m256i acc, __m256i u, __m256i x, __m256i sc) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, x), sc));
}

#include "quant/vecdot_body.h"

l4_vecdot_fn l4_vecdot_avx2(int32_t type) { return direct_for(type); }
