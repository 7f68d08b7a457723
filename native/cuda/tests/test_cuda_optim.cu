/* The optimizer's device ops against the CPU engine (train/grad_optim.c):
 *   - AdamW and SGD over several steps, with weight decay and a gradient scale (the CPU scales the
 *     gradient in place first, as trainer_optimizer_step does): bit for bit, since both do the
 *     same f32 operations in the same order (the kernels use unfused round-to-nearest products);
 *   - the sum of squares in double, accumulated onto a nonzero value: 1e-12 relative (the same
 *     double products, summed in another order);
 *   - the finite check: clean data leave the flag 0; an inf at the end, a NaN at the start set it. */
#include <vector>

#include "lcu_test.h"
#include "ops/ops.h"

extern "C" {
#include "train/grad_ops.h"
}

typedef std::vector<float> fvec;


static void scale(fvec &g, float s) {
    for (float &x : g) x *= s;
}

static void test_adamw(void) {
    const size_t n = 1001;
    const float lr = 2e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.01f, gscale = 0.7f;
    fvec p(n), m(n), v(n);
    lcu_test_fill(p.data(), n, 11, -1.0f, 1.0f);
    float *d_p = lcu_test_upload(p.data(), n), *d_m = lcu_test_alloc<float>(n), *d_v = lcu_test_alloc<float>(n);
    float *d_g = lcu_test_alloc<float>(n);
    for (int64_t step = 1; step <= 4; step++) {
        fvec g(n);
        lcu_test_fill(g.data(), n, 20 + (unsigned)step, -0.1f, 0.1f);
        LCU_TEST_CUDA(cudaMemcpy(d_g, g.data(), n * sizeof(float), cudaMemcpyHostToDevice));
        const float gs = step == 3 ? 1.0f : gscale;
        lcu_adamw(0, d_p, d_g, d_m, d_v, (int64_t)n, lr, b1, b2, eps, wd, step, gs);
        scale(g, gs);
        l4_adamw_update(p.data(), g.data(), m.data(), v.data(), (int64_t)n, lr, b1, b2, eps, wd, step);
        char what[64];
        snprintf(what, sizeof what, "adamw step %lld p", (long long)step);
        lcu_test_compare(what, lcu_test_fetch(d_p, n).data(), p.data(), n, 0.0);
        snprintf(what, sizeof what, "adamw step %lld m", (long long)step);
        lcu_test_compare(what, lcu_test_fetch(d_m, n).data(), m.data(), n, 0.0);
        snprintf(what, sizeof what, "adamw step %lld v", (long long)step);
        lcu_test_compare(what, lcu_test_fetch(d_v, n).data(), v.data(), n, 0.0);
    }
    cudaFree(d_p), cudaFree(d_m), cudaFree(d_v), cudaFree(d_g);
}

static void test_sgd(void) {
    const size_t n = 777;
    const float lr = 0.05f, momentum = 0.9f, wd = 0.02f, gscale = 1.3f;
    fvec p(n), buf(n);
    lcu_test_fill(p.data(), n, 31, -1.0f, 1.0f);
    float *d_p = lcu_test_upload(p.data(), n), *d_buf = lcu_test_alloc<float>(n), *d_g = lcu_test_alloc<float>(n);
    for (int step = 1; step <= 3; step++) {
        fvec g(n);
        lcu_test_fill(g.data(), n, 40 + (unsigned)step, -0.5f, 0.5f);
        LCU_TEST_CUDA(cudaMemcpy(d_g, g.data(), n * sizeof(float), cudaMemcpyHostToDevice));
        lcu_sgd(0, d_p, d_g, d_buf, (int64_t)n, lr, momentum, wd, gscale);
        scale(g, gscale);
        l4_sgd_update(p.data(), g.data(), buf.data(), (int64_t)n, lr, momentum, wd);
        char what[64];
        snprintf(what, sizeof what, "sgd step %d p", step);
        lcu_test_compare(what, lcu_test_fetch(d_p, n).data(), p.data(), n, 0.0);
        snprintf(what, sizeof what, "sgd step %d buf", step);
        lcu_test_compare(what, lcu_test_fetch(d_buf, n).data(), buf.data(), n, 0.0);
    }
    cudaFree(d_p), cudaFree(d_buf), cudaFree(d_g);
}

static void test_sum_squares_and_finite(void) {
    const size_t n = 100003;
    fvec x(n);
    lcu_test_fill(x.data(), n, 51, -3.0f, 3.0f);
    float *d_x = lcu_test_upload(x.data(), n);
    const double start = 1.5;
    double *d_acc = lcu_test_upload(&start, 1);
    lcu_sum_squares(0, d_x, (int64_t)n, d_acc);
    double got = 0.0;
    lcu_test_sync();
    lcu_test_download(&got, d_acc, 1);
    const double want = start + l4_sum_squares(x.data(), (int64_t)n);
    const double rel = fabs(got - want) / want;
    printf("  %-46s err %.2e (bound 1e-12)\n", "sum_squares of 100003 (+= 1.5)", rel);
    LCU_TEST_CHECK(rel <= 1e-12, "sum_squares %.17g, CPU %.17g", got, want);

    int32_t *d_flag = lcu_test_alloc<int32_t>(1);
    int32_t flag = -1;
    lcu_check_finite(0, d_x, (int64_t)n, d_flag);
    lcu_test_sync();
    lcu_test_download(&flag, d_flag, 1);
    LCU_TEST_CHECK(flag == 0, "check_finite flagged finite data (%d)", flag);
    const float bad[2] = {INFINITY, NAN};
    const size_t at[2] = {n - 1, 0};
    for (int k = 0; k < 2; k++) {
        fvec y = x;
        y[at[k]] = bad[k];
        LCU_TEST_CUDA(cudaMemcpy(d_x, y.data(), n * sizeof(float), cudaMemcpyHostToDevice));
        LCU_TEST_CUDA(cudaMemset(d_flag, 0, sizeof(int32_t)));
        lcu_check_finite(0, d_x, (int64_t)n, d_flag);
        lcu_test_sync();
        lcu_test_download(&flag, d_flag, 1);
        LCU_TEST_CHECK(flag == 1, "check_finite missed %s at %zu (flag %d)", k ? "NaN" : "inf", at[k], flag);
    }
    printf("  check_finite: clean 0, inf and NaN flagged\n");
    cudaFree(d_x), cudaFree(d_acc), cudaFree(d_flag);
}

int main(void) {
    if (lcu_test_require_device()) return LCU_TEST_SKIP;
    printf("adamw\n");
    test_adamw();
    printf("sgd\n");
    test_sgd();
    printf("sum of squares, finite check\n");
    test_sum_squares_and_finite();
    return lcu_test_finish("test_cuda_optim");
}
