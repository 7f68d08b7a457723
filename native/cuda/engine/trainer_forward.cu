/* The GPU training forward pass: every layer over all N tokens at once, saving what backward
 * needs (train/trainer_forward.c on the device). */
#include "engine/trainer.h"
#include "lora/lora_rng.h"

void lcu_tr_lora_forward(lcu_trainer *t, int il, int tg, const lcu_bf16 *x, float *y, const lcu_pass *ps) {
    if (!ps->use_trainable) return;
    const lcu_dpair *p = lcu_dadapter_pair(t->ad, il, tg);
    if (!p) return;
    const int64_t N = t->N, r = p->rank;
    const lcu_bf16 *xin = x;
    if (ps->key && t->xdrop) {
        lcu_dropout(t->s, x, t->xdrop, N * p->n_in, t->dropout, l4_tr_dropout_key(ps->key, il, tg));
        xin = t->xdrop;
    }
    float *h = t->acts[il].h + t->h_off[p - t->ad->pairs];
    const lcu_mat xm = lcu_tr_dense(LORA4J_TYPE_BF16, xin, N, p->n_in, 0);
    const lcu_mat am = lcu_tr_dense(LORA4J_TYPE_F32, p->a, r, p->n_in, 1);
    lcu_gemm(t->s, &xm, &am, 1.0f, 0.0f, h, r);
    const lcu_mat hm = lcu_tr_dense(LORA4J_TYPE_F32, h, N, r, 0);
    const lcu_mat bm = lcu_tr_dense(LORA4J_TYPE_F32, p->b, p->n_out, r, 1);
    lcu_gemm(t->s, &hm, &bm, p->scale, 1.0f, y, p->n_out);
}

/* y = W x + b, the frozen adapters, and the trainable pair of (il, tg). */
static void project(lcu_trainer *t, int il, int tg, const lcu_bf16 *x, float *y, const lcu_pass *ps) {
    const lcu_dlayer *ly = &t->m->layers[il];
    lcu_project(t->s, &ly->w[tg], tg < 3 ? ly->bias[tg] : NULL, &t->fset, il, tg, x, t->N, y);
    lcu_tr_lora_forward(t, il, tg, x, y, ps);
}

/* The projection (il, tg) into the f32 scratch, rope over its n_rope_heads heads (0: none), then
 * saved as bf16 in out ([N][n_out]). */
static void project_saved(lcu_trainer *t, int il, int tg, const lcu_bf16 *x, lcu_bf16 *out, int n_rope_heads,
                          const lcu_pass *ps) {
    const int64_t n_out = t->m->layers[il].w[tg].rows;
    project(t, il, tg, x, t->proj, ps);
    if (n_rope_heads) lcu_rope(t->s, t->proj, t->N, n_out, n_rope_heads, t->HD, t->n_rot, t->neox, t->rope_cs);
    lcu_to_bf16(t->s, t->proj, out, t->N * n_out);
}

void lcu_tr_layer_forward(lcu_trainer *t, int il, const lcu_pass *ps, int full) {
    lcu_acts *a = &t->acts[il];
    const lcu_dlayer *ly = &t->m->layers[il];
    const int64_t N = t->N, E = t->E;
    lcu_rmsnorm(t->s, a->x, ly->attn_norm, N, E, t->eps, a->xn1, NULL);
    project_saved(t, il, 0, a->xn1, a->q, t->H, ps);
    project_saved(t, il, 1, a->xn1, a->k, t->HKV, ps);
    project_saved(t, il, 2, a->xn1, a->v, 0, ps);
    const lcu_attn at = {a->q, a->k, a->v, t->seg, t->n_rows, t->n_seq, t->H, t->HKV, t->HD};
    lcu_attention(t->s, &at, a->att, a->lse);
    project(t, il, 3, a->att, t->tmp, ps);
    cudaMemcpyAsync(a->x2, a->x, (size_t)(N * E) * sizeof(float), cudaMemcpyDeviceToDevice, t->s);
    lcu_add(t->s, a->x2, t->tmp, N * E);
    lcu_rmsnorm(t->s, a->x2, ly->ffn_norm, N, E, t->eps, a->xn2, NULL);
    project_saved(t, il, 4, a->xn2, a->g, 0, ps);
    project_saved(t, il, 5, a->xn2, a->u, 0, ps);
    lcu_swiglu(t->s, a->g, a->u, N * t->F, t->act);
    if (!full) {
        /* backward needs only the down pair's h (the output itself goes unused) */
        lcu_tr_lora_forward(t, il, 6, t->act, t->tmp, ps);
        return;
    }
    project(t, il, 6, t->act, t->tmp, ps);
    float *next = il + 1 < t->n_layer ? t->acts[il + 1].x : t->x_out;
    cudaMemcpyAsync(next, a->x2, (size_t)(N * E) * sizeof(float), cudaMemcpyDeviceToDevice, t->s);
    lcu_add(t->s, next, t->tmp, N * E);
}

void lcu_tr_forward(lcu_trainer *t, const lcu_pass *ps) {
    lcu_embed(t->s, &t->m->tok_embd, t->tokens, t->N, t->acts[0].x);
    for (int il = 0; il < t->n_layer; il++) lcu_tr_layer_forward(t, il, ps, 1);
}
