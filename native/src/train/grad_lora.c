/* LoRA forward and backward, y += s B (A x) with A: [r][n_in], B: [n_out][r]. Every product is
 * a small GEMM (r <= 64): token-major ones (h, y, dh, dx) split tokens among threads; the
 * weight gradients split dB's rows and dA's columns, so no two threads write the same value. */
#include "core/threadpool.h"
#include "train/grad_gemm.h"
#include "train/grad_ops.h"

/* Work (multiply-adds) below which a thread hand-off costs more than it saves. */
#define LORA_PARALLEL_MIN 65536
#define TOKEN_UNIT 12 /* tokens per share unit: a multiple of every micro-kernel height */
#define ROW_UNIT 48   /* rows of dB per share unit */
#define COL_UNIT 16   /* columns of dA per share unit: one micro-kernel panel */

typedef struct lora_job {
    const float *a, *b;
    int64_t r, n_in, n_out;
    float s;
    const float *x, *h, *dy;
    int64_t n;
    float *hw, *y;            /* forward outputs */
    float *da, *db, *dx, *dh; /* backward outputs */
} lora_job;

static void share(int64_t n, int64_t unit, int ith, int nth, int64_t *b, int64_t *e) {
    int64_t u0, u1;
    l4_split((n + unit - 1) / unit, ith, nth, &u0, &u1);
    *b = u0 * unit < n ? u0 * unit : n;
    *e = u1 * unit < n ? u1 * unit : n;
}

static int thread_count(int n_threads, int64_t work) {
    if (work < LORA_PARALLEL_MIN) return 1;
    return n_threads > 0 ? n_threads : l4_n_cores();
}

static void forward_task(void *arg, int ith, int nth) {
    const lora_job *j = arg;
    int64_t t0, t1;
    share(j->n, TOKEN_UNIT, ith, nth, &t0, &t1);
    if (t1 <= t0) return;
    /* h = x A^T: B(i,k) = A[k][i] */
    l4_grad_gemm(t1 - t0, j->r, j->n_in, 1.0f, j->x + t0 * j->n_in, j->n_in, 1, j->a, 1, j->n_in,
                 j->hw + t0 * j->r, j->r, 0);
    /* y += s h B^T: B(k,o) = B[o][k] */
    l4_grad_gemm(t1 - t0, j->n_out, j->r, j->s, j->hw + t0 * j->r, j->r, 1, j->b, 1, j->r,
                 j->y + t0 * j->n_out, j->n_out, 1);
}

void l4_lora_forward(const float *a, const float *b, int64_t r, int64_t n_in, int64_t n_out, float s,
                     const float *x, int64_t n, float *h, float *y, int n_threads) {
    lora_job job = {.a = a, .b = b, .r = r, .n_in = n_in, .n_out = n_out, .s = s, .x = x, .n = n, .hw = h, .y = y};
    l4_parallel(forward_task, &job, thread_count(n_threads, n * r * (n_in + n_out)));
}

/* dh = s dy B and dx += dh A, for this thread's tokens. */
static void backward_tokens_task(void *arg, int ith, int nth) {
    const lora_job *j = arg;
    int64_t t0, t1;
    share(j->n, TOKEN_UNIT, ith, nth, &t0, &t1);
    if (t1 <= t0) return;
    l4_grad_gemm(t1 - t0, j->r, j->n_out, j->s, j->dy + t0 * j->n_out, j->n_out, 1, j->b, j->r, 1,
                 j->dh + t0 * j->r, j->r, 0);
    if (j->dx)
        l4_grad_gemm(t1 - t0, j->n_in, j->r, 1.0f, j->dh + t0 * j->r, j->r, 1, j->a, j->n_in, 1,
                     j->dx + t0 * j->n_in, j->n_in, 1);
}

/* dB += s dy^T h over this thread's rows of dB; dA += dh^T x over its columns of dA. */
static void backward_weights_task(void *arg, int ith, int nth) {
    const lora_job *j = arg;
    int64_t o0, o1, i0, i1;
    share(j->n_out, ROW_UNIT, ith, nth, &o0, &o1);
    if (o1 > o0)
        l4_grad_gemm(o1 - o0, j->r, j->n, j->s, j->dy + o0, 1, j->n_out, j->h, j->r, 1, j->db + o0 * j->r,
                     j->r, 1);
    share(j->n_in, COL_UNIT, ith, nth, &i0, &i1);
    if (i1 > i0)
        l4_grad_gemm(j->r, i1 - i0, j->n, 1.0f, j->dh, 1, j->r, j->x + i0, j->n_in, 1, j->da + i0, j->n_in, 1);
}

void l4_lora_backward(const float *a, const float *b, int64_t r, int64_t n_in, int64_t n_out, float s,
                      const float *x, const float *h, const float *dy, int64_t n, float *da, float *db,
                      float *dx, float *dh_scratch, int n_threads) {
    lora_job job = {.a = a, .b = b, .r = r, .n_in = n_in, .n_out = n_out, .s = s, .x = x, .h = h, .dy = dy,
                    .n = n, .da = da, .db = db, .dx = dx, .dh = dh_scratch};
    const int nth = thread_count(n_threads, n * r * (n_in + n_out));
    l4_parallel(backward_tokens_task, &job, nth);
    l4_parallel(backward_weights_task, &job, nth);
}
