/* l4_swiglu_backward: finite-difference check of dg and du (L = sum(dh . silu(g) u)) with large
 * |g| (saturated sigmoid) included; in-place use (dg over g, du over u); agreement between the
 * SIMD levels (bound 1e-6: the vector exp is within a few ulp); several threads equal one. Bound
 * 2e-3 for the gradient check (f32 forward, step 1e-3). */
#include <string.h>

#include "grad_check.h"
#include "infer/ops.h"
#include "train/grad_ops.h"

#define N 3
#define DIM 45
#define BIG_N 64
#define BIG_DIM 300

typedef struct {
    float *g, *u, *dh, *out;
    int64_t n, dim;
} swiglu_ctx;

static double objective(void *p) {
    swiglu_ctx *c = p;
    memcpy(c->out, c->g, sizeof(float) * c->n * c->dim);
    l4_swiglu(c->out, c->u, c->n, c->dim, 1);
    return gc_dot(c->dh, c->out, c->n * c->dim);
}

int main(void) {
    qt_seed(13);
    swiglu_ctx c = {gc_gauss(N * DIM, 2.0f), gc_gauss(N * DIM, 1.0f), gc_gauss(N * DIM, 1.0f), gc_alloc(N * DIM), N, DIM};
    c.g[0] = 30.0f, c.g[1] = -30.0f, c.g[2] = 0.0f;
    float *dg = gc_alloc(N * DIM), *du = gc_alloc(N * DIM);
    l4_swiglu_backward(c.g, c.u, c.dh, dg, du, N, DIM, 1);
    double *num_g = gc_alloc_d(N * DIM), *num_u = gc_alloc_d(N * DIM);
    gc_numeric_grad(c.g, N * DIM, 1, 1e-3, objective, &c, num_g);
    gc_numeric_grad(c.u, N * DIM, 1, 1e-3, objective, &c, num_u);
    gc_compare("swiglu dg", dg, num_g, N * DIM, 1, 2e-3);
    gc_compare("swiglu du", du, num_u, N * DIM, 1, 2e-3);

    /* in place: the trainer may overwrite its saved g and u with their gradients */
    float *g2 = gc_alloc(N * DIM), *u2 = gc_alloc(N * DIM);
    memcpy(g2, c.g, sizeof(float) * N * DIM);
    memcpy(u2, c.u, sizeof(float) * N * DIM);
    l4_swiglu_backward(g2, u2, c.dh, g2, u2, N, DIM, 1);
    QT_CHECK(memcmp(g2, dg, sizeof(float) * N * DIM) == 0, "in-place dg differs");
    QT_CHECK(memcmp(u2, du, sizeof(float) * N * DIM) == 0, "in-place du differs");

    /* SIMD levels and threads on a shape big enough to run in parallel */
    const int64_t nb = BIG_N * BIG_DIM;
    float *g = gc_gauss(nb, 3.0f), *u = gc_gauss(nb, 1.0f), *d = gc_gauss(nb, 1.0f);
    float *ref_g = gc_alloc(nb), *ref_u = gc_alloc(nb), *got_g = gc_alloc(nb), *got_u = gc_alloc(nb);
    int32_t levels[3];
    const int n_levels = gc_simd_levels(levels);
    lora4j_simd_set(LORA4J_SIMD_SCALAR);
    l4_swiglu_backward(g, u, d, ref_g, ref_u, BIG_N, BIG_DIM, 1);
    for (int li = 1; li < n_levels; li++) {
        lora4j_simd_set(levels[li]);
        l4_swiglu_backward(g, u, d, got_g, got_u, BIG_N, BIG_DIM, 1);
        char what[64];
        snprintf(what, sizeof what, "swiglu dg, level %d vs scalar", levels[li]);
        gc_compare_f(what, got_g, ref_g, nb, 1e-6);
        snprintf(what, sizeof what, "swiglu du, level %d vs scalar", levels[li]);
        gc_compare_f(what, got_u, ref_u, nb, 1e-6);
    }
    lora4j_simd_set(levels[n_levels - 1]);
    l4_swiglu_backward(g, u, d, ref_g, ref_u, BIG_N, BIG_DIM, 1);
    l4_swiglu_backward(g, u, d, got_g, got_u, BIG_N, BIG_DIM, 2);
    QT_CHECK(memcmp(ref_g, got_g, sizeof(float) * nb) == 0 && memcmp(ref_u, got_u, sizeof(float) * nb) == 0,
             "two threads differ from one");

    free(c.g), free(c.u), free(c.dh), free(c.out), free(dg), free(du), free(num_g), free(num_u), free(g2), free(u2);
    free(g), free(u), free(d), free(ref_g), free(ref_u), free(got_g), free(got_u);
    return qt_finish("test_grad_swiglu");
}
