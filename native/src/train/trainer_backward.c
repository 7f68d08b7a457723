/* The training backward pass: layers in reverse from dL/d(x_out), one backward kernel per forward
 * op (grad_ops.h), down to the lowest layer holding a trained parameter. */
#include <string.h>

#include "train/trainer.h"

static void zero(float *p, int64_t n) { memset(p, 0, (size_t)n * sizeof(float)); }

/* db[o] += sum over rows of dy[row][o]: the gradient of a bias added to every row. */
static void bias_backward(const float *dy, int64_t n, int64_t dim, float *db) {
    for (int64_t i = 0; i < n; i++) {
        const float *row = dy + i * dim;
        for (int64_t o = 0; o < dim; o++) db[o] += row[o];
    }
}

/* Backward of project() (trainer_forward.c) for (il, t) with input x and output gradient dy:
 * dx += dy through W and every applied adapter (dx NULL: not needed), and the gradients of
 * whatever of it is trained. */
static void project_backward(lora4j_trainer *tr, int il, int t, const float *x, const float *dy, float *dx,
                             const float *h_layer, const tr_pass *ps) {
    const int64_t N = tr->N;
    const l4_matrix *w = l4_layer_weight(&tr->layers[il], t);
    if (dx) {
        l4_linear_backward_x(w, dy, N, dx, tr->nth);
        if (tr->frozen.n > 0) l4_lora_stack_backward_x(&tr->frozen, il, t, dy, N, dx, tr->nth);
    }
    if (tr->lgrad) {
        const tr_layer_grads *g = &tr->lgrad[il];
        if (g->w[t]) l4_linear_backward_w(x, dy, N, w->n_in, w->n_out, g->w[t], tr->nth);
        if (t < 3 && g->b[t]) bias_backward(dy, N, w->n_out, g->b[t]);
    }
    const lora4j_lora_pair *e = tr->ad ? l4_adapter_entry(tr->ad, il, t) : NULL;
    if (!e) return;
    const lora4j_adapter *ad = tr->ad;
    if (e->rank > 0) {
        const int64_t i = e - ad->pairs;
        const float *xin = x;
        float *dxl = dx;
        const uint64_t key = l4_tr_dropout_key(ps->key, il, t);
        if (ps->dropout) {
            /* the mask is a function of the key: regenerate the dropped input */
            l4_tr_dropout_forward(x, tr->xdrop, N * e->n_in, ad->params.dropout, key, tr->nth);
            xin = tr->xdrop;
            if (dx) {
                zero(tr->dxdrop, N * e->n_in);
                dxl = tr->dxdrop;
            }
        }
        l4_lora_backward(e->a, e->b, e->rank, e->n_in, e->n_out, ad->scales[i], xin, h_layer + tr->h_off[i], dy, N,
                         tr->grad + (e->a - ad->data), tr->grad + (e->b - ad->data), dxl, tr->dh, tr->nth);
        if (ps->dropout && dx) l4_tr_dropout_backward(tr->dxdrop, dx, N * e->n_in, ad->params.dropout, key, tr->nth);
    }
    if (e->bias_delta) bias_backward(dy, N, e->n_out, tr->grad + (e->bias_delta - ad->data));
}

/* tr->dx: dL/d(output of layer il) in, dL/d(input of layer il) out (when need_dx). */
static void layer_backward(lora4j_trainer *tr, int il, const tr_pass *ps, int need_dx) {
    tr_acts *a = &tr->acts[il];
    const l4_layer *ly = &tr->layers[il];
    const tr_layer_grads *g = tr->lgrad ? &tr->lgrad[il] : NULL;
    const int64_t N = tr->N, E = tr->E, F = tr->F;
    float *dx = tr->dx;

    /* feed-forward block: x' = x2 + Wd·swiglu(g, u) */
    memcpy(tr->act, a->g, (size_t)(N * F) * sizeof(float));
    l4_swiglu(tr->act, a->u, N, F, tr->nth);
    zero(tr->dact, N * F);
    project_backward(tr, il, L4_T_DOWN, tr->act, dx, tr->dact, a->h, ps);
    /* the gate/up pre-activations are not needed again: their gradients take their place */
    float *dg = a->g, *du = a->u;
    l4_swiglu_backward(a->g, a->u, tr->dact, dg, du, N, F, tr->nth);
    zero(tr->dxn, N * E);
    project_backward(tr, il, L4_T_GATE, a->xn2, dg, tr->dxn, a->h, ps);
    project_backward(tr, il, L4_T_UP, a->xn2, du, tr->dxn, a->h, ps);
    l4_rmsnorm_backward(a->x2, ly->ffn_norm, tr->dxn, dx, g ? g->ffn_norm : NULL, N, E, tr->eps);

    /* attention block: x2 = x + Wo·attention(rope(q), rope(k), v) */
    zero(tr->datt, N * tr->Q);
    project_backward(tr, il, L4_T_O, a->att, dx, tr->datt, a->h, ps);
    zero(tr->dq, N * tr->Q);
    zero(tr->dk, N * tr->KV);
    zero(tr->dv, N * tr->KV);
    l4_train_attn_backward(&tr->attn, a->q, a->k, a->v, a->att, a->lse, tr->datt, tr->dq, tr->dk, tr->dv);
    l4_rope_backward(&tr->rope, tr->dq, N, tr->Q, tr->H, tr->HD, tr->rope_cs);
    l4_rope_backward(&tr->rope, tr->dk, N, tr->KV, tr->HKV, tr->HD, tr->rope_cs);
    /* the normed input's gradient is needed to go further down, or for a trained norm weight */
    const int need_dxn = need_dx || (g && g->attn_norm);
    float *dxn = need_dxn ? tr->dxn : NULL;
    if (dxn) zero(dxn, N * E);
    project_backward(tr, il, L4_T_Q, a->xn1, tr->dq, dxn, a->h, ps);
    project_backward(tr, il, L4_T_K, a->xn1, tr->dk, dxn, a->h, ps);
    project_backward(tr, il, L4_T_V, a->xn1, tr->dv, dxn, a->h, ps);
    if (dxn) l4_rmsnorm_backward(a->x, ly->attn_norm, dxn, dx, g ? g->attn_norm : NULL, N, E, tr->eps);
}

void l4_tr_backward(lora4j_trainer *tr, const int32_t *tokens, const tr_pass *ps) {
    const int n_layer = tr->model->hp.n_layer;
    for (int il = n_layer - 1; il >= tr->floor; il--) {
        /* with checkpointing the shared buffers hold the last layer's forward; others recompute */
        if (tr->p.checkpointing && il < n_layer - 1) l4_tr_layer_forward(tr, il, ps, 0);
        layer_backward(tr, il, ps, il > tr->floor || tr->train_embd);
    }
    if (tr->train_embd) l4_embed_backward(tokens, tr->N, tr->dx, tr->g_tok_embd, tr->E);
}
