/* Optimizer updates against hand-computed 3-step trajectories, and against the documented
 * formulas evaluated in double on random vectors (bound 1e-6 of max(|p|, 1): the kernels run in
 * f32 like PyTorch's). l4_sum_squares: exact small case and a long sum that f32 accumulation
 * would get wrong in the 4th digit (bound 1e-9).
 * AdamW by hand (lr 0.1, betas 0.9/0.999, eps 1e-8, wd 0.01, p0 = 1, g = 0.5, -0.25, 0.1):
 *   step 1: m = 0.05, v = 2.5e-4, m^ = 0.5, v^ = 0.25, p = 1 - 0.1 (0.5/0.5 + 0.01) = 0.899
 *   step 2: m = 0.02, v = 3.1225e-4, m^ = 0.02/0.19, v^ = 3.1225e-4/0.001999, p = 0.8714673
 *   step 3: m = 0.028, v = 3.2193775e-4, p = 0.8390715
 * SGD by hand (lr 0.1, momentum 0.9, wd 0.1, same p0 and g):
 *   step 1: buf = 0.5 + 0.1 = 0.6, p = 0.94
 *   step 2: buf = 0.54 + (-0.25 + 0.094) = 0.384, p = 0.9016
 *   step 3: buf = 0.3456 + (0.1 + 0.09016) = 0.53576, p = 0.848024 */
#include <string.h>

#include "grad_check.h"
#include "train/grad_ops.h"

static const float hand_g[3] = {0.5f, -0.25f, 0.1f};

static void check_hand(void) {
    const double adamw_p[3] = {0.899, 0.8714673, 0.8390715};
    const double sgd_p[3] = {0.94, 0.9016, 0.848024};
    float p = 1.0f, m = 0.0f, v = 0.0f, q = 1.0f, buf = 0.0f;
    for (int t = 0; t < 3; t++) {
        l4_adamw_update(&p, &hand_g[t], &m, &v, 1, 0.1f, 0.9f, 0.999f, 1e-8f, 0.01f, t + 1);
        l4_sgd_update(&q, &hand_g[t], &buf, 1, 0.1f, 0.9f, 0.1f);
        QT_CHECK(fabs(p - adamw_p[t]) < 1e-6, "adamw step %d: %.8f, want %.7f", t + 1, p, adamw_p[t]);
        QT_CHECK(fabs(q - sgd_p[t]) < 1e-6, "sgd step %d: %.8f, want %.6f", t + 1, q, sgd_p[t]);
    }
}

static void check_random(void) {
    enum { N = 1000, STEPS = 3 };
    const float lr = 2e-3f, b1 = 0.8f, b2 = 0.95f, eps = 1e-6f, wd = 0.1f, mu = 0.5f;
    float *p = gc_gauss(N, 1.0f), *m = gc_alloc(N), *v = gc_alloc(N), *q = gc_alloc(N), *buf = gc_alloc(N);
    memcpy(q, p, sizeof(float) * N);
    double *rp = gc_alloc_d(N), *rm = gc_alloc_d(N), *rv = gc_alloc_d(N), *rq = gc_alloc_d(N), *rb = gc_alloc_d(N);
    for (int i = 0; i < N; i++) rp[i] = rq[i] = p[i];
    for (int t = 1; t <= STEPS; t++) {
        float *g = gc_gauss(N, 0.1f);
        l4_adamw_update(p, g, m, v, N, lr, b1, b2, eps, wd, t);
        l4_sgd_update(q, g, buf, N, lr, mu, wd);
        for (int i = 0; i < N; i++) {
            rm[i] = b1 * rm[i] + (1.0 - b1) * g[i];
            rv[i] = b2 * rv[i] + (1.0 - b2) * g[i] * g[i];
            const double mh = rm[i] / (1.0 - pow(b1, t)), vh = rv[i] / (1.0 - pow(b2, t));
            rp[i] -= lr * (mh / (sqrt(vh) + eps) + wd * rp[i]);
            rb[i] = mu * rb[i] + g[i] + wd * rq[i];
            rq[i] -= lr * rb[i];
        }
        free(g);
    }
    double ea = 0.0, es = 0.0;
    for (int i = 0; i < N; i++) {
        ea = fmax(ea, fabs(p[i] - rp[i]) / fmax(fabs(rp[i]), 1.0));
        es = fmax(es, fabs(q[i] - rq[i]) / fmax(fabs(rq[i]), 1.0));
    }
    printf("  adamw 3 steps vs double: err %.2e (bound 1e-6)\n  sgd   3 steps vs double: err %.2e (bound 1e-6)\n", ea, es);
    QT_CHECK(ea <= 1e-6, "adamw trajectory error %.3e", ea);
    QT_CHECK(es <= 1e-6, "sgd trajectory error %.3e", es);
    free(p), free(m), free(v), free(q), free(buf), free(rp), free(rm), free(rv), free(rq), free(rb);
}

static void check_sum_squares(void) {
    const float small[4] = {1.0f, 2.0f, 3.0f, -4.0f};
    QT_CHECK(l4_sum_squares(small, 4) == 30.0, "sum of squares of 1,2,3,-4");
    enum { N = 4000000 };
    float *x = gc_alloc(N);
    for (int i = 0; i < N; i++) x[i] = 0.1f;
    const double want = (double)N * (double)0.1f * (double)0.1f, got = l4_sum_squares(x, N);
    QT_CHECK(fabs(got - want) <= 1e-9 * want, "long sum of squares %.15g, want %.15g", got, want);
    free(x);
}

int main(void) {
    qt_seed(17);
    check_hand();
    check_random();
    check_sum_squares();
    return qt_finish("test_grad_optim");
}
