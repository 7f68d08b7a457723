/* The element-wise and row ops of the CUDA backend against the CPU engine, on random data of odd
 * sizes (rows and dims that are not multiples of the block sizes):
 *   - to_bf16, add, scale, add_bias: exact (one rounding, same operation);
 *   - col_sum over more rows than one block's chunk: 1e-5 of the largest sum (f32 sums in another
 *     order);
 *   - rmsnorm: the f32 output 1e-5, the bf16 output 8e-3 (bf16 keeps 8 bits: half an ulp is 2^-9
 *     of a value); its backward with and without dw, for few rows (one a block) and many (several
 *     a block, dw's per-block sums): 1e-5;
 *   - rope and its backward, NORM and NEOX, partial rotation, rows wider than the heads: 1e-6
 *     (two products and a sum per value; the GPU may fuse them);
 *   - swiglu (bf16 output 8e-3) and its backward (1e-5; the CPU's SIMD exp is an approximation);
 *   - dropout: the mask and the bf16 output exactly the CPU's; the backward 1e-6. */
#include <string.h>

#include "lcu_test.h"
#include "ops/ops.h"

extern "C" {
#include "infer/ops.h"
#include "train/grad_ops.h"
#include "train/trainer.h"
}

static float *gauss(int64_t n, float scale) {
    float *p = lcu_test_host<float>(n);
    qt_fill_gauss(p, n, scale);
    return p;
}

static void test_elementwise(void) {
    printf("element-wise\n");
    const int64_t n = 1237, rows = 13, dim = 301;
    float *x = gauss(n, 3.0f), *y = gauss(n, 1.0f), *got = lcu_test_host<float>(n), *want = lcu_test_host<float>(n);
    lcu_bf16 *hb = lcu_test_host<lcu_bf16>(n);
    float *dx = lcu_test_upload(x, n), *dy = lcu_test_upload(y, n);
    lcu_bf16 *db = lcu_test_alloc<lcu_bf16>(n);

    lcu_to_bf16(0, dx, db, n);
    lcu_test_download(hb, db, n);
    int bad = 0;
    for (int64_t i = 0; i < n; i++) bad += hb[i].x != __float2bfloat16(x[i]).x;
    QT_CHECK(bad == 0, "to_bf16: %d values differ from round-to-nearest-even", bad);

    lcu_add(0, dx, dy, n);
    lcu_scale(0, dx, -0.375f, n);
    lcu_test_download(got, dx, n);
    for (int64_t i = 0; i < n; i++) want[i] = (x[i] + y[i]) * -0.375f;
    lcu_test_compare("add then scale", got, want, n, 0.0);

    float *bias = gauss(dim, 1.0f), *m = gauss(rows * dim, 1.0f);
    float *dm = lcu_test_upload(m, rows * dim), *dbias = lcu_test_upload(bias, dim);
    lcu_add_bias(0, dm, dbias, rows, dim);
    float *gm = lcu_test_host<float>(rows * dim);
    lcu_test_download(gm, dm, rows * dim);
    l4_add_bias(m, bias, rows, dim);
    lcu_test_compare("add_bias 13x301", gm, m, rows * dim, 0.0);

    /* db accumulates: start from a nonzero bias gradient */
    const int64_t cr = 611, cd = 45;
    float *g = gauss(cr * cd, 1.0f), *acc = gauss(cd, 1.0f), *wacc = lcu_test_host<float>(cd);
    float *dg = lcu_test_upload(g, cr * cd), *dacc = lcu_test_upload(acc, cd);
    lcu_col_sum(0, dg, cr, cd, dacc);
    float *gacc = lcu_test_host<float>(cd);
    lcu_test_download(gacc, dacc, cd);
    for (int64_t j = 0; j < cd; j++) {
        double s = acc[j];
        for (int64_t i = 0; i < cr; i++) s += g[i * cd + j];
        wacc[j] = (float)s;
    }
    lcu_test_compare("col_sum 611x45 (+=)", gacc, wacc, cd, 1e-5);

    free(x), free(y), free(got), free(want), free(hb), free(bias), free(m), free(gm);
    free(g), free(acc), free(wacc), free(gacc);
    cudaFree(dx), cudaFree(dy), cudaFree(db), cudaFree(dm), cudaFree(dbias), cudaFree(dg), cudaFree(dacc);
}

static void test_rmsnorm_forward(int64_t n, int64_t dim) {
    const float eps = 1e-5f;
    float *x = gauss(n * dim, 2.0f), *w = gauss(dim, 1.0f), *want = lcu_test_host<float>(n * dim);
    float *got = lcu_test_host<float>(n * dim), *gotb = lcu_test_host<float>(n * dim);
    lcu_bf16 *hb = lcu_test_host<lcu_bf16>(n * dim);
    float *dx = lcu_test_upload(x, n * dim), *dw = lcu_test_upload(w, dim), *dout = lcu_test_alloc<float>(n * dim);
    lcu_bf16 *dob = lcu_test_alloc<lcu_bf16>(n * dim);
    lcu_rmsnorm(0, dx, dw, n, dim, eps, dob, dout);
    lcu_test_download(got, dout, n * dim);
    lcu_test_download(hb, dob, n * dim);
    lcu_test_bf16_to_f32(hb, gotb, n * dim);
    l4_rmsnorm(x, w, want, n, dim, eps);
    char what[64];
    snprintf(what, sizeof what, "rmsnorm %lldx%lld f32", (long long)n, (long long)dim);
    lcu_test_compare(what, got, want, n * dim, 1e-5);
    snprintf(what, sizeof what, "rmsnorm %lldx%lld bf16", (long long)n, (long long)dim);
    lcu_test_compare(what, gotb, want, n * dim, 8e-3);
    /* out_f32 NULL: the bf16 output alone */
    LCU_TRY(cudaMemset(dob, 0, (size_t)(n * dim) * sizeof(lcu_bf16)));
    lcu_rmsnorm(0, dx, dw, n, dim, eps, dob, NULL);
    lcu_test_download(hb, dob, n * dim);
    lcu_test_bf16_to_f32(hb, got, n * dim);
    snprintf(what, sizeof what, "rmsnorm %lldx%lld bf16 only", (long long)n, (long long)dim);
    lcu_test_compare(what, got, gotb, n * dim, 0.0);
    free(x), free(w), free(want), free(got), free(gotb), free(hb);
    cudaFree(dx), cudaFree(dw), cudaFree(dout), cudaFree(dob);
}

static void test_rmsnorm_backward(int64_t n, int64_t dim, int with_dw) {
    const float eps = 1e-6f;
    float *x = gauss(n * dim, 1.5f), *w = gauss(dim, 1.0f), *dy = gauss(n * dim, 1.0f);
    float *dx = gauss(n * dim, 0.5f), *dw = gauss(dim, 0.5f); /* both accumulate */
    float *d_x = lcu_test_upload(x, n * dim), *d_w = lcu_test_upload(w, dim), *d_dy = lcu_test_upload(dy, n * dim);
    float *d_dx = lcu_test_upload(dx, n * dim), *d_dw = lcu_test_upload(dw, dim);
    lcu_rmsnorm_backward(0, d_x, d_w, d_dy, n, dim, eps, d_dx, with_dw ? d_dw : NULL);
    float *gdx = lcu_test_host<float>(n * dim), *gdw = lcu_test_host<float>(dim);
    lcu_test_download(gdx, d_dx, n * dim);
    lcu_test_download(gdw, d_dw, dim);
    float *dw_before = lcu_test_host<float>(dim);
    memcpy(dw_before, dw, (size_t)dim * sizeof(float));
    l4_rmsnorm_backward(x, w, dy, dx, with_dw ? dw : NULL, n, dim, eps);
    char what[64];
    snprintf(what, sizeof what, "rmsnorm_backward %lldx%lld dx", (long long)n, (long long)dim);
    lcu_test_compare(what, gdx, dx, n * dim, 1e-5);
    snprintf(what, sizeof what, "rmsnorm_backward %lldx%lld dw%s", (long long)n, (long long)dim,
             with_dw ? "" : " (NULL: untouched)");
    lcu_test_compare(what, gdw, with_dw ? dw : dw_before, dim, with_dw ? 1e-5 : 0.0);
    free(x), free(w), free(dy), free(dx), free(dw), free(gdx), free(gdw), free(dw_before);
    cudaFree(d_x), cudaFree(d_w), cudaFree(d_dy), cudaFree(d_dx), cudaFree(d_dw);
}

static void test_rope(int neox, int n_rot) {
    const int64_t n = 7;
    const int n_heads = 3, head_dim = 20;
    const int64_t ld = n_heads * head_dim + 5; /* a row wider than its heads, like q inside qkv */
    float *x = gauss(n * ld, 1.0f), *cs = gauss(n * n_rot, 1.0f), *got = lcu_test_host<float>(n * ld);
    float *d_x = lcu_test_upload(x, n * ld), *d_cs = lcu_test_upload(cs, n * n_rot);
    l4_rope r;
    memset(&r, 0, sizeof r);
    r.n_rot = n_rot;
    r.neox = neox;
    char what[64];

    lcu_rope(0, d_x, n, ld, n_heads, head_dim, n_rot, neox, d_cs);
    lcu_test_download(got, d_x, n * ld);
    l4_rope_apply(&r, x, n, ld, n_heads, head_dim, cs);
    snprintf(what, sizeof what, "rope %s n_rot %d", neox ? "neox" : "norm", n_rot);
    lcu_test_compare(what, got, x, n * ld, 1e-6);

    lcu_rope_backward(0, d_x, n, ld, n_heads, head_dim, n_rot, neox, d_cs);
    lcu_test_download(got, d_x, n * ld);
    l4_rope_backward(&r, x, n, ld, n_heads, head_dim, cs);
    snprintf(what, sizeof what, "rope_backward %s n_rot %d", neox ? "neox" : "norm", n_rot);
    lcu_test_compare(what, got, x, n * ld, 1e-6);
    free(x), free(cs), free(got);
    cudaFree(d_x), cudaFree(d_cs);
}

static void test_swiglu(void) {
    const int64_t rows = 11, dim = 173, n = rows * dim;
    float *g = gauss(n, 3.0f), *u = gauss(n, 1.0f), *dh = gauss(n, 1.0f);
    float *d_g = lcu_test_upload(g, n), *d_u = lcu_test_upload(u, n), *d_dh = lcu_test_upload(dh, n);
    lcu_bf16 *d_out = lcu_test_alloc<lcu_bf16>(n), *hb = lcu_test_host<lcu_bf16>(n);
    float *got = lcu_test_host<float>(n), *want = lcu_test_host<float>(n);
    lcu_swiglu(0, d_g, d_u, n, d_out);
    lcu_test_download(hb, d_out, n);
    lcu_test_bf16_to_f32(hb, got, n);
    memcpy(want, g, (size_t)n * sizeof(float));
    l4_swiglu(want, u, rows, dim, 1);
    lcu_test_compare("swiglu 11x173 bf16", got, want, n, 8e-3);

    float *d_dg = lcu_test_alloc<float>(n), *d_du = lcu_test_alloc<float>(n);
    float *dg = lcu_test_host<float>(n), *du = lcu_test_host<float>(n), *gdu = lcu_test_host<float>(n);
    lcu_swiglu_backward(0, d_g, d_u, d_dh, n, d_dg, d_du);
    lcu_test_download(got, d_dg, n);
    lcu_test_download(gdu, d_du, n);
    l4_swiglu_backward(g, u, dh, dg, du, rows, dim, 1);
    lcu_test_compare("swiglu_backward dg", got, dg, n, 1e-5);
    lcu_test_compare("swiglu_backward du", gdu, du, n, 1e-5);
    free(g), free(u), free(dh), free(hb), free(got), free(want), free(dg), free(du), free(gdu);
    cudaFree(d_g), cudaFree(d_u), cudaFree(d_dh), cudaFree(d_out), cudaFree(d_dg), cudaFree(d_du);
}

static void test_dropout(float p, uint64_t key) {
    const int64_t n = 4099;
    float *x = gauss(n, 1.0f), *want = lcu_test_host<float>(n), *got = lcu_test_host<float>(n);
    lcu_bf16 *xb = lcu_test_host<lcu_bf16>(n), *hb = lcu_test_host<lcu_bf16>(n);
    for (int64_t i = 0; i < n; i++) { /* bf16 inputs, nonzero so that a zero output means dropped */
        if (x[i] == 0.0f) x[i] = 1.0f;
        xb[i] = __float2bfloat16(x[i]);
        x[i] = __bfloat162float(xb[i]);
    }
    lcu_bf16 *d_x = lcu_test_upload(xb, n), *d_out = lcu_test_alloc<lcu_bf16>(n);
    lcu_dropout(0, d_x, d_out, n, p, key);
    lcu_test_download(hb, d_out, n);
    l4_tr_dropout_forward(x, want, n, p, key, 1);
    int mask_diff = 0, value_diff = 0;
    int64_t kept = 0;
    for (int64_t i = 0; i < n; i++) {
        mask_diff += (hb[i].x == 0 || hb[i].x == 0x8000) != (want[i] == 0.0f);
        value_diff += hb[i].x != __float2bfloat16(want[i]).x;
        kept += want[i] != 0.0f;
    }
    printf("  dropout p %.2f: kept %lld of %lld, %d mask and %d value differences\n", p, (long long)kept,
           (long long)n, mask_diff, value_diff);
    QT_CHECK(mask_diff == 0 && value_diff == 0, "dropout p %.2f: the mask or values differ from the CPU's", p);

    float *dout = gauss(n, 1.0f), *dx = gauss(n, 1.0f); /* dx accumulates */
    float *d_dout = lcu_test_upload(dout, n), *d_dx = lcu_test_upload(dx, n);
    lcu_dropout_backward(0, d_dout, d_dx, n, p, key);
    lcu_test_download(got, d_dx, n);
    l4_tr_dropout_backward(dout, dx, n, p, key, 1);
    lcu_test_compare("dropout_backward (+=)", got, dx, n, 1e-6);
    free(x), free(want), free(got), free(xb), free(hb), free(dout), free(dx);
    cudaFree(d_x), cudaFree(d_out), cudaFree(d_dout), cudaFree(d_dx);
}

int main(void) {
    if (lcu_test_no_device()) return LCU_TEST_SKIP;
    qt_seed(20261128);
    test_elementwise();
    printf("rmsnorm\n");
    test_rmsnorm_forward(9, 203);
    test_rmsnorm_forward(3, 1000);
    test_rmsnorm_backward(17, 203, 1);
    test_rmsnorm_backward(5, 77, 0);
    test_rmsnorm_backward(1030, 24, 1);
    printf("rope\n");
    test_rope(0, 20);
    test_rope(1, 20);
    test_rope(0, 12);
    test_rope(1, 12);
    printf("swiglu\n");
    test_swiglu();
    printf("dropout\n");
    test_dropout(0.3f, l4_tr_dropout_key(0x1234abcdULL, 3, 2));
    test_dropout(0.05f, 0xfedcba9876543210ULL);
    return qt_finish("test_cuda_rowops");
}
