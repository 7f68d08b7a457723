/* The element-wise and row ops of the CUDA backend against the CPU engine, on random data of odd
 * sizes (rows and dims that are not multiples of the block sizes):
 *   - to_bf16, add, scale, add_bias: exact (one rounding, the same operations);
 *   - col_sum over more rows than one block's chunk: 1e-5 of the largest sum (f32 sums in another
 *     order);
 *   - rmsnorm: the f32 output 1e-5, the bf16 output 8e-3 (bf16 keeps 8 significant bits: its
 *     rounding is off by up to 2^-8 of a value); its backward with and without dw, for few rows
 *     (one a block) and many (several a block, dw's per-block sums): 1e-5;
 *   - rope and its backward, NORM and NEOX, partial rotation, rows wider than the heads: 1e-6
 *     (two products and a sum per value, which the GPU may fuse);
 *   - swiglu from f32 and from bf16 inputs (bf16 output 8e-3) and its backward from bf16 inputs
 *     to bf16 gradients in place of them (4e-3: one bf16 rounding, up to 2^-8 of a value);
 *   - dropout: the mask and the bf16 output exactly the CPU's; the backward 1e-6. */
#include <string.h>

#include <vector>

#include "lcu_test.h"
#include "ops/ops.h"

extern "C" {
#include "infer/ops.h"
#include "train/grad_ops.h"
#include "train/trainer.h"
}

typedef std::vector<float> fvec;

static unsigned seed = 1;

/* n uniform values in [-a, a), a fresh seed each call. */
static fvec rnd(size_t n, float a) { return lcu_test_rnd(n, seed++, a); }

static fvec download_bf16(const lcu_bf16 *d, size_t n) {
    const std::vector<lcu_bf16> b = lcu_test_fetch(d, n);
    fvec v(n);
    for (size_t i = 0; i < n; i++) v[i] = __bfloat162float(b[i]);
    return v;
}

static void test_elementwise(void) {
    printf("element-wise\n");
    const size_t n = 1237, rows = 13, dim = 301;
    fvec x = rnd(n, 3.0f), y = rnd(n, 1.0f), want(n);
    float *dx = lcu_test_upload(x.data(), n), *dy = lcu_test_upload(y.data(), n);
    lcu_bf16 *db = lcu_test_alloc<lcu_bf16>(n);

    lcu_to_bf16(0, dx, db, (int64_t)n);
    fvec got = download_bf16(db, n);
    for (size_t i = 0; i < n; i++) want[i] = __bfloat162float(__float2bfloat16(x[i]));
    lcu_test_compare("to_bf16", got.data(), want.data(), n, 0.0);

    lcu_add(0, dx, dy, (int64_t)n);
    lcu_scale(0, dx, -0.375f, (int64_t)n);
    got = lcu_test_fetch(dx, n);
    for (size_t i = 0; i < n; i++) want[i] = (x[i] + y[i]) * -0.375f;
    lcu_test_compare("add then scale", got.data(), want.data(), n, 0.0);

    fvec bias = rnd(dim, 1.0f), m = rnd(rows * dim, 1.0f);
    float *dm = lcu_test_upload(m.data(), rows * dim), *dbias = lcu_test_upload(bias.data(), dim);
    lcu_add_bias(0, dm, dbias, (int64_t)rows, (int64_t)dim);
    got = lcu_test_fetch(dm, rows * dim);
    l4_add_bias(m.data(), bias.data(), (int64_t)rows, (int64_t)dim);
    lcu_test_compare("add_bias 13x301", got.data(), m.data(), rows * dim, 0.0);

    /* db accumulates: start from a nonzero bias gradient */
    const size_t cr = 611, cd = 45;
    fvec g = rnd(cr * cd, 1.0f), acc = rnd(cd, 1.0f), wacc(cd);
    float *dg = lcu_test_upload(g.data(), cr * cd), *dacc = lcu_test_upload(acc.data(), cd);
    lcu_col_sum(0, dg, (int64_t)cr, (int64_t)cd, dacc);
    got = lcu_test_fetch(dacc, cd);
    for (size_t j = 0; j < cd; j++) {
        double s = acc[j];
        for (size_t i = 0; i < cr; i++) s += g[i * cd + j];
        wacc[j] = (float)s;
    }
    lcu_test_compare("col_sum 611x45 (+=)", got.data(), wacc.data(), cd, 1e-5);

    cudaFree(dx), cudaFree(dy), cudaFree(db), cudaFree(dm), cudaFree(dbias), cudaFree(dg), cudaFree(dacc);
}

static void test_rmsnorm_forward(size_t n, size_t dim) {
    const float eps = 1e-5f;
    fvec x = rnd(n * dim, 2.0f), w = rnd(dim, 1.5f), want(n * dim);
    float *dx = lcu_test_upload(x.data(), n * dim), *dw = lcu_test_upload(w.data(), dim);
    float *dout = lcu_test_alloc<float>(n * dim);
    lcu_bf16 *dob = lcu_test_alloc<lcu_bf16>(n * dim);
    lcu_rmsnorm(0, dx, dw, (int64_t)n, (int64_t)dim, eps, dob, dout);
    const fvec got = lcu_test_fetch(dout, n * dim), gotb = download_bf16(dob, n * dim);
    l4_rmsnorm(x.data(), w.data(), want.data(), (int64_t)n, (int64_t)dim, eps);
    char what[64];
    snprintf(what, sizeof what, "rmsnorm %zux%zu f32", n, dim);
    lcu_test_compare(what, got.data(), want.data(), n * dim, 1e-5);
    snprintf(what, sizeof what, "rmsnorm %zux%zu bf16", n, dim);
    lcu_test_compare(what, gotb.data(), want.data(), n * dim, 8e-3);
    /* out_f32 NULL: the same bf16 output alone */
    LCU_TEST_CUDA(cudaMemset(dob, 0, n * dim * sizeof(lcu_bf16)));
    lcu_rmsnorm(0, dx, dw, (int64_t)n, (int64_t)dim, eps, dob, NULL);
    const fvec gotb2 = download_bf16(dob, n * dim);
    snprintf(what, sizeof what, "rmsnorm %zux%zu bf16 alone", n, dim);
    lcu_test_compare(what, gotb2.data(), gotb.data(), n * dim, 0.0);
    cudaFree(dx), cudaFree(dw), cudaFree(dout), cudaFree(dob);
}

static void test_rmsnorm_backward(size_t n, size_t dim, int with_dw) {
    const float eps = 1e-6f;
    fvec x = rnd(n * dim, 1.5f), w = rnd(dim, 1.0f), dy = rnd(n * dim, 1.0f);
    fvec dx = rnd(n * dim, 0.5f), dw = rnd(dim, 0.5f); /* both accumulate */
    const fvec dw_before = dw;
    float *d_x = lcu_test_upload(x.data(), n * dim), *d_w = lcu_test_upload(w.data(), dim);
    float *d_dy = lcu_test_upload(dy.data(), n * dim), *d_dx = lcu_test_upload(dx.data(), n * dim);
    float *d_dw = lcu_test_upload(dw.data(), dim);
    lcu_rmsnorm_backward(0, d_x, d_w, d_dy, (int64_t)n, (int64_t)dim, eps, d_dx, with_dw ? d_dw : NULL);
    const fvec gdx = lcu_test_fetch(d_dx, n * dim), gdw = lcu_test_fetch(d_dw, dim);
    l4_rmsnorm_backward(x.data(), w.data(), dy.data(), dx.data(), with_dw ? dw.data() : NULL, (int64_t)n,
                        (int64_t)dim, eps);
    char what[64];
    snprintf(what, sizeof what, "rmsnorm_backward %zux%zu dx (+=)", n, dim);
    lcu_test_compare(what, gdx.data(), dx.data(), n * dim, 1e-5);
    snprintf(what, sizeof what, "rmsnorm_backward %zux%zu dw%s", n, dim, with_dw ? " (+=)" : " NULL: untouched");
    lcu_test_compare(what, gdw.data(), with_dw ? dw.data() : dw_before.data(), dim, with_dw ? 1e-5 : 0.0);
    cudaFree(d_x), cudaFree(d_w), cudaFree(d_dy), cudaFree(d_dx), cudaFree(d_dw);
}

static void test_rope(int neox, int n_rot) {
    const size_t n = 7;
    const int n_heads = 3, head_dim = 20;
    const size_t ld = n_heads * head_dim + 5; /* a row wider than its heads, like q inside qkv */
    fvec x = rnd(n * ld, 1.0f), cs = rnd(n * n_rot, 1.0f);
    float *d_x = lcu_test_upload(x.data(), n * ld), *d_cs = lcu_test_upload(cs.data(), n * n_rot);
    l4_rope r;
    memset(&r, 0, sizeof r);
    r.n_rot = n_rot;
    r.neox = neox;
    char what[64];

    lcu_rope(0, d_x, (int64_t)n, (int64_t)ld, n_heads, head_dim, n_rot, neox, d_cs);
    fvec got = lcu_test_fetch(d_x, n * ld);
    l4_rope_apply(&r, x.data(), (int64_t)n, (int64_t)ld, n_heads, head_dim, cs.data());
    snprintf(what, sizeof what, "rope %s n_rot %d", neox ? "neox" : "norm", n_rot);
    lcu_test_compare(what, got.data(), x.data(), n * ld, 1e-6);

    lcu_rope_backward(0, d_x, (int64_t)n, (int64_t)ld, n_heads, head_dim, n_rot, neox, d_cs);
    got = lcu_test_fetch(d_x, n * ld);
    l4_rope_backward(&r, x.data(), (int64_t)n, (int64_t)ld, n_heads, head_dim, cs.data());
    snprintf(what, sizeof what, "rope_backward %s n_rot %d", neox ? "neox" : "norm", n_rot);
    lcu_test_compare(what, got.data(), x.data(), n * ld, 1e-6);
    cudaFree(d_x), cudaFree(d_cs);
}

/* The trainer's swiglu reads bf16 g, u (the CPU reference the same rounded values), the
 * context's f32; the backward writes bf16 gradients in place of g, u, as the trainer calls it. */
static void test_swiglu(void) {
    const size_t rows = 11, dim = 173, n = rows * dim;
    fvec g = rnd(n, 6.0f), u = rnd(n, 2.0f), dh = rnd(n, 1.0f);
    float *d_g = lcu_test_upload(g.data(), n), *d_u = lcu_test_upload(u.data(), n);
    lcu_bf16 *d_out = lcu_test_alloc<lcu_bf16>(n);
    lcu_swiglu_f32(0, d_g, d_u, (int64_t)n, d_out);
    fvec got = download_bf16(d_out, n), want = g;
    l4_swiglu(want.data(), u.data(), (int64_t)rows, (int64_t)dim, 1);
    lcu_test_compare("swiglu_f32 11x173 bf16", got.data(), want.data(), n, 8e-3);

    std::vector<lcu_bf16> gb(n), ub(n);
    for (size_t i = 0; i < n; i++) {
        gb[i] = __float2bfloat16(g[i]), ub[i] = __float2bfloat16(u[i]);
        g[i] = __bfloat162float(gb[i]), u[i] = __bfloat162float(ub[i]);
    }
    lcu_bf16 *d_gb = lcu_test_upload(gb.data(), n), *d_ub = lcu_test_upload(ub.data(), n);
    lcu_swiglu(0, d_gb, d_ub, (int64_t)n, d_out);
    got = download_bf16(d_out, n), want = g;
    l4_swiglu(want.data(), u.data(), (int64_t)rows, (int64_t)dim, 1);
    lcu_test_compare("swiglu 11x173 bf16 in and out", got.data(), want.data(), n, 8e-3);

    float *d_dh = lcu_test_upload(dh.data(), n);
    fvec dg(n), du(n);
    lcu_swiglu_backward(0, d_gb, d_ub, d_dh, (int64_t)n, d_gb, d_ub);
    got = download_bf16(d_gb, n);
    const fvec gdu = download_bf16(d_ub, n);
    l4_swiglu_backward(g.data(), u.data(), dh.data(), dg.data(), du.data(), (int64_t)rows, (int64_t)dim, 1);
    lcu_test_compare("swiglu_backward dg bf16 (in place of g)", got.data(), dg.data(), n, 4e-3);
    lcu_test_compare("swiglu_backward du bf16 (in place of u)", gdu.data(), du.data(), n, 4e-3);
    cudaFree(d_g), cudaFree(d_u), cudaFree(d_gb), cudaFree(d_ub), cudaFree(d_dh), cudaFree(d_out);
}

static void test_dropout(float p, uint64_t key) {
    const size_t n = 4099;
    fvec x = rnd(n, 1.0f), want(n);
    std::vector<lcu_bf16> xb(n), gb(n);
    for (size_t i = 0; i < n; i++) { /* bf16 inputs, nonzero so that a zero output means dropped */
        if (x[i] == 0.0f) x[i] = 1.0f;
        xb[i] = __float2bfloat16(x[i]);
        x[i] = __bfloat162float(xb[i]);
    }
    lcu_bf16 *d_x = lcu_test_upload(xb.data(), n), *d_out = lcu_test_alloc<lcu_bf16>(n);
    lcu_dropout(0, d_x, d_out, (int64_t)n, p, key);
    lcu_test_sync();
    lcu_test_download(gb.data(), d_out, n);
    l4_tr_dropout_forward(x.data(), want.data(), (int64_t)n, p, key, 1);
    int mask_diff = 0, value_diff = 0, kept = 0;
    for (size_t i = 0; i < n; i++) {
        const lcu_bf16 wb = __float2bfloat16(want[i]);
        mask_diff += (__bfloat162float(gb[i]) == 0.0f) != (want[i] == 0.0f);
        value_diff += memcmp(&gb[i], &wb, sizeof wb) != 0;
        kept += want[i] != 0.0f;
    }
    printf("  dropout p %.2f: kept %d of %zu, %d mask and %d value differences\n", p, kept, n, mask_diff,
           value_diff);
    LCU_TEST_CHECK(mask_diff == 0 && value_diff == 0, "dropout p %.2f: the mask or values differ from the CPU's", p);

    fvec dout = rnd(n, 1.0f), dx = rnd(n, 1.0f); /* dx accumulates */
    float *d_dout = lcu_test_upload(dout.data(), n), *d_dx = lcu_test_upload(dx.data(), n);
    lcu_dropout_backward(0, d_dout, d_dx, (int64_t)n, p, key);
    const fvec got = lcu_test_fetch(d_dx, n);
    l4_tr_dropout_backward(dout.data(), dx.data(), (int64_t)n, p, key, 1);
    lcu_test_compare("dropout_backward (+=)", got.data(), dx.data(), n, 1e-6);
    cudaFree(d_x), cudaFree(d_out), cudaFree(d_dout), cudaFree(d_dx);
}

int main(void) {
    if (lcu_test_require_device()) return LCU_TEST_SKIP;
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
    return lcu_test_finish("test_cuda_rowops");
}
