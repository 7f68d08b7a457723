/* An inference context on the device: the bf16 KV cache, the activations of one chunk of up to
 * n_batch tokens and the adapters it applies, all planned when it is created (context.cu). The
 * forward pass over a chunk and the output head are in context_forward.cu. */
#ifndef LORA4J_CUDA_CONTEXT_H
#define LORA4J_CUDA_CONTEXT_H

#include "engine/engine.h"

typedef struct lcu_context {
    const lcu_dmodel *m;
    int32_t n_ctx, n_seq_max, n_batch;
    int64_t n_q, n_kv;              /* n_head*hd, n_head_kv*hd */
    int64_t head_rows;              /* rows of logits the head computes at once */
    lcu_stream stream;

    /* KV cache: [n_layer][n_seq_max][n_head_kv][n_ctx][hd] bf16 each */
    lcu_bf16 *k_cache, *v_cache;
    int64_t layer_elems;            /* elements of one layer's cache */

    /* one chunk of up to n_batch tokens */
    float *x;                       /* [n_batch][E] residual stream */
    float *y;                       /* [n_batch][E] output of the o / down projection */
    lcu_bf16 *xn;                   /* [n_batch][E] normed input of a projection */
    float *q, *k, *v;               /* [n_batch][n_q], [n_batch][n_kv] */
    lcu_bf16 *att;                  /* [n_batch][n_q] attention output */
    float *gate, *up;               /* [n_batch][n_ff] */
    lcu_bf16 *act;                  /* [n_batch][n_ff] SwiGLU output */
    float *hx;                      /* [head_rows][E] the head's rows of x */
    float *logits;                  /* [head_rows][n_vocab] */
    float *lp;                      /* [n_batch] log-probs of the targets */
    void *stage;                    /* device copy of one call's inputs (see lcu_context_stage) */
    void *stage_host;               /* pinned host side of stage */
    size_t stage_bytes;
    lcu_arena mem;                  /* everything above */

    /* adapters (context_set_adapters): device copies, caller scales, LoRA scratch */
    lcu_dadapter **ads;             /* host array [n_ads] */
    float *scales;                  /* host [n_ads] */
    int32_t n_ads;
    lcu_arena lora_mem;             /* h [n_batch][max rank] f32 and bf16 */
    lcu_lora_set lora;
} lcu_context;

/* The backend table's context entries (backend.h). */
int32_t lcu_context_new(void *model, int32_t n_ctx, int32_t n_seq_max, int32_t n_batch, void **out);
void lcu_context_free(void *ctx);
int32_t lcu_context_set_adapters(void *ctx, const l4b_adapter *const *ads, const float *scales, int32_t n);
int32_t lcu_context_decode(void *ctx, const int32_t *tokens, const int32_t *seq, const int32_t *pos, int32_t n,
                           const float *rope_cs, const int32_t *rows, int32_t n_rows, const int32_t *targets,
                           float *out);
int32_t lcu_context_kv_copy(void *ctx, int32_t src, int32_t dst, int32_t n_tokens);

/* Where one call's staged inputs lie in the stage buffer (host or device side): the RoPE cos/sin
 * first (the rope kernel reads them as pairs), then the int32 arrays. */
typedef struct lcu_staged {
    float *rope_cs;                 /* [n][n_rot] */
    int32_t *tokens, *seq, *pos;    /* [n] */
    int32_t *rows, *targets;        /* [n_rows] */
    size_t bytes;                   /* the used prefix of the buffer */
} lcu_staged;
lcu_staged lcu_context_stage(void *base, int64_t n, int64_t n_rot, int64_t n_rows);

/* Forward n staged tokens through every layer, writing their keys/values to the cache; the final
 * hidden states stay in c->x. */
void lcu_context_layers(lcu_context *c, const lcu_staged *d, int64_t n);
/* Output norm and head for rows d->rows[r0 .. r0+k) (k <= head_rows): logits [k][n_vocab] in
 * c->logits; with targets, their log-probs in c->lp + r0. */
void lcu_context_head(lcu_context *c, const lcu_staged *d, int64_t r0, int64_t k, int with_targets);

#endif
