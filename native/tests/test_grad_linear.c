/* Linear backward. l4_linear_backward_x through F32, Q8_0, Q4_0 and Q4_K weights equals the
 * product with the dequantized weights in f32 (bound 1e-6 of the largest component) and a
 * double reference (bound 1e-5), accumulating into dx. Finite-difference check of both kernels
 * against the exact forward l4_matmul (linear maps, exact for any step but for f32 rounding:
 * step 1e-1, bound 1e-4). l4_linear_backward_w against a double reference on shapes that are
 * not multiples of any tile (100 x 70, 300 tokens: k spans three blocks), one and two threads,
 * every SIMD level (bound 1e-5). */
#include <string.h>

#include "grad_check.h"
#include "quant/quant.h"
#include "train/grad_ops.h"

typedef struct {
    l4_matrix w;
    float *x, *dy, *y;
    int64_t n;
} lin_ctx;

static double objective(void *p) {
    lin_ctx *c = p;
    l4_matmul(c->w.type, c->w.data, c->w.n_out, c->w.n_in, c->x, c->w.n_in, c->n, c->y, c->w.n_out, 1, 1);
    return gc_dot(c->dy, c->y, c->n * c->w.n_out);
}

static void check_backward_x(int32_t type) {
    const int64_t n_out = 40, n_in = 512, n = 7;
    const int64_t rb = lora4j_row_bytes(type, n_in);
    float *src = gc_gauss(n_out * n_in, 0.5f), *wf = gc_alloc(n_out * n_in);
    uint8_t *wq = malloc((size_t)(rb * n_out));
    QT_CHECK(lora4j_quantize(type, src, n_out, n_in, wq, (size_t)(rb * n_out)) == LORA4J_OK, "quantize");
    QT_CHECK(lora4j_dequantize(type, wq, (size_t)(rb * n_out), wf, n_out * n_in) == LORA4J_OK, "dequantize");
    const l4_matrix wm = {type, n_in, n_out, wq}, wm_f32 = {LORA4J_TYPE_F32, n_in, n_out, wf};
    float *dy = gc_gauss(n * n_out, 1.0f), *dx0 = gc_gauss(n * n_in, 1.0f);
    float *dx = gc_alloc(n * n_in), *dx_f32 = gc_alloc(n * n_in), *ref = gc_alloc(n * n_in);
    memcpy(dx, dx0, sizeof(float) * n * n_in);
    memcpy(dx_f32, dx0, sizeof(float) * n * n_in);
    l4_linear_backward_x(&wm, dy, n, dx, 2);
    l4_linear_backward_x(&wm_f32, dy, n, dx_f32, 1);
    for (int64_t t = 0; t < n; t++)
        for (int64_t i = 0; i < n_in; i++) {
            double s = dx0[t * n_in + i];
            for (int64_t o = 0; o < n_out; o++) s += (double)wf[o * n_in + i] * dy[t * n_out + o];
            ref[t * n_in + i] = (float)s;
        }
    char what[80];
    snprintf(what, sizeof what, "backward_x %s vs f32 dequantized", lora4j_type_name(type));
    gc_compare_f(what, dx, dx_f32, n * n_in, 1e-6);
    snprintf(what, sizeof what, "backward_x %s vs double", lora4j_type_name(type));
    gc_compare_f(what, dx, ref, n * n_in, 1e-5);

    /* finite differences on the first two tokens' inputs through the exact forward */
    lin_ctx c = {wm, gc_gauss(n * n_in, 1.0f), dy, gc_alloc(n * n_out), n};
    float *grad = gc_alloc(n * n_in);
    l4_linear_backward_x(&wm, dy, n, grad, 1);
    double *num = gc_alloc_d(n * n_in);
    gc_numeric_grad(c.x, 2 * n_in, 1, 1e-1, objective, &c, num);
    snprintf(what, sizeof what, "backward_x %s finite differences", lora4j_type_name(type));
    gc_compare(what, grad, num, 2 * n_in, 1, 1e-4);
    free(src), free(wf), free(wq), free(dy), free(dx0), free(dx), free(dx_f32), free(ref), free(c.x), free(c.y);
    free(grad), free(num);
}

static void check_backward_w_fd(void) {
    const int64_t n_out = 13, n_in = 9, n = 5;
    float *w = gc_gauss(n_out * n_in, 1.0f);
    lin_ctx c = {{LORA4J_TYPE_F32, n_in, n_out, w}, gc_gauss(n * n_in, 1.0f), gc_gauss(n * n_out, 1.0f),
                 gc_alloc(n * n_out), n};
    float *dw = gc_alloc(n_out * n_in);
    l4_linear_backward_w(c.x, c.dy, n, n_in, n_out, dw, 1);
    double *num = gc_alloc_d(n_out * n_in);
    gc_numeric_grad(w, n_out * n_in, 1, 1e-1, objective, &c, num);
    gc_compare("backward_w finite differences", dw, num, n_out * n_in, 1, 1e-4);
    free(w), free(c.x), free(c.dy), free(c.y), free(dw), free(num);
}

static void check_backward_w_ref(void) {
    const int64_t n_out = 100, n_in = 70, n = 300;
    float *x = gc_gauss(n * n_in, 1.0f), *dy = gc_gauss(n * n_out, 1.0f), *dw0 = gc_gauss(n_out * n_in, 1.0f);
    float *ref = gc_alloc(n_out * n_in), *dw = gc_alloc(n_out * n_in);
    for (int64_t o = 0; o < n_out; o++)
        for (int64_t i = 0; i < n_in; i++) {
            double s = dw0[o * n_in + i];
            for (int64_t t = 0; t < n; t++) s += (double)dy[t * n_out + o] * x[t * n_in + i];
            ref[o * n_in + i] = (float)s;
        }
    int32_t levels[3];
    const int n_levels = gc_simd_levels(levels);
    for (int li = 0; li < n_levels; li++) {
        lora4j_simd_set(levels[li]);
        for (int nth = 1; nth <= 2; nth++) {
            memcpy(dw, dw0, sizeof(float) * n_out * n_in);
            l4_linear_backward_w(x, dy, n, n_in, n_out, dw, nth);
            char what[80];
            snprintf(what, sizeof what, "backward_w vs double (level %d, %d thr)", levels[li], nth);
            gc_compare_f(what, dw, ref, n_out * n_in, 1e-5);
        }
    }
    free(x), free(dy), free(dw0), free(ref), free(dw);
}

int main(void) {
    qt_seed(15);
    const int32_t types[] = {LORA4J_TYPE_F32, LORA4J_TYPE_Q8_0, LORA4J_TYPE_Q4_0, LORA4J_TYPE_Q4_K};
    for (int i = 0; i < 4; i++) check_backward_x(types[i]);
    check_backward_w_fd();
    check_backward_w_ref();
    return qt_finish("test_grad_linear");
}
