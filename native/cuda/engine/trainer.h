/* The GPU trainer: LoRA on a frozen, quantized model, the CPU trainer's graph (train/trainer.h)
 * on the device. Per layer over all N = n_rows*n_seq tokens:
 *   xn1 = rmsnorm(x)·g1 (bf16); q,k,v = lcu_project(xn1) + LoRA (rope on q,k); att,lse = attention
 *   x2 = x + Wo·att + LoRA; xn2 = rmsnorm(x2)·g2; g,u = W·xn2 + LoRA; x' = x2 + Wd·swiglu(g,u) + LoRA
 * Saved activations are bf16 except the residual stream (x, x2), lse and the LoRA h, which stay
 * f32 (mixed precision): projections produce f32 into the shared scratch `proj` (rope applied
 * there), then their bf16 copies are saved. The SwiGLU gradients replace g, u in bf16, which is
 * what the GEMMs consuming them would round them to.
 * The head scores the selected rows in chunks (never N x n_vocab logits) and turns its logits into
 * their gradient in place; backward runs the layers in reverse down to the lowest adapted one.
 * With checkpointing only each layer's input x is kept and the layer is recomputed in backward.
 * Every buffer is planned at creation, in one device allocation. */
#ifndef LORA4J_CUDA_TRAINER_H
#define LORA4J_CUDA_TRAINER_H

#include "engine/engine.h"

/* One layer's saved activations (with checkpointing all layers share one set, except x). */
typedef struct lcu_acts {
    float *x;                 /* [N][E] the layer's input (residual stream) */
    lcu_bf16 *xn1;            /* [N][E] */
    lcu_bf16 *q, *k, *v;      /* [N][Q], [N][KV], [N][KV] after biases, LoRA and rope */
    lcu_bf16 *att;            /* [N][Q] attention output */
    float *lse;               /* [N][n_head] */
    float *x2;                /* [N][E] residual stream after attention */
    lcu_bf16 *xn2;            /* [N][E] */
    lcu_bf16 *g, *u;          /* [N][F] gate and up pre-activations (their gradients in backward) */
    float *h;                 /* the trainable pairs' A·x of this layer, at h_off of each pair */
} lcu_acts;

typedef struct lcu_trainer {
    int32_t device;
    const lcu_dmodel *m;
    l4b_adapter host;         /* the trainable adapter's host pairs, synced after each update */
    lcu_dadapter *ad;         /* trainable: its values are the f32 masters */
    lcu_dadapter **frozen;    /* [n_frozen] */
    float *frozen_scales;
    lcu_lora_set fset;        /* the frozen adapters as lcu_project applies them */
    lcu_stream s;

    int64_t n_rows, n_seq, N, E, Q, KV, F, V;
    int H, HKV, HD, n_rot, neox, n_layer;
    float eps, dropout;
    int checkpointing;
    int floor;                /* lowest adapted layer: backward stops there */
    int64_t *h_off;           /* [n_pairs] offset of a pair's h in its layer's h block */
    int64_t h_floats, r_max, fr_max, n_in_max, head_chunk;

    float *grad, *mom1, *mom2;/* [n_values] each, the trainable values' layout */
    lcu_acts *acts;           /* host array [n_layer] of device views */
    float *x_out, *tmp;       /* [N][E] */
    float *proj;              /* [N][max(Q, F)] forward: a projection's f32 output before its bf16
                               * copy; backward: dL/d(swiglu output) */
    lcu_bf16 *act;            /* [N][F] swiglu output */
    lcu_bf16 *xdrop;          /* [N][n_in_max] dropped-out input (NULL without dropout) */
    float *dxdrop;            /* [N][n_in_max] its gradient */
    float *dx, *dxn;          /* [N][E] */
    float *dq, *dk, *dv, *datt; /* [N][Q], [N][KV], [N][KV], [N][Q] */
    float *dh;                /* [N][r_max] */
    int32_t *tokens, *seg, *rows, *tgt; /* [N] staged batch */
    float *rope_cs;           /* [N][n_rot] */
    float *wrow, *lp;         /* [N] */
    float *xg, *dxng, *dxg;   /* [head_chunk][E] gathered head rows */
    lcu_bf16 *xng;            /* [head_chunk][E] */
    float *logits;            /* [head_chunk][V] */
    double *sumsq;            /* one device double */
    lcu_arena mem;
} lcu_trainer;

/* What one forward pass applies. */
typedef struct lcu_pass {
    int use_trainable;
    uint64_t key;             /* dropout mask key of this micro-step; 0: no dropout */
} lcu_pass;

/* A dense row-major operand of rows x cols (ld = cols). */
static inline lcu_mat lcu_tr_dense(int32_t type, const void *p, int64_t rows, int64_t cols, int trans) {
    return lcu_mat{type, p, rows, cols, cols, trans};
}

/* Shapes from the model and the config (allocates h_off); fails on a configuration the GPU
 * does not train. */
int32_t lcu_tr_shapes(lcu_trainer *t, const lora4j_hparams *hp, const l4b_train_config *c);
/* Carves every buffer from a (NULL: only measures); returns the bytes. */
size_t lcu_tr_layout(lcu_trainer *t, lcu_arena *a);

/* Forward of every layer for the staged batch; layer il alone (full 0: stops before the down
 * projection, computing only the down pair's h, as backward's recomputation needs). */
void lcu_tr_forward(lcu_trainer *t, const lcu_pass *ps);
void lcu_tr_layer_forward(lcu_trainer *t, int il, const lcu_pass *ps, int full);
/* Applies the trainable pair of (il, t): y += s·(h = A·drop(x))·Bᵀ, h saved. */
void lcu_tr_lora_forward(lcu_trainer *t, int il, int tg, const lcu_bf16 *x, float *y, const lcu_pass *ps);
/* Backward from t->dx = dL/d(x_out) down to the floor layer. */
void lcu_tr_backward(lcu_trainer *t, const lcu_pass *ps);
/* The head over m staged rows: lp, and with_grad dL/d(x_out) into t->dx. */
void lcu_tr_head(lcu_trainer *t, int64_t m, int with_grad);

/* The backend table's trainer entries (backend.h). */
int32_t lcu_trainer_plan(const l4b_model *m, const l4b_train_config *c, lora4j_memory_plan *out);
int32_t lcu_trainer_new(void *model, const l4b_train_config *c, void **out);
void lcu_trainer_free(void *tr);
int32_t lcu_trainer_step(void *tr, const l4b_batch *b, int32_t use_trainable, uint64_t dropout_key, float *lp,
                         double *objective);
int32_t lcu_trainer_zero_grad(void *tr);
int32_t lcu_trainer_grad_sumsq(void *tr, double *out);
int32_t lcu_trainer_update(void *tr, const lora4j_optim_params *o, float f, int64_t step);
int32_t lcu_trainer_moments(void *tr, float *m, float *v, int64_t n, int32_t upload);

#endif
