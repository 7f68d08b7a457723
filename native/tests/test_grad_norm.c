/* l4_rmsnorm_backward: finite-difference check of dx and dw (L = sum(dout . rmsnorm(x) w)),
 * accumulation into existing gradients, and dw == NULL. Rows of 37 (not a multiple of 8) so the
 * forward's SIMD tail runs. Bound 2e-3: the objective sums ~200 f32 outputs, whose rounding
 * (~1e-7 each) over a step of 1e-3 gives errors near 1e-4 of the largest component. */
#include <string.h>

#include "grad_check.h"
#include "infer/ops.h"
#include "train/grad_ops.h"

#define N 5
#define DIM 37
#define EPS 1e-5f

typedef struct {
    float *x, *w, *dout, *out;
} norm_ctx;

static double objective(void *p) {
    norm_ctx *c = p;
    l4_rmsnorm(c->x, c->w, c->out, N, DIM, EPS);
    return gc_dot(c->dout, c->out, N * DIM);
}

int main(void) {
    qt_seed(11);
    norm_ctx c = {gc_gauss(N * DIM, 1.0f), gc_gauss(DIM, 0.5f), gc_gauss(N * DIM, 1.0f), gc_alloc(N * DIM)};
    for (int j = 0; j < DIM; j++) c.w[j] += 1.0f;
    for (int j = 0; j < DIM; j++) c.x[j] *= 30.0f; /* one row far from unit scale */

    float *dx = gc_gauss(N * DIM, 1.0f), *dw = gc_gauss(DIM, 1.0f);
    float *dx0 = gc_alloc(N * DIM), *dw0 = gc_alloc(DIM);
    memcpy(dx0, dx, sizeof(float) * N * DIM);
    memcpy(dw0, dw, sizeof(float) * DIM);
    l4_rmsnorm_backward(c.x, c.w, c.dout, dx, dw, N, DIM, EPS);
    for (int i = 0; i < N * DIM; i++) dx[i] -= dx0[i]; /* the kernel accumulates */
    for (int i = 0; i < DIM; i++) dw[i] -= dw0[i];

    double *num_x = gc_alloc_d(N * DIM), *num_w = gc_alloc_d(DIM);
    gc_numeric_grad(c.x, N * DIM, 1, 1e-3, objective, &c, num_x);
    gc_numeric_grad(c.w, DIM, 1, 1e-3, objective, &c, num_w);
    gc_compare("rmsnorm dx", dx, num_x, N * DIM, 1, 2e-3);
    gc_compare("rmsnorm dw", dw, num_w, DIM, 1, 2e-3);

    float *dx_only = gc_alloc(N * DIM);
    l4_rmsnorm_backward(c.x, c.w, c.dout, dx_only, NULL, N, DIM, EPS);
    gc_compare_f("rmsnorm dx without dw", dx_only, dx, N * DIM, 1e-6);

    free(c.x), free(c.w), free(c.dout), free(c.out), free(dx), free(dw), free(dx0), free(dw0);
    free(num_x), free(num_w), free(dx_only);
    return qt_finish("test_grad_norm");
}
