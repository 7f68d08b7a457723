/* The ABI between the engine (liblora4j.so) and a compute backend library loaded at run time
 * (liblora4j-cuda.so, or its CPU emulation liblora4j-cuda-emu.so for tests). Plain C, host data
 * only: the engine validates every request, stages it (positions, RoPE cos/sin, the rows the head
 * scores) with its own CPU code and hands the backend ready arrays; the backend owns device memory
 * and computes. A backend exports one symbol, lora4j_backend_get (L4_BACKEND_SYMBOL), returning
 * its table for the ABI version asked, or NULL when it was built for another.
 *
 * Every function returns a lora4j_status_t; on failure the backend's last_error() says what. */
#ifndef LORA4J_BACKEND_H
#define LORA4J_BACKEND_H

#include <stdint.h>

#include "lora4j.h"

#define L4_BACKEND_ABI 1
#define L4_BACKEND_SYMBOL "lora4j_backend_get"

/* A weight as stored in the model: n_out rows of n_in elements of a GGUF type, row_bytes apart. */
typedef struct l4b_weight {
    int32_t type;
    int64_t n_in, n_out;
    int64_t row_bytes;
    const void *data;          /* host; NULL in a shape-only description (memory plans) */
} l4b_weight;

/* Weights of one block; target index t as lora4j_lora_target bit t (q k v o gate up down). */
typedef struct l4b_layer {
    const float *attn_norm, *ffn_norm; /* [n_embd] */
    l4b_weight w[7];
    const float *bias[3];              /* q, k, v biases or NULL */
} l4b_layer;

typedef struct l4b_model {
    lora4j_hparams hp;
    l4b_weight tok_embd;               /* [n_vocab][n_embd] */
    l4b_weight output;                 /* the same as tok_embd when tied */
    const float *output_norm;          /* [n_embd] */
    const float *output_bias;          /* [n_vocab] or NULL */
    const l4b_layer *layers;           /* [n_layer] */
} l4b_model;

/* An adapter's pairs (lora4j_lora_pair: a [rank][n_in], b [n_out][rank] host f32, layer, target
 * bit) with each pair's own factor (alpha/r). Bias-only pairs (rank 0) carry bias_delta only. */
typedef struct l4b_adapter {
    int64_t n_pairs;
    const lora4j_lora_pair *pairs;
    const float *pair_scales;
} l4b_adapter;

/* A trainer: LoRA on top of frozen adapters, causal LM, as lora4j_trainer_new describes. */
typedef struct l4b_train_config {
    int32_t device;
    int64_t n_rows, n_seq;
    int32_t checkpointing;
    float dropout;                      /* on the trainable pairs' inputs */
    const l4b_adapter *trainable;       /* its pairs' a/b are the host copies synced after updates */
    const l4b_adapter *const *frozen;
    const float *frozen_scales;
    int32_t n_frozen;
} l4b_train_config;

/* One staged micro-batch of N = n_rows*n_seq tokens (validated by the engine). */
typedef struct l4b_batch {
    const int32_t *tokens;              /* [N] */
    const int32_t *seg;                 /* [N] segment ids, -1 padding */
    const float *rope_cs;               /* [N][n_rot] cos/sin per token (padding at position 0) */
    int64_t m;                          /* head rows */
    const int32_t *rows;                /* [m] token index whose hidden state predicts tgt */
    const int32_t *tgt;                 /* [m] */
    const float *wrow;                  /* [m] dL/dlog p; NULL: forward only */
} l4b_batch;

typedef struct l4_backend {
    int32_t abi;
    const char *name;                   /* "cuda" or "cuda-emulation" */
    const char *(*last_error)(void);

    /* Devices. device_count fails (with the reason: no driver, driver too old, …) when the
     * runtime cannot be used at all; 0 devices is a success. */
    int32_t (*device_count)(int32_t *out);
    int32_t (*device_info)(int32_t device, lora4j_device_info *out);

    /* Weights uploaded once, kept in their block types. */
    int32_t (*model_upload)(int32_t device, const l4b_model *m, void **out);
    void (*model_free)(void *model);

    /* Training. plan is a pure function of the shapes (m's data may be NULL). */
    int32_t (*trainer_plan)(const l4b_model *m, const l4b_train_config *c, lora4j_memory_plan *out);
    int32_t (*trainer_new)(void *model, const l4b_train_config *c, void **out);
    void (*trainer_free)(void *tr);
    /* Forward (adapter on or off) and, with b->wrow, backward accumulating gradients. lp[m] gets
     * the head rows' log-probs, *objective sum wrow*lp (NULL: skip). dropout_key 0: no dropout.
     * A non-finite objective: LORA4J_ERR_NUMERIC with gradients unchanged. */
    int32_t (*trainer_step)(void *tr, const l4b_batch *b, int32_t use_trainable, uint64_t dropout_key,
                            float *lp, double *objective);
    int32_t (*trainer_zero_grad)(void *tr);
    int32_t (*trainer_grad_sumsq)(void *tr, double *out);
    /* Scale by f (clip and grad_scale folded), update every pair with `o` at step `step` (1-based),
     * zero the gradients, and copy the new values into the trainable adapter's host a/b. */
    int32_t (*trainer_update)(void *tr, const lora4j_optim_params *o, float f, int64_t step);
    /* Optimizer moments, pair by pair (a then b): upload 0 downloads into m/v, 1 uploads. */
    int32_t (*trainer_moments)(void *tr, float *m, float *v, int64_t n, int32_t upload);

    /* Inference: a KV cache of n_seq_max sequences of n_ctx positions, chunks of n_batch tokens. */
    int32_t (*context_new)(void *model, int32_t n_ctx, int32_t n_seq_max, int32_t n_batch, void **out);
    void (*context_free)(void *ctx);
    int32_t (*context_set_adapters)(void *ctx, const l4b_adapter *const *ads, const float *scales,
                                    int32_t n);
    /* n <= n_batch tokens at (seq, pos) with their rope_cs [n][n_rot]; then the head for rows[]:
     * targets NULL writes logits [n_rows][n_vocab] to out, else log-probs of targets [n_rows]. */
    int32_t (*context_decode)(void *ctx, const int32_t *tokens, const int32_t *seq, const int32_t *pos,
                              int32_t n, const float *rope_cs, const int32_t *rows, int32_t n_rows,
                              const int32_t *targets, float *out);
    int32_t (*context_kv_copy)(void *ctx, int32_t src, int32_t dst, int32_t n_tokens);
} l4_backend;

typedef const l4_backend *(*l4_backend_get_fn)(int32_t abi);

#endif
