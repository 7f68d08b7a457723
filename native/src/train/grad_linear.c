/* Backward of y = W x: dX through a frozen weight of any type (the quantization layer's
 * transposed product on exactly dequantized tiles), and dW for f32 weights (full fine-tuning)
 * as a GEMM whose output rows are split among threads. */
#include "core/threadpool.h"
#include "quant/quant.h"
#include "train/grad_gemm.h"
#include "train/grad_ops.h"

void l4_linear_backward_x(const l4_matrix *w, const float *dy, int64_t n, float *dx, int n_threads) {
    l4_matmul_t_acc(w->type, w->data, w->n_out, w->n_in, dy, w->n_out, n, dx, w->n_in, n_threads);
}

/* Rows of dW are handed out in multiples of this (every micro-kernel height divides it). */
#define ROW_UNIT 48
/* Rows of dW per GEMM call: their dW rows and dY columns stay in L2 while all of x streams by. */
#define ROW_PIECE 192

typedef struct wgrad_job {
    const float *x, *dy;
    int64_t n, n_in, n_out;
    float *dw;
} wgrad_job;

static void wgrad_task(void *arg, int ith, int nth) {
    const wgrad_job *j = arg;
    int64_t u0, u1;
    l4_split((j->n_out + ROW_UNIT - 1) / ROW_UNIT, ith, nth, &u0, &u1);
    const int64_t o0 = u0 * ROW_UNIT, o1 = u1 * ROW_UNIT < j->n_out ? u1 * ROW_UNIT : j->n_out;
    /* dW[o][i] += sum_t dy[t][o] x[t][i]: A(o,t) = dy[t*n_out + o], B(t,i) = x[t*n_in + i] */
    for (int64_t o = o0; o < o1; o += ROW_PIECE) {
        const int64_t m = o1 - o < ROW_PIECE ? o1 - o : ROW_PIECE;
        l4_grad_gemm(m, j->n_in, j->n, 1.0f, j->dy + o, 1, j->n_out, j->x, j->n_in, 1, j->dw + o * j->n_in, j->n_in, 1);
    }
}

void l4_linear_backward_w(const float *x, const float *dy, int64_t n, int64_t n_in, int64_t n_out,
                          float *dw, int n_threads) {
    wgrad_job job = {x, dy, n, n_in, n_out, dw};
    const int64_t units = (n_out + ROW_UNIT - 1) / ROW_UNIT;
    int nth = n_threads > 0 ? n_threads : l4_n_cores();
    if (nth > units) nth = (int)units;
    if (nth <= 1) wgrad_task(&job, 0, 1);
    else l4_parallel(wgrad_task, &job, nth);
}
