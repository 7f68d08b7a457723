/* AVX2/FMA micro-kernel of l4_grad_gemm: a 6 x 16 tile of C in twelve registers; per step of
 * k, two loads of B and six broadcasts of A feed twelve FMAs. */
#include <immintrin.h>

#include "train/grad_gemm.h"

#define MR 6

/* Lanes [0, n) of two 8-lane halves set, n <= 16. */
static inline void lane_masks(int n, __m256i *lo, __m256i *hi) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    *lo = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
    *hi = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8), idx);
}

/* full: nr == 16, plain loads; otherwise masked loads that touch no column past nr. */
static inline void tile(int64_t kc, const float *a, int64_t a_rs, int64_t a_cs, const float *b, int64_t b_rs,
                        float *c, int64_t ldc, int mr, int nr, float alpha, int accumulate, const int full) {
    /* rows past mr repeat row 0 */
    const float *r0 = a, *r1 = a + (mr > 1) * a_rs, *r2 = a + (mr > 2) * 2 * a_rs, *r3 = a + (mr > 3) * 3 * a_rs,
                *r4 = a + (mr > 4) * 4 * a_rs, *r5 = a + (mr > 5) * 5 * a_rs;
    __m256i mlo, mhi;
    lane_masks(nr, &mlo, &mhi);
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
           c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int64_t p = 0; p < kc; p++) {
        const float *bp = b + p * b_rs;
        const __m256 b0 = full ? _mm256_loadu_ps(bp) : _mm256_maskload_ps(bp, mlo);
        const __m256 b1 = full ? _mm256_loadu_ps(bp + 8) : _mm256_maskload_ps(bp + 8, mhi);
        const int64_t o = p * a_cs;
        __m256 x = _mm256_broadcast_ss(r0 + o);
        c00 = _mm256_fmadd_ps(x, b0, c00), c01 = _mm256_fmadd_ps(x, b1, c01);
        x = _mm256_broadcast_ss(r1 + o);
        c10 = _mm256_fmadd_ps(x, b0, c10), c11 = _mm256_fmadd_ps(x, b1, c11);
        x = _mm256_broadcast_ss(r2 + o);
        c20 = _mm256_fmadd_ps(x, b0, c20), c21 = _mm256_fmadd_ps(x, b1, c21);
        x = _mm256_broadcast_ss(r3 + o);
        c30 = _mm256_fmadd_ps(x, b0, c30), c31 = _mm256_fmadd_ps(x, b1, c31);
        x = _mm256_broadcast_ss(r4 + o);
        c40 = _mm256_fmadd_ps(x, b0, c40), c41 = _mm256_fmadd_ps(x, b1, c41);
        x = _mm256_broadcast_ss(r5 + o);
        c50 = _mm256_fmadd_ps(x, b0, c50), c51 = _mm256_fmadd_ps(x, b1, c51);
    }
    const __m256 va = _mm256_set1_ps(alpha);
    const __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    for (int i = 0; i < mr; i++) {
        float *ci = c + i * ldc;
        __m256 y0 = _mm256_mul_ps(va, acc[i][0]), y1 = _mm256_mul_ps(va, acc[i][1]);
        if (full) {
            if (accumulate) y0 = _mm256_add_ps(y0, _mm256_loadu_ps(ci)), y1 = _mm256_add_ps(y1, _mm256_loadu_ps(ci + 8));
            _mm256_storeu_ps(ci, y0);
            _mm256_storeu_ps(ci + 8, y1);
        } else {
            if (accumulate) {
                y0 = _mm256_add_ps(y0, _mm256_maskload_ps(ci, mlo));
                y1 = _mm256_add_ps(y1, _mm256_maskload_ps(ci + 8, mhi));
            }
            _mm256_maskstore_ps(ci, mlo, y0);
            _mm256_maskstore_ps(ci + 8, mhi, y1);
        }
    }
}

static void ukernel_avx2(int64_t kc, const float *a, int64_t a_rs, int64_t a_cs, const float *b, int64_t b_rs,
                         float *c, int64_t ldc, int mr, int nr, float alpha, int accumulate) {
    if (nr == L4_GEMM_NR) tile(kc, a, a_rs, a_cs, b, b_rs, c, ldc, mr, nr, alpha, accumulate, 1);
    else tile(kc, a, a_rs, a_cs, b, b_rs, c, ldc, mr, nr, alpha, accumulate, 0);
}

static void pack_rows_avx2(const float *src, int64_t s_p, int64_t nq, int64_t kc, int w, float *dst) {
    __m256i lo, hi, wlo, whi;
    lane_masks((int)nq, &lo, &hi);
    lane_masks(w, &wlo, &whi);
    for (int64_t p = 0; p < kc; p++) {
        const float *s = src + p * s_p;
        float *d = dst + p * w;
        _mm256_maskstore_ps(d, wlo, _mm256_maskload_ps(s, lo));
        _mm256_maskstore_ps(d + 8, whi, _mm256_maskload_ps(s + 8, hi));
    }
}

const l4_gemm_ukernel l4_gemm_ukernel_avx2 = {MR, ukernel_avx2, pack_rows_avx2};
