/* AVX-512 micro-kernel of l4_grad_gemm: a 12 x 16 tile of C in twelve zmm registers; per step
 * of k, one (masked) load of B and twelve broadcast FMAs. */
#include <immintrin.h>

#include "train/grad_gemm.h"

#define MR 12

static void ukernel_avx512(int64_t kc, const float *a, int64_t a_rs, int64_t a_cs, const float *b,
                           int64_t b_rs, float *c, int64_t ldc, int mr, int nr, float alpha, int accumulate) {
    const float *r[MR];
    for (int i = 0; i < MR; i++) r[i] = a + (i < mr ? i : 0) * a_rs; /* rows past mr repeat row 0 */
    const __mmask16 mask = (__mmask16)((1u << nr) - 1);
    __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0,
           c8 = c0, c9 = c0, c10 = c0, c11 = c0;
    for (int64_t p = 0; p < kc; p++) {
        const __m512 bv = _mm512_maskz_loadu_ps(mask, b + p * b_rs);
        const int64_t o = p * a_cs;
        c0 = _mm512_fmadd_ps(_mm512_set1_ps(r[0][o]), bv, c0);
        c1 = _mm512_fmadd_ps(_mm512_set1_ps(r[1][o]), bv, c1);
        c2 = _mm512_fmadd_ps(_mm512_set1_ps(r[2][o]), bv, c2);
        c3 = _mm512_fmadd_ps(_mm512_set1_ps(r[3][o]), bv, c3);
        c4 = _mm512_fmadd_ps(_mm512_set1_ps(r[4][o]), bv, c4);
        c5 = _mm512_fmadd_ps(_mm512_set1_ps(r[5][o]), bv, c5);
        c6 = _mm512_fmadd_ps(_mm512_set1_ps(r[6][o]), bv, c6);
        c7 = _mm512_fmadd_ps(_mm512_set1_ps(r[7][o]), bv, c7);
        c8 = _mm512_fmadd_ps(_mm512_set1_ps(r[8][o]), bv, c8);
        c9 = _mm512_fmadd_ps(_mm512_set1_ps(r[9][o]), bv, c9);
        c10 = _mm512_fmadd_ps(_mm512_set1_ps(r[10][o]), bv, c10);
        c11 = _mm512_fmadd_ps(_mm512_set1_ps(r[11][o]), bv, c11);
    }
    const __m512 acc[MR] = {c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11};
    const __m512 va = _mm512_set1_ps(alpha);
    for (int i = 0; i < mr; i++) {
        float *ci = c + i * ldc;
        __m512 y = _mm512_mul_ps(va, acc[i]);
        if (accumulate) y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(mask, ci));
        _mm512_mask_storeu_ps(ci, mask, y);
    }
}

static void pack_rows_avx512(const float *src, int64_t s_p, int64_t nq, int64_t kc, int w, float *dst) {
    const __mmask16 lanes = (__mmask16)((1u << nq) - 1), wlanes = (__mmask16)((1u << w) - 1);
    for (int64_t p = 0; p < kc; p++)
        _mm512_mask_storeu_ps(dst + p * w, wlanes, _mm512_maskz_loadu_ps(lanes, src + p * s_p));
}

const l4_gemm_ukernel l4_gemm_ukernel_avx512 = {MR, ukernel_avx512, pack_rows_avx512};
