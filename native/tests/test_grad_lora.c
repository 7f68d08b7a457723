/* LoRA forward/backward (y += s B A x). Forward against a double reference; finite-difference
 * check of dA, dB and dx (L = sum(dy . y), bilinear in A and B: step 1e-3, bound 2e-3) for r = 1
 * and r = 8 with n_out != n_in both ways; dx == NULL leaves dA and dB unchanged; a bigger shape
 * (300 tokens, 130 -> 70, r = 16) against a double reference with one and two threads at every
 * SIMD level (bound 1e-5). */
#include <string.h>

#include "grad_check.h"
#include "train/grad_ops.h"

typedef struct {
    float *a, *b, *x, *dy, *h, *y, *y0;
    int64_t r, n_in, n_out, n;
    float s;
} lora_ctx;

static double objective(void *p) {
    lora_ctx *c = p;
    memcpy(c->y, c->y0, sizeof(float) * c->n * c->n_out);
    l4_lora_forward(c->a, c->b, c->r, c->n_in, c->n_out, c->s, c->x, c->n, c->h, c->y, 1);
    return gc_dot(c->dy, c->y, c->n * c->n_out);
}

/* y0 + s B A x and the gradients of sum(dy . y), in double. */
static void reference(const lora_ctx *c, float *y, float *da, float *db, float *dx) {
    const int64_t r = c->r, n_in = c->n_in, n_out = c->n_out;
    double *h = calloc((size_t)r, sizeof(double)), *g = calloc((size_t)r, sizeof(double));
    memset(da, 0, sizeof(float) * r * n_in);
    memset(db, 0, sizeof(float) * n_out * r);
    for (int64_t t = 0; t < c->n; t++) {
        const float *xt = c->x + t * n_in, *dyt = c->dy + t * n_out;
        for (int64_t k = 0; k < r; k++) {
            h[k] = 0.0, g[k] = 0.0;
            for (int64_t i = 0; i < n_in; i++) h[k] += (double)c->a[k * n_in + i] * xt[i];
            for (int64_t o = 0; o < n_out; o++) g[k] += (double)c->s * c->b[o * r + k] * dyt[o];
        }
        for (int64_t o = 0; o < n_out; o++) {
            double v = c->y0[t * n_out + o];
            for (int64_t k = 0; k < r; k++) v += (double)c->s * c->b[o * r + k] * h[k];
            y[t * n_out + o] = (float)v;
            for (int64_t k = 0; k < r; k++) db[o * r + k] += (float)((double)c->s * dyt[o] * h[k]);
        }
        for (int64_t i = 0; i < n_in; i++) {
            double v = 0.0;
            for (int64_t k = 0; k < r; k++) {
                v += g[k] * c->a[k * n_in + i];
                da[k * n_in + i] += (float)(g[k] * xt[i]);
            }
            dx[t * n_in + i] = (float)v;
        }
    }
    free(h), free(g);
}

static lora_ctx make(int64_t r, int64_t n_in, int64_t n_out, int64_t n) {
    lora_ctx c = {gc_gauss(r * n_in, 0.5f), gc_gauss(n_out * r, 0.5f), gc_gauss(n * n_in, 1.0f), gc_gauss(n * n_out, 1.0f),
                  gc_alloc(n * r), gc_alloc(n * n_out), gc_gauss(n * n_out, 1.0f), r, n_in, n_out, n, 2.0f};
    return c;
}

static void release(lora_ctx *c) { free(c->a), free(c->b), free(c->x), free(c->dy), free(c->h), free(c->y), free(c->y0); }

static void check_fd(int64_t r, int64_t n_in, int64_t n_out) {
    const int64_t n = 7;
    lora_ctx c = make(r, n_in, n_out, n);
    float *da = gc_alloc(r * n_in), *db = gc_alloc(n_out * r), *dx = gc_alloc(n * n_in), *dh = gc_alloc(n * r);
    objective(&c); /* leaves h of the unperturbed forward */
    l4_lora_backward(c.a, c.b, r, n_in, n_out, c.s, c.x, c.h, c.dy, n, da, db, dx, dh, 1);
    double *num_a = gc_alloc_d(r * n_in), *num_b = gc_alloc_d(n_out * r), *num_x = gc_alloc_d(n * n_in);
    gc_numeric_grad(c.a, r * n_in, 1, 1e-3, objective, &c, num_a);
    gc_numeric_grad(c.b, n_out * r, 1, 1e-3, objective, &c, num_b);
    gc_numeric_grad(c.x, n * n_in, 1, 1e-3, objective, &c, num_x);
    char what[80];
    snprintf(what, sizeof what, "lora dA (r=%lld, %lld->%lld)", (long long)r, (long long)n_in, (long long)n_out);
    gc_compare(what, da, num_a, r * n_in, 1, 2e-3);
    snprintf(what, sizeof what, "lora dB (r=%lld, %lld->%lld)", (long long)r, (long long)n_in, (long long)n_out);
    gc_compare(what, db, num_b, n_out * r, 1, 2e-3);
    snprintf(what, sizeof what, "lora dx (r=%lld, %lld->%lld)", (long long)r, (long long)n_in, (long long)n_out);
    gc_compare(what, dx, num_x, n * n_in, 1, 2e-3);

    float *da2 = gc_alloc(r * n_in), *db2 = gc_alloc(n_out * r);
    objective(&c); /* h again: the differences left a perturbed one */
    l4_lora_backward(c.a, c.b, r, n_in, n_out, c.s, c.x, c.h, c.dy, n, da2, db2, NULL, dh, 1);
    QT_CHECK(memcmp(da, da2, sizeof(float) * r * n_in) == 0 && memcmp(db, db2, sizeof(float) * n_out * r) == 0,
             "dx == NULL changed dA or dB");
    release(&c);
    free(da), free(db), free(dx), free(dh), free(num_a), free(num_b), free(num_x), free(da2), free(db2);
}

static void check_reference(void) {
    const int64_t r = 16, n_in = 130, n_out = 70, n = 300;
    lora_ctx c = make(r, n_in, n_out, n);
    float *ry = gc_alloc(n * n_out), *rda = gc_alloc(r * n_in), *rdb = gc_alloc(n_out * r), *rdx = gc_alloc(n * n_in);
    reference(&c, ry, rda, rdb, rdx);
    float *da = gc_alloc(r * n_in), *db = gc_alloc(n_out * r), *dx = gc_alloc(n * n_in), *dh = gc_alloc(n * r);
    int32_t levels[3];
    const int n_levels = gc_simd_levels(levels);
    for (int li = 0; li < n_levels; li++) {
        lora4j_simd_set(levels[li]);
        for (int nth = 1; nth <= 2; nth++) {
            memcpy(c.y, c.y0, sizeof(float) * n * n_out);
            l4_lora_forward(c.a, c.b, r, n_in, n_out, c.s, c.x, n, c.h, c.y, nth);
            memset(da, 0, sizeof(float) * r * n_in), memset(db, 0, sizeof(float) * n_out * r);
            memset(dx, 0, sizeof(float) * n * n_in);
            l4_lora_backward(c.a, c.b, r, n_in, n_out, c.s, c.x, c.h, c.dy, n, da, db, dx, dh, nth);
            char what[80];
            snprintf(what, sizeof what, "lora y  vs double (level %d, %d thr)", levels[li], nth);
            gc_compare_f(what, c.y, ry, n * n_out, 1e-5);
            snprintf(what, sizeof what, "lora dA vs double (level %d, %d thr)", levels[li], nth);
            gc_compare_f(what, da, rda, r * n_in, 1e-5);
            snprintf(what, sizeof what, "lora dB vs double (level %d, %d thr)", levels[li], nth);
            gc_compare_f(what, db, rdb, n_out * r, 1e-5);
            snprintf(what, sizeof what, "lora dx vs double (level %d, %d thr)", levels[li], nth);
            gc_compare_f(what, dx, rdx, n * n_in, 1e-5);
        }
    }
    release(&c);
    free(ry), free(rda), free(rdb), free(rdx), free(da), free(db), free(dx), free(dh);
}

int main(void) {
    qt_seed(16);
    check_fd(1, 20, 12);
    check_fd(8, 20, 12);
    check_fd(8, 12, 33);
    check_reference();
    return qt_finish("test_grad_lora");
}
