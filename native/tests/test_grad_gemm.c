/* l4_grad_gemm, the GEMM behind the attention, LoRA and weight-gradient kernels, against a
 * double reference: all four operand layouts (A and B each row-major or transposed), shapes
 * around every block edge (m across the 48-row blocks and the in-place/packed B switch at 96,
 * n across 16-column panels and 64-column blocks, k across 128-deep blocks, k = 0), writing and
 * accumulating, at every SIMD level. Bound 1e-5 of the largest |C| (f32 sums of <= 300 terms). */
#include <string.h>

#include "grad_check.h"
#include "train/grad_gemm.h"

static void check(int64_t m, int64_t n, int64_t k, int trans_a, int trans_b, int accumulate, const char *level) {
    const float alpha = 0.75f;
    float *a = gc_gauss(m * k + 1, 1.0f), *b = gc_gauss(k * n + 1, 1.0f);
    const int64_t ldc = n + 3;
    float *c = gc_gauss(m * ldc, 1.0f), *want = gc_alloc(m * ldc);
    memcpy(want, c, sizeof(float) * m * ldc);
    /* op(A) is m x k: stored [m][k] or, transposed, [k][m]; op(B) k x n: [k][n] or [n][k] */
    const int64_t a_rs = trans_a ? 1 : k, a_cs = trans_a ? m : 1;
    const int64_t b_rs = trans_b ? 1 : n, b_cs = trans_b ? k : 1;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0.0;
            for (int64_t p = 0; p < k; p++) s += (double)a[i * a_rs + p * a_cs] * b[p * b_rs + j * b_cs];
            want[i * ldc + j] = (float)((accumulate ? want[i * ldc + j] : 0.0) + alpha * s);
        }
    l4_grad_gemm(m, n, k, alpha, a, a_rs, a_cs, b, b_rs, b_cs, c, ldc, accumulate);
    double max_ref = 1e-30, max_err = 0.0;
    int pad_ok = 1;
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < n; j++) {
            max_ref = fmax(max_ref, fabs(want[i * ldc + j]));
            max_err = fmax(max_err, fabs((double)c[i * ldc + j] - want[i * ldc + j]));
        }
        for (int64_t j = n; j < ldc; j++) pad_ok &= c[i * ldc + j] == want[i * ldc + j];
    }
    QT_CHECK(max_err <= 1e-5 * max_ref, "gemm %s m%lld n%lld k%lld %c%c acc%d: error %.3e of %.3e", level,
             (long long)m, (long long)n, (long long)k, trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', accumulate, max_err,
             max_ref);
    QT_CHECK(pad_ok, "gemm %s m%lld n%lld k%lld: wrote past column n", level, (long long)m, (long long)n, (long long)k);
    free(a), free(b), free(c), free(want);
}

int main(void) {
    qt_seed(20);
    const int64_t ms[] = {1, 5, 13, 48, 97, 200}, ns[] = {1, 7, 16, 17, 70}, ks[] = {0, 1, 129, 300};
    int32_t levels[3];
    const int n_levels = gc_simd_levels(levels);
    int cases = 0;
    for (int li = 0; li < n_levels; li++) {
        lora4j_simd_set(levels[li]);
        char level[16];
        snprintf(level, sizeof level, "level %d", levels[li]);
        for (int mi = 0; mi < 6; mi++)
            for (int ni = 0; ni < 5; ni++)
                for (int ki = 0; ki < 4; ki++)
                    for (int form = 0; form < 8; form++, cases++)
                        check(ms[mi], ns[ni], ks[ki], form & 1, form >> 1 & 1, form >> 2, level);
    }
    printf("  %d products checked\n", cases);
    return qt_finish("test_grad_gemm");
}
