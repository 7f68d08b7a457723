/* The device operations of the CUDA backend: one host-side launcher per forward or backward op
 * (llm.c style), each enqueueing its kernels on a stream. All pointers are device pointers; all
 * matrices are row-major ([rows][ld]); sizes are validated by the engine before it calls here, so
 * launchers do not re-check them. Launch errors surface through cudaGetLastError(), which the
 * engine checks after each pass.
 *
 * Precision (issue 6): weights stay in their GGUF block type on the device and are dequantized
 * inside the GEMM's tile loads; GEMM operands are rounded to bf16 for the tensor cores and
 * accumulate in f32; the residual stream, gradients, LoRA masters and optimizer moments are f32;
 * saved activations are bf16 (GEMM inputs: normed activations, attention output, SwiGLU output;
 * attention's q, k, v; SwiGLU's g, u). */
#ifndef LORA4J_CUDA_OPS_H
#define LORA4J_CUDA_OPS_H

#include "lcu.h"

/* ------------------------------------------------------------------------------------------ */
/* Matrices and the one GEMM                                                                   */
/* ------------------------------------------------------------------------------------------ */

/* A matrix operand. Dense (F32 or BF16): element (r, c) at data[r*ld + c]. Quantized (any GGUF
 * block type of lora4j.h, also F16): rows of ld bytes, blocks along the columns, as in the file;
 * only the B operand may be quantized. `trans` makes the operand its transpose. */
typedef struct lcu_mat {
    int32_t type;      /* LORA4J_TYPE_F32, LORA4J_TYPE_BF16, or a block type */
    const void *data;
    int64_t rows, cols;/* as stored */
    int64_t ld;        /* dense: elements between rows; quantized: bytes per row */
    int32_t trans;
} lcu_mat;

/* C[M][N] = alpha * op(A)[M][K] · op(B)[K][N] + beta * C (beta 0: C is not read), C f32 with
 * row stride ldc. Forward projection Y = X·Wᵀ: A = X, B = W with trans 1. Backward through a
 * weight dX = dY·W: B = W with trans 0. */
void lcu_gemm(lcu_stream s, const lcu_mat *a, const lcu_mat *b, float alpha, float beta, float *c,
              int64_t ldc);

/* M, N and K of C = op(A)·op(B). */
static inline void lcu_gemm_dims(const lcu_mat *a, const lcu_mat *b, int64_t *m, int64_t *n, int64_t *k) {
    *m = a->trans ? a->cols : a->rows;
    *k = a->trans ? a->rows : a->cols;
    *n = b->trans ? b->rows : b->cols;
}

/* 1 when lcu_gemm can read a B operand of this type. */
int lcu_gemm_supports(int32_t type);

/* lcu_gemm has two implementations: "wmma", our kernels above with the dequantization inside
 * their tile loads, and "cublas", B dequantized tile-wise into bf16 (lcu_dequant_bf16) then
 * cuBLAS's bf16 tensor-core GEMM, cuBLAS loaded at run time (ops/cublas.h; never in the
 * emulation). Env LORA4J_CUDA_GEMM, read at first use, picks one: wmma, cublas (for every GEMM),
 * or auto (the default: cublas for the large GEMMs, wmma for the rest). Without cuBLAS, wmma
 * runs. lcu_gemm_path says which is in force: "wmma", "cublas" or "auto" (both, by size). */
const char *lcu_gemm_path(void);
/* Overrides LORA4J_CUDA_GEMM (tests: to run the same cases under each path); NULL re-reads it. */
void lcu_gemm_set_path(const char *name);
/* The number of slices lcu_gemm's wmma tiles split K into for C = op(A)[M][K]·op(B)[K][N] on
 * the current device: 1 when C's tiles fill the GPU or K is short (split-K, ops/gemm.cu). */
int lcu_gemm_splits(int64_t M, int64_t N, int64_t K);

/* Stored rows row0..row0+n_rows-1 of w (any type lcu_gemm_supports; w->trans is ignored) to
 * dense bf16 out[n_rows][w->cols]: each value bf16 of the CPU engine's dequantized value. */
void lcu_dequant_bf16(lcu_stream s, const lcu_mat *w, int64_t row0, int64_t n_rows, lcu_bf16 *out);

/* x[i] = row tokens[i] of emb ([n_vocab][E], any supported type, quantized rows of emb->ld bytes),
 * dequantized to f32. */
void lcu_embed(lcu_stream s, const lcu_mat *emb, const int32_t *tokens, int64_t n, float *x);

/* ------------------------------------------------------------------------------------------ */
/* Element-wise and row ops                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* y = bf16(x), n elements. */
void lcu_to_bf16(lcu_stream s, const float *x, lcu_bf16 *y, int64_t n);
/* x += y, n elements. */
void lcu_add(lcu_stream s, float *x, const float *y, int64_t n);
/* x *= a, n elements. */
void lcu_scale(lcu_stream s, float *x, float a, int64_t n);
/* x[i][j] += b[j] for n rows of dim. */
void lcu_add_bias(lcu_stream s, float *x, const float *b, int64_t n, int64_t dim);
/* db[j] += sum_i dy[i][j] (a bias gradient). */
void lcu_col_sum(lcu_stream s, const float *dy, int64_t n, int64_t dim, float *db);

/* out[i] = bf16(x[i] * rstd_i * w), rstd_i = 1/sqrt(mean(x[i]^2) + eps); also the f32 result in
 * out_f32 (NULL: skip). n rows of dim. */
void lcu_rmsnorm(lcu_stream s, const float *x, const float *w, int64_t n, int64_t dim, float eps,
                 lcu_bf16 *out, float *out_f32);
/* dx += d/dx of sum(dy * rmsnorm(x)·w); dw += its weight gradient (NULL: skip). */
void lcu_rmsnorm_backward(lcu_stream s, const float *x, const float *w, const float *dy, int64_t n,
                          int64_t dim, float eps, float *dx, float *dw);

/* RoPE in place on n rows (ld floats apart) of n_heads heads of head_dim, rotating the first n_rot
 * dims of each head: pairs (2j, 2j+1), or (j, j + n_rot/2) with neox. cs[i][2j], cs[i][2j+1] are
 * cos and sin (magnitude included) of pair j of row i, [n][n_rot]. backward applies the inverse
 * rotation (the gradient of the forward). */
void lcu_rope(lcu_stream s, float *x, int64_t n, int64_t ld, int n_heads, int head_dim, int n_rot,
              int neox, const float *cs);
void lcu_rope_backward(lcu_stream s, float *dx, int64_t n, int64_t ld, int n_heads, int head_dim,
                       int n_rot, int neox, const float *cs);

/* out = bf16(silu(g) * u), n elements, from the trainer's saved bf16 g, u; _f32 from f32 g, u
 * (the inference context's). backward: dg = bf16(dout * d silu(g) * u), du = bf16(dout *
 * silu(g)), overwritten, and may be g, u themselves: bf16 loses nothing there, as the gradients
 * feed only lcu_gemm's A operand, which it rounds to bf16 anyway. */
void lcu_swiglu(lcu_stream s, const lcu_bf16 *g, const lcu_bf16 *u, int64_t n, lcu_bf16 *out);
void lcu_swiglu_f32(lcu_stream s, const float *g, const float *u, int64_t n, lcu_bf16 *out);
void lcu_swiglu_backward(lcu_stream s, const lcu_bf16 *g, const lcu_bf16 *u, const float *dout, int64_t n,
                         lcu_bf16 *dg, lcu_bf16 *du);

/* Inverted dropout with keep probability 1-p: out = bf16(x * mask / (1-p)); the mask is the CPU
 * trainer's (train/train_dropout.c: element i kept when l4_u01_from_bits(l4_mix64(key + i *
 * golden)) >= p, lora/lora_rng.h), so masks match the CPU's bit for bit and backward recomputes
 * it: dx += dout * mask / (1-p). */
void lcu_dropout(lcu_stream s, const lcu_bf16 *x, lcu_bf16 *out, int64_t n, float p, uint64_t key);
void lcu_dropout_backward(lcu_stream s, const float *dout, float *dx, int64_t n, float p, uint64_t key);

/* ------------------------------------------------------------------------------------------ */
/* Attention                                                                                   */
/* ------------------------------------------------------------------------------------------ */

/* The attention ops below take head_dim 1..LCU_ATTN_MAX_HEAD_DIM (the engine validates it). */
#define LCU_ATTN_MAX_HEAD_DIM 256

/* Training attention over packed rows, flash-style (tiles of queries against tiles of keys with
 * an online softmax; never a T×T score matrix). n_rows rows of n_seq tokens; token t of a row
 * sees token u <= t of the same row when seg[u] == seg[t] >= 0; padding (seg -1) outputs 0.
 * q [N][n_head*hd] and k, v [N][n_head_kv*hd] bf16 (N = n_rows*n_seq; the trainer saves them
 * so), q head h reads kv head h / (n_head/n_head_kv); scale 1/sqrt(hd); scores, softmax and
 * accumulations in f32. out [N][n_head*hd] bf16; lse [N][n_head] the log-sum-exp of each query's
 * scaled scores (0 for padding). */
typedef struct lcu_attn {
    const lcu_bf16 *q, *k, *v;
    const int32_t *seg;
    int64_t n_rows, n_seq;
    int n_head, n_head_kv, head_dim;
} lcu_attn;
void lcu_attention(lcu_stream s, const lcu_attn *a, lcu_bf16 *out, float *lse);
/* Its gradient (recomputing the scores from q, k and lse): dq, dk, dv overwritten, from dout
 * [N][n_head*hd] f32 and the forward's out. */
void lcu_attention_backward(lcu_stream s, const lcu_attn *a, const lcu_bf16 *out, const float *lse,
                            const float *dout, float *dq, float *dk, float *dv);
/* The two kernel families behind them: f32 FMAs for any head_dim, and tensor cores (wmma, bf16
 * operands including P, dO and dS, f32 accumulation) for head_dim a multiple of 16 up to 128
 * only, which lcu_attention(_backward) choose when they apply. Declared so a test runs each. */
void lcu_attention_fma(lcu_stream s, const lcu_attn *a, lcu_bf16 *out, float *lse);
void lcu_attention_fma_backward(lcu_stream s, const lcu_attn *a, const lcu_bf16 *out, const float *lse,
                                const float *dout, float *dq, float *dk, float *dv);
void lcu_attention_mma(lcu_stream s, const lcu_attn *a, lcu_bf16 *out, float *lse);
void lcu_attention_mma_backward(lcu_stream s, const lcu_attn *a, const lcu_bf16 *out, const float *lse,
                                const float *dout, float *dq, float *dk, float *dv);

/* Decoding attention against a KV cache of bf16 rows, layout [n_seq_max][n_head_kv][n_ctx][hd]
 * for one layer. kv_store writes the n new tokens' k, v ([n][n_head_kv*hd] f32) at (seq[i],
 * pos[i]); attention_cache then lets query i (q [n][n_head*hd]) see positions 0..pos[i] of
 * sequence seq[i]. out [n][n_head*hd] bf16. */
typedef struct lcu_kv {
    lcu_bf16 *k, *v;
    int64_t n_ctx;
    int n_head_kv, head_dim;
} lcu_kv;
void lcu_kv_store(lcu_stream s, const lcu_kv *kv, const float *k, const float *v, const int32_t *seq,
                  const int32_t *pos, int64_t n);
void lcu_attention_cache(lcu_stream s, const lcu_kv *kv, const float *q, const int32_t *seq,
                         const int32_t *pos, int64_t n, int n_head, lcu_bf16 *out);

/* ------------------------------------------------------------------------------------------ */
/* Output head and optimizer                                                                   */
/* ------------------------------------------------------------------------------------------ */

/* For m rows of V logits (in place): lp[i] = logits[i][tgt[i]] - logsumexp(logits[i]). With w
 * (NULL: forward only) the rows become the gradient of sum_i w[i]*lp[i] with respect to the
 * logits: w[i] * (onehot(tgt[i]) - softmax(logits[i])). */
void lcu_head_logprobs(lcu_stream s, float *logits, int64_t m, int64_t V, const int32_t *tgt,
                       const float *w, float *lp);

/* *acc (a device double) += sum of x[i]^2, n elements. */
void lcu_sum_squares(lcu_stream s, const float *x, int64_t n, double *acc);
/* Flags a non-finite value of x: *flag (device int) set to 1 if any. */
void lcu_check_finite(lcu_stream s, const float *x, int64_t n, int32_t *flag);

/* The CPU trainer's updates (train/grad_optim.c, PyTorch's AdamW and SGD), on n values of one
 * tensor with g' = g * gscale: AdamW m = b1 m + (1-b1) g'; v = b2 v + (1-b2) g'^2;
 * p = p (1 - lr wd) - (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps), bc = 1 - beta^step computed in
 * double; SGD d = g' + wd p; buf = momentum buf + d; p -= lr buf. */
void lcu_adamw(lcu_stream s, float *p, const float *g, float *m, float *v, int64_t n, float lr,
               float b1, float b2, float eps, float wd, int64_t step, float gscale);
void lcu_sgd(lcu_stream s, float *p, const float *g, float *buf, int64_t n, float lr, float momentum,
             float wd, float gscale);

#endif
