/* The llama/qwen2 forward pass over one chunk of tokens:
 *   x = embd[tokens]; per layer:
 *     h = x + Wo · attn(rope(Wq·n + bq), rope(Wk·n + bk), Wv·n + bv),  n = rmsnorm(x) * g_attn
 *     x = h + Wdown · (silu(Wgate·m) * (Wup·m)),                        m = rmsnorm(h) * g_ffn
 *   logits = Wout · (rmsnorm(x) * g_out) + bout
 * Matrix products go through l4_matmul (all chunk rows at once: prompts are matrix-matrix). */
#include <string.h>

#include "infer/context.h"
#include "lora/lora_stack.h"
#include "quant/quant.h"

static void matmul(const lora4j_context *c, const l4_matrix *w, const float *x, int64_t n, float *y) {
    l4_matmul(w->type, w->data, w->n_out, w->n_in, x, w->n_in, n, y, w->n_out, c->p.n_threads,
              c->p.exact_f32);
}

/* An adapted projection (target index t, lora/adapter.h): W x plus the context's adapters. */
static void project(const lora4j_context *c, int il, int t, const l4_matrix *w, const float *x, int64_t n,
                    float *y) {
    l4_project(w, &c->lora, il, t, x, n, y, c->p.n_threads, c->p.exact_f32);
}

/* Several adapted projections of the same input (q/k/v, or gate/up) as one set of products
 * (one quantization of x, one parallel region), then each target's adapters. */
static void project_set(const lora4j_context *c, int il, const int *targets, const l4_matrix *const *ws,
                        float *const *ys, int n_set, const float *x, int64_t n) {
    l4_matmul_op ops[L4_MATMUL_MAX_OPS];
    for (int i = 0; i < n_set; i++) ops[i] = (l4_matmul_op){ws[i]->type, ws[i]->data, ws[i]->n_out, ys[i], ws[i]->n_out};
    l4_matmul_ops(ops, n_set, ws[0]->n_in, x, ws[0]->n_in, n, c->p.n_threads, c->p.exact_f32);
    if (c->lora.n > 0) {
        for (int i = 0; i < n_set; i++) l4_lora_stack_forward(&c->lora, il, targets[i], x, n, ys[i], c->p.n_threads);
    }
}

/* Append the chunk's keys and values to their sequences' caches. */
static void store_kv(lora4j_context *c, int il, int64_t n) {
    const int hd = c->model->hp.head_dim;
    const size_t bytes = (size_t)hd * sizeof(float);
    for (int64_t i = 0; i < n; i++) {
        for (int g = 0; g < c->model->hp.n_head_kv; g++) {
            int64_t at = l4_kv_offset(c, il, c->seq[i], g) + (int64_t)c->pos[i] * hd;
            memcpy(c->k_cache + at, c->k + i * c->n_kv + (int64_t)g * hd, bytes);
            memcpy(c->v_cache + at, c->v + i * c->n_kv + (int64_t)g * hd, bytes);
        }
    }
}

static void attention_block(lora4j_context *c, int il, int64_t n) {
    const lora4j_hparams *hp = &c->model->hp;
    const l4_layer *ly = &c->model->layers[il];
    l4_rmsnorm(c->x, ly->attn_norm, c->xn, n, hp->n_embd, hp->rms_eps);
    const int targets[3] = {L4_T_Q, L4_T_K, L4_T_V};
    const l4_matrix *ws[3] = {&ly->wq, &ly->wk, &ly->wv};
    float *ys[3] = {c->q, c->k, c->v};
    project_set(c, il, targets, ws, ys, 3, c->xn, n);
    if (ly->bq) l4_add_bias(c->q, ly->bq, n, c->n_q);
    if (ly->bk) l4_add_bias(c->k, ly->bk, n, c->n_kv);
    if (ly->bv) l4_add_bias(c->v, ly->bv, n, c->n_kv);
    l4_rope_apply(&c->rope, c->q, n, c->n_q, hp->n_head, hp->head_dim, c->rope_cs);
    l4_rope_apply(&c->rope, c->k, n, c->n_kv, hp->n_head_kv, hp->head_dim, c->rope_cs);
    store_kv(c, il, n);

    l4_attn_args a = {
        .q = c->q, .out = c->att, .n = n, .seq = c->seq, .pos = c->pos,
        .n_head = hp->n_head, .n_head_kv = hp->n_head_kv, .head_dim = hp->head_dim,
        .k_cache = c->k_cache + l4_kv_offset(c, il, 0, 0),
        .v_cache = c->v_cache + l4_kv_offset(c, il, 0, 0),
        .n_ctx = c->p.n_ctx, .scores = c->scores, .n_threads = c->p.n_threads,
    };
    l4_attention(&a);
    project(c, il, L4_T_O, &ly->wo, c->att, n, c->xn);
    l4_add(c->x, c->xn, n * hp->n_embd);
}

static void ffn_block(lora4j_context *c, int il, int64_t n) {
    const lora4j_hparams *hp = &c->model->hp;
    const l4_layer *ly = &c->model->layers[il];
    l4_rmsnorm(c->x, ly->ffn_norm, c->xn, n, hp->n_embd, hp->rms_eps);
    const int targets[2] = {L4_T_GATE, L4_T_UP};
    const l4_matrix *ws[2] = {&ly->ffn_gate, &ly->ffn_up};
    float *ys[2] = {c->gate, c->up};
    project_set(c, il, targets, ws, ys, 2, c->xn, n);
    l4_swiglu(c->gate, c->up, n, hp->n_ff, c->p.n_threads);
    project(c, il, L4_T_DOWN, &ly->ffn_down, c->gate, n, c->xn);
    l4_add(c->x, c->xn, n * hp->n_embd);
}

void l4_forward_layers(lora4j_context *c, const int32_t *tokens, int64_t n) {
    l4_embed(&c->model->tok_embd, tokens, n, c->x);
    l4_rope_cache(&c->rope, c->pos, n, c->rope_cs);
    for (int il = 0; il < c->model->hp.n_layer; il++) {
        attention_block(c, il, n);
        ffn_block(c, il, n);
    }
}

void l4_forward_head(lora4j_context *c, const int32_t *rows, int64_t n_rows, float *out) {
    const lora4j_hparams *hp = &c->model->hp;
    for (int64_t j = 0; j < n_rows; j++) {
        l4_rmsnorm(c->x + (int64_t)rows[j] * hp->n_embd, c->model->output_norm,
                   c->xn + j * hp->n_embd, 1, hp->n_embd, hp->rms_eps);
    }
    matmul(c, &c->model->output, c->xn, n_rows, out);
    if (c->model->output_bias) l4_add_bias(out, c->model->output_bias, n_rows, hp->n_vocab);
}
