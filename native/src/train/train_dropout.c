/* Inverted dropout on the trainable LoRA inputs. The mask of element i is a hash of (key, i), so
 * backward (and checkpointing's recomputation) regenerate it instead of storing it. */
#include "core/threadpool.h"
#include "lora/lora_rng.h"
#include "train/trainer.h"

#define GOLDEN 0x9e3779b97f4a7c15ULL
/* Below this many elements a thread hand-off costs more than it saves. */
#define PARALLEL_MIN 32768

static inline int keep(uint64_t key, int64_t i, float p) {
    return l4_u01_from_bits(l4_mix64(key + (uint64_t)i * GOLDEN)) >= p;
}

typedef struct drop_job {
    const float *in;
    float *out;
    int64_t n;
    float p;
    uint64_t key;
    int accumulate; /* backward: out += in * mask / (1-p) */
} drop_job;

static void drop_task(void *arg, int ith, int nth) {
    const drop_job *j = arg;
    int64_t b, e;
    l4_split(j->n, ith, nth, &b, &e);
    const float s = 1.0f / (1.0f - j->p);
    for (int64_t i = b; i < e; i++) {
        float v = keep(j->key, i, j->p) ? j->in[i] * s : 0.0f;
        if (j->accumulate) j->out[i] += v;
        else j->out[i] = v;
    }
}

static void run(const drop_job *j, int n_threads) {
    if (j->n < PARALLEL_MIN || n_threads < 2) drop_task((void *)j, 0, 1);
    else l4_parallel(drop_task, (void *)j, n_threads);
}

void l4_tr_dropout_forward(const float *x, float *out, int64_t n, float p, uint64_t key, int n_threads) {
    drop_job j = {x, out, n, p, key, 0};
    run(&j, n_threads);
}

void l4_tr_dropout_backward(const float *dxd, float *dx, int64_t n, float p, uint64_t key, int n_threads) {
    drop_job j = {dxd, dx, n, p, key, 1};
    run(&j, n_threads);
}
