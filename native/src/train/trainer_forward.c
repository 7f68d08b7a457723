/* The training forward pass: every layer over all N tokens at once, saving what backward needs.
 * Ops are the inference ones (infer/ops.h) plus the packed-segment attention of grad_ops.h. */
#include <string.h>

#include "train/trainer.h"

/* The trainable entry of (il, t), when applied: y += s·B·(h = A·drop(x)) + bias delta, h saved
 * in the layer's h block. */
static void trainable(lora4j_trainer *tr, int il, int t, const float *x, float *y, float *h_layer,
                      const tr_pass *ps) {
    if (!ps->use_trainable || !tr->ad) return;
    const lora4j_lora_pair *e = l4_adapter_entry(tr->ad, il, t);
    if (!e) return;
    if (e->rank > 0) {
        const float *xin = x;
        if (ps->dropout) {
            l4_tr_dropout_forward(x, tr->xdrop, tr->N * e->n_in, tr->ad->params.dropout,
                                  l4_tr_dropout_key(ps->key, il, t), tr->nth);
            xin = tr->xdrop;
        }
        const int64_t i = e - tr->ad->pairs;
        l4_lora_forward(e->a, e->b, e->rank, e->n_in, e->n_out, tr->ad->scales[i], xin, tr->N,
                        h_layer + tr->h_off[i], y, tr->nth);
    }
    if (e->bias_delta) l4_add_bias(y, e->bias_delta, tr->N, e->n_out);
}

/* y = W x + b, plus the frozen adapters and the trainable entry of (il, t). */
static void project(lora4j_trainer *tr, int il, int t, const float *x, float *y, float *h_layer,
                    const tr_pass *ps) {
    const l4_layer *ly = &tr->layers[il];
    const l4_matrix *w = l4_layer_weight(ly, t);
    l4_project(w, &tr->frozen, il, t, x, tr->N, y, tr->nth, 1);
    const float *b = l4_layer_bias(ly, t);
    if (b) l4_add_bias(y, b, tr->N, w->n_out);
    trainable(tr, il, t, x, y, h_layer, ps);
}

void l4_tr_layer_forward(lora4j_trainer *tr, int il, const tr_pass *ps, int full) {
    tr_acts *a = &tr->acts[il];
    const l4_layer *ly = &tr->layers[il];
    const int64_t N = tr->N, E = tr->E;
    l4_rmsnorm(a->x, ly->attn_norm, a->xn1, N, E, tr->eps);
    project(tr, il, L4_T_Q, a->xn1, a->q, a->h, ps);
    project(tr, il, L4_T_K, a->xn1, a->k, a->h, ps);
    project(tr, il, L4_T_V, a->xn1, a->v, a->h, ps);
    l4_rope_apply(&tr->rope, a->q, N, tr->Q, tr->H, tr->HD, tr->rope_cs);
    l4_rope_apply(&tr->rope, a->k, N, tr->KV, tr->HKV, tr->HD, tr->rope_cs);
    l4_train_attn_forward(&tr->attn, a->q, a->k, a->v, a->att, a->lse);
    project(tr, il, L4_T_O, a->att, tr->tmp, a->h, ps);
    memcpy(a->x2, a->x, (size_t)(N * E) * sizeof(float));
    l4_add(a->x2, tr->tmp, N * E);
    l4_rmsnorm(a->x2, ly->ffn_norm, a->xn2, N, E, tr->eps);
    project(tr, il, L4_T_GATE, a->xn2, a->g, a->h, ps);
    project(tr, il, L4_T_UP, a->xn2, a->u, a->h, ps);
    memcpy(tr->act, a->g, (size_t)(N * tr->F) * sizeof(float));
    l4_swiglu(tr->act, a->u, N, tr->F, tr->nth);
    if (!full) {
        /* backward needs only the down pair's h (the output itself goes unused) */
        trainable(tr, il, L4_T_DOWN, tr->act, tr->tmp, a->h, ps);
        return;
    }
    project(tr, il, L4_T_DOWN, tr->act, tr->tmp, a->h, ps);
    float *next = il + 1 < tr->model->hp.n_layer ? tr->acts[il + 1].x : tr->x_out;
    memcpy(next, a->x2, (size_t)(N * E) * sizeof(float));
    l4_add(next, tr->tmp, N * E);
}

void l4_tr_forward(lora4j_trainer *tr, const int32_t *tokens, const tr_pass *ps) {
    l4_embed(&tr->tok_embd, tokens, tr->N, tr->acts[0].x);
    for (int il = 0; il < tr->model->hp.n_layer; il++) l4_tr_layer_forward(tr, il, ps, 1);
}
