/* SwiGLU gating of the feed-forward block, rows split across threads for prompts. */
#include "core/threadpool.h"
#include "infer/kernels.h"
#include "infer/ops.h"

/* Below this many elements a thread hand-off costs more than it saves. */
#define SWIGLU_PARALLEL_MIN 16384

typedef struct swiglu_job {
    float *gate;
    const float *up;
    int64_t n, dim;
} swiglu_job;

static void swiglu_task(void *arg, int ith, int nth) {
    const swiglu_job *j = arg;
    int64_t b, e;
    l4_split(j->n, ith, nth, &b, &e);
    for (int64_t i = b; i < e; i++) l4_swiglu_row(j->gate + i * j->dim, j->up + i * j->dim, j->dim);
}

void l4_swiglu(float *gate, const float *up, int64_t n, int64_t dim, int n_threads) {
    swiglu_job job = {gate, up, n, dim};
    if (n < 2 || n * dim < SWIGLU_PARALLEL_MIN || n_threads < 2) swiglu_task(&job, 0, 1);
    else l4_parallel(swiglu_task, &job, n_threads);
}
