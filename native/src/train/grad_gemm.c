/* Driver of l4_grad_gemm, and the portable micro-kernel. Operands whose rows run along k (A)
 * or along n (B) are read in place; a transposed operand is packed into contiguous panels
 * first, and so is B when many row blocks reuse it (m > 2 MC), which keeps it L1/L2-resident
 * whatever its row pitch. */
#include "train/grad_gemm.h"

#include <string.h>

#include "core/simd.h"

#define KC 128 /* k per block */
#define NC 64  /* columns of B per block (a multiple of L4_GEMM_NR): 32 KiB packed */
#define MC 48  /* rows of A per block (a multiple of every kernel's mr): 24 KiB packed */
#define MR_SCALAR 4

static void ukernel_scalar(int64_t kc, const float *a, int64_t a_rs, int64_t a_cs, const float *b,
                           int64_t b_rs, float *c, int64_t ldc, int mr, int nr, float alpha, int accumulate) {
    float acc[MR_SCALAR][L4_GEMM_NR] = {{0}};
    for (int64_t p = 0; p < kc; p++) {
        const float *bp = b + p * b_rs;
        for (int i = 0; i < mr; i++) {
            const float ai = a[i * a_rs + p * a_cs];
            for (int j = 0; j < nr; j++) acc[i][j] += ai * bp[j];
        }
    }
    for (int i = 0; i < mr; i++) {
        float *ci = c + i * ldc;
        for (int j = 0; j < nr; j++) ci[j] = accumulate ? ci[j] + alpha * acc[i][j] : alpha * acc[i][j];
    }
}

static void pack_rows_scalar(const float *src, int64_t s_p, int64_t nq, int64_t kc, int w, float *dst) {
    for (int64_t p = 0; p < kc; p++) {
        const float *s = src + p * s_p;
        float *d = dst + p * w;
        for (int q = 0; q < w; q++) d[q] = q < nq ? s[q] : 0.0f;
    }
}

const l4_gemm_ukernel l4_gemm_ukernel_scalar = {MR_SCALAR, ukernel_scalar, pack_rows_scalar};

static const l4_gemm_ukernel *select_ukernel(void) {
    switch (l4_simd_level()) {
    case LORA4J_SIMD_AVX512: return &l4_gemm_ukernel_avx512;
    case LORA4J_SIMD_AVX2: return &l4_gemm_ukernel_avx2;
    default: return &l4_gemm_ukernel_scalar;
    }
}

/* dst[p*w + q] = src[q*s_q + p*s_p] for q < nq (zero up to w), p < kc: a panel of w rows of A
 * or columns of B, read along whichever index is contiguous. */
static void pack_panel(const l4_gemm_ukernel *uk, const float *src, int64_t s_q, int64_t s_p, int64_t nq,
                       int64_t kc, int w, float *dst) {
    if (s_q == 1) {
        uk->pack_rows(src, s_p, nq, kc, w, dst);
        return;
    }
    if (nq < w) memset(dst, 0, (size_t)(kc * w) * sizeof(float));
    for (int64_t q = 0; q < nq; q++) {
        const float *line = src + q * s_q;
        for (int64_t p = 0; p < kc; p++) dst[p * w + q] = line[p * s_p];
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
    /* An A stored transposed would be read a_cs apart per step of k, where large pitches thrash
     * the cache sets: pack it. Pack B when transposed too, or when many row blocks reuse it. */
    const int pack_a = a_cs != 1;
    const int pack_b = b_cs != 1 || m > 2 * MC;
    _Alignas(64) float bpack[KC * NC];
    _Alignas(64) float apack[MC * KC];
    for (int64_t jc = 0; jc < n; jc += NC) {
        const int64_t nc = min64(NC, n - jc);
        for (int64_t pc = 0; pc < k; pc += KC) {
            const int64_t kc = min64(KC, k - pc);
            const int acc = accumulate || pc > 0;
            if (pack_b)
                for (int64_t q = 0; q < nc; q += L4_GEMM_NR)
                    pack_panel(uk, b + pc * b_rs + (jc + q) * b_cs, b_cs, b_rs, min64(L4_GEMM_NR, nc - q), kc,
                               L4_GEMM_NR, bpack + q * kc);
            for (int64_t ic = 0; ic < m; ic += MC) {
                const int64_t mc = min64(MC, m - ic);
                if (pack_a)
                    for (int64_t ir = 0; ir < mc; ir += mr_full)
                        pack_panel(uk, a + (ic + ir) * a_rs + pc * a_cs, a_rs, a_cs, min64(mr_full, mc - ir), kc,
                                   mr_full, apack + ir * kc);
                for (int64_t ir = 0; ir < mc; ir += mr_full) {
                    const int mr = (int)min64(mr_full, mc - ir);
                    const float *ai = pack_a ? apack + ir * kc : a + (ic + ir) * a_rs + pc;
                    const int64_t rs = pack_a ? 1 : a_rs, cs = pack_a ? mr_full : 1;
                    for (int64_t q = 0; q < nc; q += L4_GEMM_NR) {
                        const int nr = (int)min64(L4_GEMM_NR, nc - q);
                        const float *bq = pack_b ? bpack + q * kc : b + pc * b_rs + jc + q;
                        uk->fn(kc, ai, rs, cs, bq, pack_b ? L4_GEMM_NR : b_rs, c + (ic + ir) * ldc + jc + q, ldc,
                               mr, nr, alpha, acc);
                    }
                }
            }
        }
    }
}
