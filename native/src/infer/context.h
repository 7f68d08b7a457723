/* The inference context: KV cache and every activation buffer, planned at creation. On a CUDA
 * device (p.device >= 0) the backend holds the KV cache and activations; the context keeps the
 * sequence bookkeeping and the host arrays a chunk is staged in (seq, pos, rope_cs, rows,
 * targets), and the buffers marked CPU below are NULL. */
#ifndef LORA4J_INFER_CONTEXT_H
#define LORA4J_INFER_CONTEXT_H

#include <stdint.h>

#include "backend/backend.h"
#include "infer/ops.h"
#include "lora/lora_stack.h"
#include "model/model.h"

struct lora4j_context {
    const lora4j_model *model;
    lora4j_context_params p;   /* resolved: n_ctx, n_threads > 0, n_batch <= n_ctx */
    l4_rope rope;
    int64_t n_q;               /* n_head * head_dim */
    int64_t n_kv;              /* n_head_kv * head_dim */
    int64_t head_rows;         /* rows per output-head chunk in sequence_logprobs */

    /* CPU KV cache: [n_layer][n_seq_max][n_head_kv][n_ctx][head_dim] f32 each */
    float *k_cache, *v_cache;
    int32_t *seq_len;          /* [n_seq_max] cached positions */
    int32_t *next_pos;         /* [n_seq_max] scratch for batch validation */

    /* one chunk of up to n_batch tokens (x .. logits: CPU only) */
    float *x;                  /* [n_batch][n_embd] residual stream */
    float *xn;                 /* [n_batch][n_embd] normed input / block output */
    float *q, *att;            /* [n_batch][n_q] */
    float *k, *v;              /* [n_batch][n_kv] */
    float *gate, *up;          /* [n_batch][n_ff] */
    float *rope_cs;            /* [n_batch][n_rot] */
    float *scores;             /* [n_threads][n_ctx] attention scratch */
    float *logits;             /* [head_rows][n_vocab] output-head chunk */
    int32_t *seq, *pos;        /* [n_batch] of the chunk */
    int32_t *rows;             /* [n_batch] chunk rows whose logits are wanted */
    int32_t *targets;          /* [n_batch] next tokens, for log-probs */
    void *arena;

    l4_lora_stack lora;        /* adapters set with lora4j_context_set_adapters (n 0: none) */
    void *lora_mem;            /* their pointer/scale copies and h scratch (CPU) or generations */

    const l4_backend *be;      /* device contexts: the backend and its context */
    void *dev;
    uint64_t *dev_gen;         /* [lora.n] each adapter's generation when it was uploaded */
};

/* Offset of head g of sequence s in layer il's K or V cache (floats). */
static inline int64_t l4_kv_offset(const struct lora4j_context *c, int il, int64_t s, int64_t g) {
    const lora4j_hparams *hp = &c->model->hp;
    return (((int64_t)il * c->p.n_seq_max + s) * hp->n_head_kv + g) * c->p.n_ctx * hp->head_dim;
}

/* Forward n tokens (n <= n_batch) whose sequence/position are in c->seq / c->pos through all
 * layers, appending their keys/values to the cache; final hidden states stay in c->x. */
void l4_forward_layers(struct lora4j_context *c, const int32_t *tokens, int64_t n);

/* Output norm and head for chunk rows rows[0..n_rows-1]: out is [n_rows][n_vocab]. */
void l4_forward_head(struct lora4j_context *c, const int32_t *rows, int64_t n_rows, float *out);

/* Device contexts (infer/context_device.c); each fails with the backend's message. */
int32_t l4_device_context_new(struct lora4j_context *c);
void l4_device_context_free(struct lora4j_context *c);
int32_t l4_device_set_adapters(struct lora4j_context *c, const lora4j_adapter *const *adapters,
                               const float *scales, int32_t n);
/* The staged chunk (c->seq, c->pos) of n tokens, then the head for rows[n_rows]: logits
 * [n_rows][n_vocab] to out, or with targets their log-probs [n_rows]. Adapters changed by an
 * optimizer step since they were set are uploaded again first. */
int32_t l4_device_decode(struct lora4j_context *c, const int32_t *tokens, int64_t n, const int32_t *rows,
                         int32_t n_rows, const int32_t *targets, float *out);
int32_t l4_device_kv_copy(struct lora4j_context *c, int32_t src, int32_t dst, int32_t n_tokens);

#endif
