/* The GPU training backward pass: layers in reverse from dL/d(x_out) down to the lowest adapted
 * layer (train/trainer_backward.c on the device). dX flows through the frozen quantized weights
 * (lcu_gemm with the weight untransposed) and every adapter; only the trainable pairs get
 * gradients (f32, into the flat buffer laid out as their values). A projection's output gradient
 * dy is f32, or bf16 where it replaces a bf16 activation (dyt says which): it is only ever
 * lcu_gemm's A operand, rounded to bf16 there. */
#include "engine/trainer.h"
#include "lora/lora_rng.h"

/* dx += dy · u s B A for each frozen adapter of (il, tg). */
static void frozen_backward_x(lcu_trainer *t, int il, int tg, int32_t dyt, const void *dy, float *dx) {
    const int64_t N = t->N;
    for (int i = 0; i < t->fset.n; i++) {
        const lcu_dpair *p = lcu_dadapter_pair(t->fset.ads[i], il, tg);
        if (!p || p->rank == 0) continue;
        const lcu_mat dym = lcu_tr_dense(dyt, dy, N, p->n_out, 0);
        const lcu_mat bm = lcu_tr_dense(LORA4J_TYPE_F32, p->b, p->n_out, p->rank, 0);
        lcu_gemm(t->s, &dym, &bm, t->fset.scales[i] * p->scale, 0.0f, t->fset.h, p->rank);
        const lcu_mat hm = lcu_tr_dense(LORA4J_TYPE_F32, t->fset.h, N, p->rank, 0);
        const lcu_mat am = lcu_tr_dense(LORA4J_TYPE_F32, p->a, p->rank, p->n_in, 0);
        lcu_gemm(t->s, &hm, &am, 1.0f, 1.0f, dx, p->n_in);
    }
}

/* The trainable pair's gradients dA += dhᵀ·drop(x), dB += s dyᵀ·h (dh = s dy·B), and its part
 * of dx (through the dropout mask). */
static void lora_backward(lcu_trainer *t, int il, int tg, const lcu_bf16 *x, int32_t dyt, const void *dy,
                          float *dx, const lcu_pass *ps) {
    const lcu_dpair *p = lcu_dadapter_pair(t->ad, il, tg);
    if (!p) return;
    const int64_t N = t->N, r = p->rank, n_in = p->n_in, n_out = p->n_out;
    const int drop = ps->key && t->xdrop;
    const uint64_t key = drop ? l4_tr_dropout_key(ps->key, il, tg) : 0;
    const lcu_bf16 *xin = x;
    float *dxl = dx;
    if (drop) {
        /* the mask is a function of the key: regenerate the dropped input */
        lcu_dropout(t->s, x, t->xdrop, N * n_in, t->dropout, key);
        xin = t->xdrop;
        if (dx) {
            cudaMemsetAsync(t->dxdrop, 0, (size_t)(N * n_in) * sizeof(float), t->s);
            dxl = t->dxdrop;
        }
    }
    const float *h = t->acts[il].h + t->h_off[p - t->ad->pairs];
    float *ga = t->grad + p->off, *gb = ga + r * n_in;
    const lcu_mat dyT = lcu_tr_dense(dyt, dy, N, n_out, 1);
    const lcu_mat hm = lcu_tr_dense(LORA4J_TYPE_F32, h, N, r, 0);
    lcu_gemm(t->s, &dyT, &hm, p->scale, 1.0f, gb, r);
    const lcu_mat dym = lcu_tr_dense(dyt, dy, N, n_out, 0);
    const lcu_mat bm = lcu_tr_dense(LORA4J_TYPE_F32, p->b, n_out, r, 0);
    lcu_gemm(t->s, &dym, &bm, p->scale, 0.0f, t->dh, r);
    const lcu_mat dhT = lcu_tr_dense(LORA4J_TYPE_F32, t->dh, N, r, 1);
    const lcu_mat xm = lcu_tr_dense(LORA4J_TYPE_BF16, xin, N, n_in, 0);
    lcu_gemm(t->s, &dhT, &xm, 1.0f, 1.0f, ga, n_in);
    if (dxl) {
        const lcu_mat dhm = lcu_tr_dense(LORA4J_TYPE_F32, t->dh, N, r, 0);
        const lcu_mat am = lcu_tr_dense(LORA4J_TYPE_F32, p->a, r, n_in, 0);
        lcu_gemm(t->s, &dhm, &am, 1.0f, 1.0f, dxl, n_in);
    }
    if (drop && dx) lcu_dropout_backward(t->s, t->dxdrop, dx, N * n_in, t->dropout, key);
}

/* Backward of the projection (il, tg) with input x and output gradient dy: dx += dy through W and
 * every adapter (dx NULL: not needed), and the trainable pair's gradients. */
static void project_backward(lcu_trainer *t, int il, int tg, const lcu_bf16 *x, int32_t dyt, const void *dy,
                             float *dx, const lcu_pass *ps) {
    if (dx) {
        lcu_mat w = t->m->layers[il].w[tg];
        w.trans = 0;
        const lcu_mat dym = lcu_tr_dense(dyt, dy, t->N, w.rows, 0);
        lcu_gemm(t->s, &dym, &w, 1.0f, 1.0f, dx, w.cols);
        frozen_backward_x(t, il, tg, dyt, dy, dx);
    }
    lora_backward(t, il, tg, x, dyt, dy, dx, ps);
}

static void zero(lcu_trainer *t, float *p, int64_t n) { cudaMemsetAsync(p, 0, (size_t)n * sizeof(float), t->s); }

/* t->dx: dL/d(output of layer il) in, dL/d(input of layer il) out (when need_dx). */
static void layer_backward(lcu_trainer *t, int il, const lcu_pass *ps, int need_dx) {
    lcu_acts *a = &t->acts[il];
    const lcu_dlayer *ly = &t->m->layers[il];
    const int64_t N = t->N, E = t->E, F = t->F;
    float *dx = t->dx;

    /* feed-forward block: x' = x2 + Wd·swiglu(g, u) */
    lcu_swiglu(t->s, a->g, a->u, N * F, t->act);
    float *dact = t->proj;
    zero(t, dact, N * F);
    project_backward(t, il, 6, t->act, LORA4J_TYPE_F32, dx, dact, ps);
    /* the gate/up pre-activations are not needed again: their gradients take their place */
    lcu_swiglu_backward(t->s, a->g, a->u, dact, N * F, a->g, a->u);
    zero(t, t->dxn, N * E);
    project_backward(t, il, 4, a->xn2, LORA4J_TYPE_BF16, a->g, t->dxn, ps);
    project_backward(t, il, 5, a->xn2, LORA4J_TYPE_BF16, a->u, t->dxn, ps);
    lcu_rmsnorm_backward(t->s, a->x2, ly->ffn_norm, t->dxn, N, E, t->eps, dx, NULL);

    /* attention block: x2 = x + Wo·attention(rope(q), rope(k), v) */
    zero(t, t->datt, N * t->Q);
    project_backward(t, il, 3, a->att, LORA4J_TYPE_F32, dx, t->datt, ps);
    const lcu_attn at = {a->q, a->k, a->v, t->seg, t->n_rows, t->n_seq, t->H, t->HKV, t->HD};
    lcu_attention_backward(t->s, &at, a->att, a->lse, t->datt, t->dq, t->dk, t->dv);
    lcu_rope_backward(t->s, t->dq, N, t->Q, t->H, t->HD, t->n_rot, t->neox, t->rope_cs);
    lcu_rope_backward(t->s, t->dk, N, t->KV, t->HKV, t->HD, t->n_rot, t->neox, t->rope_cs);
    float *dxn = need_dx ? t->dxn : NULL;
    if (dxn) zero(t, dxn, N * E);
    project_backward(t, il, 0, a->xn1, LORA4J_TYPE_F32, t->dq, dxn, ps);
    project_backward(t, il, 1, a->xn1, LORA4J_TYPE_F32, t->dk, dxn, ps);
    project_backward(t, il, 2, a->xn1, LORA4J_TYPE_F32, t->dv, dxn, ps);
    if (dxn) lcu_rmsnorm_backward(t->s, a->x, ly->attn_norm, dxn, N, E, t->eps, dx, NULL);
}

void lcu_tr_backward(lcu_trainer *t, const lcu_pass *ps) {
    for (int il = t->n_layer - 1; il >= t->floor; il--) {
        /* with checkpointing the shared buffers hold the last layer's forward; others recompute */
        if (t->checkpointing && il < t->n_layer - 1) lcu_tr_layer_forward(t, il, ps, 0);
        layer_backward(t, il, ps, il > t->floor);
    }
}
