/* SwiGLU backward over rows, split across threads like the forward. */
#include "core/threadpool.h"
#include "train/grad_kernels.h"
#include "train/grad_ops.h"

/* Below this many elements a thread hand-off costs more than it saves. */
#define SWIGLU_PARALLEL_MIN 16384

typedef struct swiglu_bwd_job {
    const float *g, *u, *dh;
    float *dg, *du;
    int64_t n, dim;
} swiglu_bwd_job;

static void swiglu_bwd_task(void *arg, int ith, int nth) {
    const swiglu_bwd_job *j = arg;
    int64_t b, e;
    l4_split(j->n, ith, nth, &b, &e);
    const int64_t o = b * j->dim, len = (e - b) * j->dim; /* rows are contiguous: one long row */
    if (len > 0) l4_grad_swiglu_row(j->g + o, j->u + o, j->dh + o, j->dg + o, j->du + o, len);
}

void l4_swiglu_backward(const float *g, const float *u, const float *dh, float *dg, float *du,
                        int64_t n, int64_t dim, int n_threads) {
    swiglu_bwd_job job = {g, u, dh, dg, du, n, dim};
    if (n < 2 || n * dim < SWIGLU_PARALLEL_MIN || n_threads == 1) swiglu_bwd_task(&job, 0, 1);
    else l4_parallel(swiglu_bwd_task, &job, n_threads);
}
