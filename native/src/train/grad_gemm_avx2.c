/* AVX2/FMA micro-kernel of l4_grad_gemm: a 6 x 16 tile of C in twelve registers; per step of
 * k, two loads of packed B and six broadcasts of packed A feed twelve FMAs. */
#include <immintrin.h>

#include "train/grad_gemm.h"

#define MR 6

static void ukernel_avx2(int64_t kc, const float *ap, const float *bp, float *c, int64_t ldc, int mr,
                         int nr, float alpha, int accumulate) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
           c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int64_t p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_load_ps(bp + p * L4_GEMM_NR);
        const __m256 b1 = _mm256_load_ps(bp + p * L4_GEMM_NR + 8);
        const float *a = ap + p * MR;
        __m256 x = _mm256_broadcast_ss(a);
        c00 = _mm256_fmadd_ps(x, b0, c00), c01 = _mm256_fmadd_ps(x, b1, c01);
        x = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(x, b0, c10), c11 = _mm256_fmadd_ps(x, b1, c11);
        x = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(x, b0, c20), c21 = _mm256_fmadd_ps(x, b1, c21);
        x = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(x, b0, c30), c31 = _mm256_fmadd_ps(x, b1, c31);
        x = _mm256_broadcast_ss(a + 4);
        c40 = _mm256_fmadd_ps(x, b0, c40), c41 = _mm256_fmadd_ps(x, b1, c41);
        x = _mm256_broadcast_ss(a + 5);
        c50 = _mm256_fmadd_ps(x, b0, c50), c51 = _mm256_fmadd_ps(x, b1, c51);
    }
    const __m256 va = _mm256_set1_ps(alpha);
    const __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    if (nr == L4_GEMM_NR) {
        for (int i = 0; i < mr; i++) {
            float *ci = c + i * ldc;
            __m256 y0 = _mm256_mul_ps(va, acc[i][0]), y1 = _mm256_mul_ps(va, acc[i][1]);
            if (accumulate) {
                y0 = _mm256_add_ps(y0, _mm256_loadu_ps(ci));
                y1 = _mm256_add_ps(y1, _mm256_loadu_ps(ci + 8));
            }
            _mm256_storeu_ps(ci, y0);
            _mm256_storeu_ps(ci + 8, y1);
        }
        return;
    }
    _Alignas(32) float t[L4_GEMM_NR];
    for (int i = 0; i < mr; i++) {
        _mm256_store_ps(t, _mm256_mul_ps(va, acc[i][0]));
        _mm256_store_ps(t + 8, _mm256_mul_ps(va, acc[i][1]));
        float *ci = c + i * ldc;
        for (int j = 0; j < nr; j++) ci[j] = accumulate ? ci[j] + t[j] : t[j];
    }
}

const l4_gemm_ukernel l4_gemm_ukernel_avx2 = {MR, ukernel_avx2};
