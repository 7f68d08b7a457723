/* Driver of l4_grad_gemm, Goto style: pack a block of B (KC x NC) and of A (MC x KC) into
 * contiguous panels, then sweep them with the micro-kernel of the SIMD level in force. Packing
 * makes any strides (transposed operands, power-of-two row pitches) stream from L1. */
#include "train/grad_gemm.h"

#include <string.h>

#include "core/simd.h"

#define KC 128 /* k per packed block */
#define NC 64  /* columns of B per packed block (a multiple of L4_GEMM_NR): 32 KiB */
#define MC 48  /* rows of A per packed block (a multiple of every kernel's mr): 24 KiB */
#define MR_SCALAR 4

static void ukernel_scalar(int64_t kc, const float *ap, const float *bp, float *c, int64_t ldc,
                           int mr, int nr, float alpha, int accumulate) {
    float acc[MR_SCALAR][L4_GEMM_NR] = {{0}};
    for (int64_t p = 0; p < kc; p++) {
        const float *a = ap + p * MR_SCALAR, *b = bp + p * L4_GEMM_NR;
        for (int i = 0; i < MR_SCALAR; i++)
            for (int j = 0; j < L4_GEMM_NR; j++) acc[i][j] += a[i] * b[j];
    }
    for (int i = 0; i < mr; i++) {
        float *ci = c + i * ldc;
        for (int j = 0; j < nr; j++) ci[j] = accumulate ? ci[j] + alpha * acc[i][j] : alpha * acc[i][j];
    }
}

const l4_gemm_ukernel l4_gemm_ukernel_scalar = {MR_SCALAR, ukernel_scalar};

static const l4_gemm_ukernel *select_ukernel(void) {
    switch (l4_simd_level()) {
    case LORA4J_SIMD_AVX512: return &l4_gemm_ukernel_avx512;
    case LORA4J_SIMD_AVX2: return &l4_gemm_ukernel_avx2;
    default: return &l4_gemm_ukernel_scalar;
    }
}

/* dst[p*w + q] = src(q, p) = src[q*s_q + p*s_p] for q < nq (zero for nq <= q < w), p < kc:
 * a panel of w rows (of A) or columns (of B), read along whichever index is contiguous. */
static void pack_panel(const float *src, int64_t s_q, int64_t s_p, int64_t nq, int64_t kc, int w,
                       float *dst) {
    if (nq < w) memset(dst, 0, (size_t)(kc * w) * sizeof(float));
    if (s_q == 1) {
        for (int64_t p = 0; p < kc; p++) memcpy(dst + p * w, src + p * s_p, (size_t)nq * sizeof(float));
    } else {
        for (int64_t q = 0; q < nq; q++) {
            const float *line = src + q * s_q;
            for (int64_t p = 0; p < kc; p++) dst[p * w + q] = line[p * s_p];
        }
    }
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

void l4_grad_gemm(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t a_rs,
                  int64_t a_cs, const float *b, int64_t b_rs, int64_t b_cs, float *c, int64_t ldc,
                  int accumulate) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        if (!accumulate)
            for (int64_t i = 0; i < m; i++) memset(c + i * ldc, 0, (size_t)n * sizeof(float));
        return;
    }
    const l4_gemm_ukernel *uk = select_ukernel();
    const int mr_full = uk->mr;
    _Alignas(64) float bpack[KC * NC];
    _Alignas(64) float apack[MC * KC];
    for (int64_t jc = 0; jc < n; jc += NC) {
        const int64_t nc = min64(NC, n - jc);
        for (int64_t pc = 0; pc < k; pc += KC) {
            const int64_t kc = min64(KC, k - pc);
            const int acc = accumulate || pc > 0;
            for (int64_t q = 0; q < nc; q += L4_GEMM_NR)
                pack_panel(b + pc * b_rs + (jc + q) * b_cs, b_cs, b_rs, min64(L4_GEMM_NR, nc - q), kc,
                           L4_GEMM_NR, bpack + q * kc);
            for (int64_t ic = 0; ic < m; ic += MC) {
                const int64_t mc = min64(MC, m - ic);
                for (int64_t ir = 0; ir < mc; ir += mr_full)
                    pack_panel(a + (ic + ir) * a_rs + pc * a_cs, a_rs, a_cs, min64(mr_full, mc - ir), kc,
                               mr_full, apack + ir * kc);
                for (int64_t ir = 0; ir < mc; ir += mr_full) {
                    const int mr = (int)min64(mr_full, mc - ir);
                    for (int64_t q = 0; q < nc; q += L4_GEMM_NR) {
                        const int nr = (int)min64(L4_GEMM_NR, nc - q);
                        uk->fn(kc, apack + ir * kc, bpack + q * kc, c + (ic + ir) * ldc + jc + q, ldc, mr, nr,
                               alpha, acc);
                    }
                }
            }
        }
    }
}
