/* Internal view of a loaded model: hyper-parameters and typed pointers to every weight, for the
 * forward pass (infer/) and training. Everything here is read-only after lora4j_model_load. */
#ifndef LORA4J_MODEL_H
#define LORA4J_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "lora4j.h"

/* A 2-D weight W of n_out rows of n_in elements of `type` (y = W·x maps n_in to n_out).
 * Rows are l4_row_bytes(type, n_in) apart. It may be a row range of a fused tensor. */
typedef struct l4_matrix {
    int32_t type;
    int64_t n_in;
    int64_t n_out;
    const void *data;
} l4_matrix;

typedef struct l4_layer {
    const float *attn_norm;       /* [n_embd] */
    l4_matrix wq;                 /* n_embd -> n_head*head_dim */
    l4_matrix wk;                 /* n_embd -> n_head_kv*head_dim */
    l4_matrix wv;                 /* n_embd -> n_head_kv*head_dim */
    l4_matrix wo;                 /* n_head*head_dim -> n_embd */
    const float *bq, *bk, *bv;    /* biases (qwen2), NULL when absent */
    const float *ffn_norm;        /* [n_embd] */
    l4_matrix ffn_gate;           /* n_embd -> n_ff */
    l4_matrix ffn_up;             /* n_embd -> n_ff */
    l4_matrix ffn_down;           /* n_ff -> n_embd */
} l4_layer;

struct lora4j_model {
    lora4j_gguf *gguf;            /* owns the mapping the weights point into */
    lora4j_hparams hp;
    l4_matrix tok_embd;           /* n_vocab rows of n_embd (n_in = n_embd, n_out = n_vocab) */
    l4_matrix output;             /* the same as tok_embd when tied */
    const float *output_norm;     /* [n_embd] */
    const float *output_bias;     /* [n_vocab] or NULL */
    const float *rope_freqs;      /* [n_rot/2] theta divisors (llama3), or NULL */
    l4_layer *layers;             /* [n_layer] */
    void *owned;                  /* converted 1-D tensors and load-time quantized weights */
    struct l4_device_model *device_models; /* uploads to CUDA devices (backend/backend_model.c) */
};

#endif
