/* The forward pass of an inference context over one chunk of tokens, as infer/forward.c on the
 * CPU, with the device ops:
 *   x = embd[tokens]; per layer:
 *     x += Wo · attn_cache(rope(Wq·n + bq), rope(Wk·n + bk), Wv·n + bv),  n = rmsnorm(x) * g_attn
 *     x += Wdown · (silu(Wgate·m) * (Wup·m)),                             m = rmsnorm(x) * g_ffn
 *   logits = Wout · (rmsnorm(x[rows]) * g_out) + bout
 * Projections (with the context's adapters) are bf16 tensor-core products accumulating in f32. */
#include "engine/context.h"

/* out[j] = x[rows[j]], rows of dim floats. */
__global__ void lcu_gather_rows_kernel(const float *x, const int32_t *rows, int64_t dim, float *out) {
    const int64_t j = blockIdx.x;
    const float *src = x + (int64_t)rows[j] * dim;
    float *dst = out + j * dim;
    for (int64_t i = threadIdx.x; i < dim; i += blockDim.x) dst[i] = src[i];
}

static void gather_rows(lcu_stream s, const float *x, const int32_t *rows, int64_t n, int64_t dim, float *out) {
    LCU_LAUNCH(lcu_gather_rows_kernel, dim3((unsigned)n), dim3(256), 0, s, x, rows, dim, out);
}

static void project(lcu_context *c, int il, int t, const lcu_bf16 *x, int64_t n, float *y) {
    const lcu_dlayer *ly = &c->m->layers[il];
    lcu_project(c->stream, &ly->w[t], t < 3 ? ly->bias[t] : NULL, &c->lora, il, t, x, n, y);
}

static void attention_block(lcu_context *c, const lcu_staged *d, int il, int64_t n) {
    const lora4j_hparams *hp = &c->m->hp;
    const lcu_stream s = c->stream;
    const int neox = hp->rope_type == LORA4J_ROPE_NEOX;
    lcu_rmsnorm(s, c->x, c->m->layers[il].attn_norm, n, hp->n_embd, hp->rms_eps, c->xn, NULL);
    project(c, il, 0, c->xn, n, c->q);
    project(c, il, 1, c->xn, n, c->k);
    project(c, il, 2, c->xn, n, c->v);
    lcu_rope(s, c->q, n, c->n_q, hp->n_head, hp->head_dim, hp->n_rot, neox, d->rope_cs);
    lcu_rope(s, c->k, n, c->n_kv, hp->n_head_kv, hp->head_dim, hp->n_rot, neox, d->rope_cs);
    const lcu_kv kv = {c->k_cache + il * c->layer_elems, c->v_cache + il * c->layer_elems, c->n_ctx,
                       hp->n_head_kv, hp->head_dim};
    lcu_kv_store(s, &kv, c->k, c->v, d->seq, d->pos, n);
    lcu_attention_cache(s, &kv, c->q, d->seq, d->pos, n, hp->n_head, c->att);
    project(c, il, 3, c->att, n, c->y);
    lcu_add(s, c->x, c->y, n * hp->n_embd);
}

static void ffn_block(lcu_context *c, int il, int64_t n) {
    const lora4j_hparams *hp = &c->m->hp;
    const lcu_stream s = c->stream;
    lcu_rmsnorm(s, c->x, c->m->layers[il].ffn_norm, n, hp->n_embd, hp->rms_eps, c->xn, NULL);
    project(c, il, 4, c->xn, n, c->gate);
    project(c, il, 5, c->xn, n, c->up);
    lcu_swiglu_f32(s, c->gate, c->up, n * hp->n_ff, c->act);
    project(c, il, 6, c->act, n, c->y);
    lcu_add(s, c->x, c->y, n * hp->n_embd);
}

void lcu_context_layers(lcu_context *c, const lcu_staged *d, int64_t n) {
    lcu_embed(c->stream, &c->m->tok_embd, d->tokens, n, c->x);
    for (int il = 0; il < c->m->hp.n_layer; il++) {
        attention_block(c, d, il, n);
        ffn_block(c, il, n);
    }
}

void lcu_context_head(lcu_context *c, const lcu_staged *d, int64_t r0, int64_t k, int with_targets) {
    const lora4j_hparams *hp = &c->m->hp;
    const lcu_stream s = c->stream;
    gather_rows(s, c->x, d->rows + r0, k, hp->n_embd, c->hx);
    lcu_rmsnorm(s, c->hx, c->m->output_norm, k, hp->n_embd, hp->rms_eps, c->xn, NULL);
    const lcu_mat a = {LORA4J_TYPE_BF16, c->xn, k, hp->n_embd, hp->n_embd, 0};
    lcu_gemm(s, &a, &c->m->output, 1.0f, 0.0f, c->logits, hp->n_vocab);
    if (c->m->output_bias) lcu_add_bias(s, c->logits, c->m->output_bias, k, hp->n_vocab);
    if (with_targets) lcu_head_logprobs(s, c->logits, k, hp->n_vocab, d->targets + r0, NULL, c->lp + r0);
}
