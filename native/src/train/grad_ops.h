/* Backward kernels of the training graph, one per forward op (llm.c style), plus the training
 * forward ops that differ from inference (full-sequence attention with packed segments) and the
 * optimizer updates. Row-major buffers: row i of a [n][ld] buffer starts at i*ld.
 * Conventions: d* outputs ACCUMULATE (+=) unless the comment says "writes"; n_threads <= 0 means
 * all cores of the shared pool. Shapes, token ids and targets are the caller's, already
 * validated: nothing here checks them. Nothing here allocates heap memory (scratch comes from
 * the caller; the GEMM behind attention, LoRA and dW packs panels in 56 KiB of stack;
 * l4_linear_backward_x and l4_head_logprobs call the quantization layer's matmuls, which do).
 * Every kernel here has a finite-difference check in native/tests/test_grad_*.c, the optimizers
 * a hand-computed trajectory. */
#ifndef LORA4J_TRAIN_GRAD_OPS_H
#define LORA4J_TRAIN_GRAD_OPS_H

#include <stdint.h>

#include "infer/ops.h"
#include "model/model.h"

/* ---- RMSNorm: out = x / rms(x) * w (forward: l4_rmsnorm) ------------------------------------ */
/* dx += d(out)/dx · dout; dw += sum over rows of d(out)/dw · dout (dw may be NULL). */
void l4_rmsnorm_backward(const float *x, const float *w, const float *dout, float *dx, float *dw,
                         int64_t n, int64_t dim, float eps);

/* ---- RoPE (forward: l4_rope_apply) ----------------------------------------------------------- */
/* In place: turns d(rotated) into d(unrotated) (the transposed rotation: the inverse one unless
 * YaRN scales the magnitude), same layout as apply. */
void l4_rope_backward(const l4_rope *r, float *dx, int64_t n, int64_t ld, int n_heads, int head_dim,
                      const float *cs);

/* ---- SwiGLU: h = silu(g) * u (forward: l4_swiglu, which overwrites g) ----------------------- */
/* Given the forward INPUTS g and u: writes dg and du (n rows of dim); dg may alias g and du
 * may alias u (the saved inputs overwritten by their gradients). */
void l4_swiglu_backward(const float *g, const float *u, const float *dh, float *dg, float *du,
                        int64_t n, int64_t dim, int n_threads);

/* ---- Attention over packed training rows ----------------------------------------------------- */
/* n_rows rows of n_seq tokens each. Token t of a row attends to tokens s <= t of the same row
 * with seg[s] == seg[t] (seg < 0 marks padding, which attends only to itself).
 * q: [n_rows*n_seq][n_head*hd], k,v: [n_rows*n_seq][n_head_kv*hd], out like q,
 * lse: [n_rows*n_seq][n_head] log-sum-exp of the scaled scores, saved for backward (so nothing
 * of size n_seq x n_seq is stored). kv head of q head h = h / (n_head / n_head_kv). */
typedef struct l4_train_attn {
    int64_t n_rows, n_seq;
    int n_head, n_head_kv, head_dim;
    const int32_t *seg;        /* [n_rows*n_seq] */
    int n_threads;
    float *scratch;            /* l4_train_attn_scratch_floats() floats */
} l4_train_attn;

int64_t l4_train_attn_scratch_floats(const l4_train_attn *a);
void l4_train_attn_forward(const l4_train_attn *a, const float *q, const float *k, const float *v,
                           float *out, float *lse);
/* dq, dk, dv ACCUMULATE. out and lse are the forward's. */
void l4_train_attn_backward(const l4_train_attn *a, const float *q, const float *k, const float *v,
                            const float *out, const float *lse, const float *dout, float *dq,
                            float *dk, float *dv);

/* ---- Linear maps ----------------------------------------------------------------------------- */
/* dx[t] += W^T dy[t] through a frozen weight of any type (exact f32, tiles dequantized). */
void l4_linear_backward_x(const l4_matrix *w, const float *dy, int64_t n, float *dx, int n_threads);
/* dW[o][i] += sum_t dy[t][o] * x[t][i] for an f32 weight's gradient (full fine-tuning);
 * x: [n][n_in], dy: [n][n_out], dw: [n_out][n_in]. */
void l4_linear_backward_w(const float *x, const float *dy, int64_t n, int64_t n_in, int64_t n_out,
                          float *dw, int n_threads);

/* ---- LoRA: y += s * B (A x), A: [r][n_in], B: [n_out][r] (row-major, as PEFT's weights) ------ */
/* Writes h = A x ([n][r]) and adds s * B h to y. */
void l4_lora_forward(const float *a, const float *b, int64_t r, int64_t n_in, int64_t n_out, float s,
                     const float *x, int64_t n, float *h, float *y, int n_threads);
/* With the saved h: dA += (s B^T dy) x^T, dB += s dy h^T, dx += A^T (s B^T dy) (dx may be NULL).
 * dh_scratch: [n][r]. */
void l4_lora_backward(const float *a, const float *b, int64_t r, int64_t n_in, int64_t n_out, float s,
                      const float *x, const float *h, const float *dy, int64_t n, float *da, float *db,
                      float *dx, float *dh_scratch, int n_threads);

/* ---- Embedding (full fine-tuning) ------------------------------------------------------------ */
/* demb[tokens[i]] += dx[i] (f32 [n_vocab][n_embd]); rows touched by several i sum. */
void l4_embed_backward(const int32_t *tokens, int64_t n, const float *dx, float *demb, int64_t n_embd);

/* ---- Output head + log-probabilities, chunked --------------------------------------------------- */
/* For rows i in [0,n): logits_i = W xn_i (+ bias), lp_i = log softmax(logits_i)[target_i].
 * Writes lp[i] for every row (target < 0: lp = 0, no gradient). If weight != NULL, the objective
 * L = sum_i weight[i] * lp_i is differentiated: dxn[i] += W^T dlogits_i and (full fine-tuning)
 * dw += dlogits^T xn (dxn, dw may be NULL), with dlogits_i = weight[i] * (onehot(target_i) -
 * softmax_i); rows with weight 0 cost no backward work. Works over chunks of `chunk` rows using
 * logits_scratch ([chunk][n_vocab]), so no n x n_vocab buffer ever exists. W (and dW, when
 * given) streams once per chunk, so bigger chunks are faster: at 32000 x 288, 256 rows beat 64
 * by ~30%, and with dW 16 rows are 3x slower than 256. Returns L (0 when weight == NULL). */
double l4_head_logprobs(const l4_matrix *w, const float *bias, const float *xn, int64_t n,
                        const int32_t *target, const float *weight, float *lp, float *dxn, float *dw,
                        float *logits_scratch, int64_t chunk, int n_threads);

/* ---- Optimizers (in place, n parameters) --------------------------------------------------- */
/* AdamW (decoupled weight decay, bias-corrected, step >= 1):
 * m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr (m^/(sqrt(v^)+eps) + wd p). */
void l4_adamw_update(float *p, const float *g, float *m, float *v, int64_t n, float lr, float beta1,
                     float beta2, float eps, float weight_decay, int64_t step);
/* SGD with momentum (PyTorch's form): buf = mu buf + g + wd p; p -= lr buf. */
void l4_sgd_update(float *p, const float *g, float *buf, int64_t n, float lr, float momentum,
                   float weight_decay);
/* sum of squares of n values, in double. */
double l4_sum_squares(const float *x, int64_t n);

#endif
