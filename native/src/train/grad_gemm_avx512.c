/* AVX-512 micro-kernel of l4_grad_gemm: a 12 x 16 tile of C in twelve zmm registers; per step
 * of k, one load of packed B and twelve broadcast FMAs. */
#include <immintrin.h>

#include "train/grad_gemm.h"

#define MR 12

static void ukernel_avx512(int64_t kc, const float *ap, const float *bp, float *c, int64_t ldc,
                           int mr, int nr, float alpha, int accumulate) {
    __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0,
           c8 = c0, c9 = c0, c10 = c0, c11 = c0;
    for (int64_t p = 0; p < kc; p++) {
        const __m512 b = _mm512_load_ps(bp + p * L4_GEMM_NR);
        const float *a = ap + p * MR;
        c0 = _mm512_fmadd_ps(_mm512_set1_ps(a[0]), b, c0);
        c1 = _mm512_fmadd_ps(_mm512_set1_ps(a[1]), b, c1);
        c2 = _mm512_fmadd_ps(_mm512_set1_ps(a[2]), b, c2);
        c3 = _mm512_fmadd_ps(_mm512_set1_ps(a[3]), b, c3);
        c4 = _mm512_fmadd_ps(_mm512_set1_ps(a[4]), b, c4);
        c5 = _mm512_fmadd_ps(_mm512_set1_ps(a[5]), b, c5);
        c6 = _mm512_fmadd_ps(_mm512_set1_ps(a[6]), b, c6);
        c7 = _mm512_fmadd_ps(_mm512_set1_ps(a[7]), b, c7);
        c8 = _mm512_fmadd_ps(_mm512_set1_ps(a[8]), b, c8);
        c9 = _mm512_fmadd_ps(_mm512_set1_ps(a[9]), b, c9);
        c10 = _mm512_fmadd_ps(_mm512_set1_ps(a[10]), b, c10);
        c11 = _mm512_fmadd_ps(_mm512_set1_ps(a[11]), b, c11);
    }
    const __m512 acc[MR] = {c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11};
    const __m512 va = _mm512_set1_ps(alpha);
    const __mmask16 mask = (__mmask16)((1u << nr) - 1);
    for (int i = 0; i < mr; i++) {
        float *ci = c + i * ldc;
        __m512 y = _mm512_mul_ps(va, acc[i]);
        if (accumulate) y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(mask, ci));
        _mm512_mask_storeu_ps(ci, mask, y);
    }
}

const l4_gemm_ukernel l4_gemm_ukernel_avx512 = {MR, ukernel_avx512};
