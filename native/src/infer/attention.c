/* Causal grouped-query attention against the KV cache, parallel over (query, head) pairs. */
#include <math.h>

#include "core/threadpool.h"
#include "infer/kernels.h"
#include "infer/ops.h"

static void attention_task(void *arg, int ith, int nth) {
    const l4_attn_args *a = arg;
    const int64_t hd = a->head_dim;
    const int group = a->n_head / a->n_head_kv;
    const float scale = 1.0f / sqrtf((float)hd);
    const int64_t ld = (int64_t)a->n_head * hd;
    float *scores = a->scores + (int64_t)ith * a->n_ctx;
    const int64_t n_items = a->n * a->n_head;
    /* Interleaved so every thread gets a share of the long (late-position) rows. */
    for (int64_t item = ith; item < n_items; item += nth) {
        const int64_t i = item / a->n_head;
        const int h = (int)(item % a->n_head);
        const int64_t head = (int64_t)a->seq[i] * a->n_head_kv + h / group;
        const float *k = a->k_cache + head * a->n_ctx * hd;
        const float *v = a->v_cache + head * a->n_ctx * hd;
        l4_attend_row(a->q + i * ld + h * hd, k, v, (int64_t)a->pos[i] + 1, hd, scale, scores,
                      a->out + i * ld + h * hd);
    }
}

/* Below this many key-dimension products a thread hand-off costs more than it saves. */
#define ATTENTION_PARALLEL_MIN 32768

void l4_attention(const l4_attn_args *a) {
    int64_t work = 0;
    for (int64_t i = 0; i < a->n; i++) work += (int64_t)a->pos[i] + 1;
    work *= (int64_t)a->n_head * a->head_dim;
    if (a->n_threads < 2 || a->n * a->n_head < 2 || work < ATTENTION_PARALLEL_MIN) {
        attention_task((void *)a, 0, 1);
    } else {
        l4_parallel(attention_task, (void *)a, a->n_threads);
    }
}
