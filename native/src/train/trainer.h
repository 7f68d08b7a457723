/* Internal view of the trainer: the training graph of a llama block stack over n_rows x n_seq
 * packed tokens, with every buffer planned at creation (llm.c style).
 *
 * Forward (per layer, all N = n_rows*n_seq tokens at once, exact f32 products):
 *   xn1 = rmsnorm(x)·g1; q,k,v = W·xn1 + b + LoRA (rope on q,k); att,lse = attention(q,k,v)
 *   x2 = x + Wo·att + LoRA; xn2 = rmsnorm(x2)·g2; g,u = W·xn2 + LoRA; x' = x2 + Wd·swiglu(g,u) + LoRA
 * The head scores only the rows that predict a token (chunked, never N x n_vocab logits); a
 * classifier's head (n_labels > 0) instead scores each segment's last row, in place of the LM head.
 * Backward runs the layers in reverse down to the lowest layer that holds a trained parameter;
 * with checkpointing only each layer's input x is kept and the layer is recomputed first. */
#ifndef LORA4J_TRAIN_TRAINER_H
#define LORA4J_TRAIN_TRAINER_H

#include <stdint.h>

#include "infer/ops.h"
#include "lora/adapter.h"
#include "lora/lora_rng.h"
#include "lora/lora_stack.h"
#include "model/model.h"
#include "train/grad_ops.h"

/* One layer's saved activations (with checkpointing all layers share one set, except x). */
typedef struct tr_acts {
    float *x;          /* [N][E] the layer's input (residual stream) */
    float *xn1;        /* [N][E] attention-normed input of q/k/v */
    float *q, *k, *v;  /* [N][Q], [N][KV], [N][KV] after biases, LoRA and (q, k) rope */
    float *att, *lse;  /* [N][Q] attention output; [N][n_head] its log-sum-exp */
    float *x2;         /* [N][E] residual stream after attention */
    float *xn2;        /* [N][E] ffn-normed input of gate/up */
    float *g, *u;      /* [N][F] gate and up pre-activations */
    float *h;          /* the trainable pairs' A·x of this layer (at h_off of each pair) */
} tr_acts;

/* Full fine-tuning: gradient of each weight of a layer, NULL when it is frozen. */
typedef struct tr_layer_grads {
    float *attn_norm, *ffn_norm;
    float *w[L4_N_TARGETS];
    float *b[3]; /* q, k, v biases */
} tr_layer_grads;

/* A trained tensor: values p[n] (GGUF shape ne0 x ne1), its gradient and optimizer moments at
 * offset `off` of the flat grad/m/v buffers. */
typedef struct tr_param {
    char name[L4_LORA_NAME_MAX + 8];
    float *p;
    int64_t n, ne0, ne1;
    int decay;        /* weight decay applies (2-D weights; not biases or norms) */
    int64_t off;
} tr_param;

/* What one forward pass applies. */
typedef struct tr_pass {
    int use_trainable;
    int dropout;      /* inverted dropout on the trainable pairs' inputs */
    uint64_t key;     /* mask key of this micro-step */
} tr_pass;

struct lora4j_trainer {
    const lora4j_model *model;
    lora4j_train_params p;
    int nth;
    lora4j_adapter *ad;          /* trainable adapter; NULL with full fine-tuning */
    l4_lora_stack frozen;        /* frozen adapters (lists owned by frozen_mem) */
    void *frozen_mem;

    /* the weights the graph reads: the model's, or owned f32 copies of the trained ones */
    l4_layer *layers;
    l4_matrix tok_embd, output;
    const float *output_norm;
    float *owned;
    tr_layer_grads *lgrad;       /* full fine-tuning, [n_layer] */
    float *g_tok_embd, *g_output, *g_output_norm;
    int train_embd;
    float *cls_w, *g_cls;        /* classification head [n_labels][E] and its gradient, or NULL */

    tr_param *params;
    int n_params;
    int64_t n_train;             /* trained values */
    float *grad, *m, *v;         /* [n_train] each (one allocation) */
    void *param_mem;
    int64_t steps, micro_steps;
    int32_t optim_kind;          /* -1 before the first optimizer step */
    uint64_t fingerprint;
    int floor;                   /* lowest layer whose backward runs (n_layer: none) */

    int64_t N, E, Q, KV, F, V, n_in_max;
    int H, HKV, HD;
    float eps;
    l4_rope rope;
    l4_train_attn attn;
    int64_t head_chunk;
    int64_t *h_off;              /* [n_pairs] offset of a pair's h in its layer's h block */
    int64_t h_floats;            /* largest layer h block */
    int64_t r_max;               /* largest trainable rank */

    tr_acts *acts;               /* [n_layer] */
    float *x_out;                /* [N][E] output of the last layer */
    float *tmp, *act;            /* [N][E], [N][F] */
    float *xdrop, *dxdrop;       /* [N][n_in_max] dropout input and its gradient */
    float *dx, *dxn;             /* [N][E] */
    float *dq, *dk, *dv, *datt;  /* [N][Q], [N][KV], [N][KV], [N][Q] */
    float *dact;                 /* [N][F] (the gate/up gradients overwrite their saved inputs) */
    float *dh;                   /* [N][r_max] */
    float *rope_cs;              /* [N][n_rot] cos/sin of the staged positions */
    int32_t *pos;                /* [N] positions, padding at 0 */
    int32_t *rows, *tgt;         /* [N] head rows and their targets (token ids, or labels) */
    float *wrow, *lp;            /* [N] */
    float *xg, *xng, *dxng, *dxg;/* [N][E] gathered head rows */
    float *logits;               /* [head_chunk][V], or [N][n_labels] for a classifier */
    int32_t *seg_ids;            /* [N] batch validation scratch */
    void *arena;
    int64_t arena_bytes;
    /* a CUDA trainer (p.device >= 0): the backend's trainer does the graph; the host keeps the
     * parameter registry, the moments for state files and the batch staging (trainer_device.c) */
    const struct l4_backend *be;
    void *dev;
};

/* Plan the activation arena: assign every buffer from base (NULL: only measure); returns the
 * bytes needed (-1 on overflow). Needs dims, h_off/h_floats, r_max and params set. */
int64_t l4_tr_layout(lora4j_trainer *tr, uint8_t *base);

/* Shapes and derived sizes from the model, adapter and params (no allocation but h_off). */
int32_t l4_tr_shapes(lora4j_trainer *tr, const lora4j_model *model, lora4j_adapter *ad,
                     const lora4j_train_params *p);

/* Parameter registry: the trainable adapter's tensors (LoRA), or the model's trained tensors
 * copied to owned f32 with the graph's views redirected to them (full); allocates the flat
 * grad/m/v buffers. count_only: only n_params/n_train (for the plan). */
int32_t l4_tr_params_lora(lora4j_trainer *tr, int count_only);
int32_t l4_tr_params_full(lora4j_trainer *tr, int count_only);

/* Forward of all layers for the batch staged in tr (pos, rope cache, attention segments). */
void l4_tr_forward(lora4j_trainer *tr, const int32_t *tokens, const tr_pass *ps);
/* Layer il's forward; full = 0 skips the down projection and the residual (backward's
 * recomputation needs only the saved activations and the trainable pairs' h). */
void l4_tr_layer_forward(lora4j_trainer *tr, int il, const tr_pass *ps, int full);
/* Backward from tr->dx = dL/d(x_out) down to the floor layer (and the embedding). */
void l4_tr_backward(lora4j_trainer *tr, const int32_t *tokens, const tr_pass *ps);

/* Shared by the causal-LM step (trainer_step.c) and the classification step (trainer_classify.c). */
/* Checks a packed batch (tokens, segments, positions; weights when not NULL) and stages its
 * positions; LORA4J_ERR_INVALID_ARGUMENT naming the token. */
int32_t l4_tr_check_batch(lora4j_trainer *tr, const int32_t *tokens, const int32_t *pos, const int32_t *seg,
                          const float *weights, const char *what);
/* Rope cache and attention segments of the checked batch. */
void l4_tr_stage(lora4j_trainer *tr, const int32_t *seg);
/* The pass of the next training micro-step (dropout mask key), counting it. */
tr_pass l4_tr_train_pass(lora4j_trainer *tr);
/* Gathers x_out's rows tr->rows[0..m) into xg and output-norms them into xng; 0 when a normed
 * value is not finite. */
int l4_tr_head_input(lora4j_trainer *tr, int64_t m);
/* The head (the LM head, or the classifier's) over the m gathered rows with targets tr->tgt:
 * lp, and with_grad the objective sum wrow·lp, its gradient in dxng and the trained head's. NaN,
 * with nothing computed, when an input of the head is not finite. */
double l4_tr_run_head(lora4j_trainer *tr, int64_t m, int with_grad);
/* dL/d(x_out) from the head's dxng, through the output norm. */
void l4_tr_head_backward(lora4j_trainer *tr, int64_t m);

/* Inverted dropout of n values with keep probability 1-p: out = x * mask / (1-p), the mask a
 * pure function of (key, element index). backward: dx += dxd * mask / (1-p). */
void l4_tr_dropout_forward(const float *x, float *out, int64_t n, float p, uint64_t key, int n_threads);
void l4_tr_dropout_backward(const float *dxd, float *dx, int64_t n, float p, uint64_t key, int n_threads);

/* ---- the CUDA trainer (trainer_device.c) ----------------------------------------------------- */
/* What the GPU trains: LoRA on a causal LM (UNSUPPORTED otherwise). */
int32_t l4_trd_check(const lora4j_adapter *trainable, const lora4j_train_params *p, const char *what);
int32_t l4_trd_plan(const lora4j_model *model, const lora4j_adapter *trainable, const lora4j_train_params *p,
                    lora4j_memory_plan *out);
/* After l4_trd_check, shapes, frozen adapters and the parameter registry: host staging, the
 * model on the device (shared upload) and the backend's trainer. */
int32_t l4_trd_new(lora4j_trainer *tr);
void l4_trd_free(lora4j_trainer *tr);
/* The staged batch's m head rows (tr->rows/tgt/wrow) through the device: tr->lp, and with_grad
 * the objective and the backward. */
int32_t l4_trd_step(lora4j_trainer *tr, const int32_t *tokens, const int32_t *seg, int64_t m, const tr_pass *ps,
                    int with_grad, double *objective);
int32_t l4_trd_zero_grad(lora4j_trainer *tr);
int32_t l4_trd_grad_sumsq(lora4j_trainer *tr, double *out);
int32_t l4_trd_update(lora4j_trainer *tr, const lora4j_optim_params *o, double f, int64_t step);
/* Moments between the device and tr->m / tr->v (upload 1: to the device). */
int32_t l4_trd_moments(lora4j_trainer *tr, int upload);

#endif
