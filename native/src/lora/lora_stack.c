/* Frozen adapters on top of frozen weights: the LoRA terms of a projection and their
 * x-gradient, over row chunks that fit the stack's h scratch. */
#include <string.h>

#include "lora/lora_stack.h"
#include "quant/quant.h"
#include "train/grad_ops.h"

int64_t l4_lora_max_rank(const lora4j_adapter *const *adapters, int n) {
    int64_t r = 0;
    for (int i = 0; i < n; i++) {
        for (int64_t k = 0; k < adapters[i]->n_pairs; k++) {
            if (adapters[i]->pairs[k].rank > r) r = adapters[i]->pairs[k].rank;
        }
    }
    return r;
}

static void add_scaled_bias(float *y, const float *b, float u, int64_t n, int64_t dim) {
    for (int64_t i = 0; i < n; i++) {
        float *row = y + i * dim;
        for (int64_t o = 0; o < dim; o++) row[o] += u * b[o];
    }
}

void l4_lora_stack_forward(const l4_lora_stack *s, int layer, int t, const float *x, int64_t n, float *y,
                           int n_threads) {
    for (int i = 0; i < s->n; i++) {
        const lora4j_adapter *ad = s->adapters[i];
        const lora4j_lora_pair *e = l4_adapter_entry(ad, layer, t);
        if (!e) continue;
        const float u = s->scales[i];
        if (e->rank > 0) {
            const float f = u * ad->scales[e - ad->pairs];
            for (int64_t r0 = 0; r0 < n; r0 += s->h_rows) {
                const int64_t nr = n - r0 < s->h_rows ? n - r0 : s->h_rows;
                l4_lora_forward(e->a, e->b, e->rank, e->n_in, e->n_out, f, x + r0 * e->n_in, nr, s->h,
                                y + r0 * e->n_out, n_threads);
            }
        }
        if (e->bias_delta) add_scaled_bias(y, e->bias_delta, u, n, e->n_out);
    }
}

void l4_lora_stack_backward_x(const l4_lora_stack *s, int layer, int t, const float *dy, int64_t n, float *dx,
                              int n_threads) {
    for (int i = 0; i < s->n; i++) {
        const lora4j_adapter *ad = s->adapters[i];
        const lora4j_lora_pair *e = l4_adapter_entry(ad, layer, t);
        if (!e || e->rank == 0) continue;
        const float f = s->scales[i] * ad->scales[e - ad->pairs];
        const int64_t r = e->rank;
        for (int64_t r0 = 0; r0 < n; r0 += s->h_rows) {
            const int64_t nr = n - r0 < s->h_rows ? n - r0 : s->h_rows;
            /* h = f * B^T dy, then dx += A^T h */
            memset(s->h, 0, (size_t)(nr * r) * sizeof(float));
            l4_matmul_t_acc(LORA4J_TYPE_F32, e->b, e->n_out, r, dy + r0 * e->n_out, e->n_out, nr, s->h, r,
                            n_threads);
            for (int64_t k = 0; k < nr * r; k++) s->h[k] *= f;
            l4_matmul_t_acc(LORA4J_TYPE_F32, e->a, r, e->n_in, s->h, r, nr, dx + r0 * e->n_in, e->n_in, n_threads);
        }
    }
}

void l4_project(const l4_matrix *w, const l4_lora_stack *s, int layer, int t, const float *x, int64_t n,
                float *y, int n_threads, int exact) {
    l4_matmul(w->type, w->data, w->n_out, w->n_in, x, w->n_in, n, y, w->n_out, n_threads, exact);
    if (s && s->n > 0) l4_lora_stack_forward(s, layer, t, x, n, y, n_threads);
}
