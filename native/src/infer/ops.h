/* The operations of a llama block's forward pass, one function each (llm.c style). Buffers are
 * row-major: row i of a [n][ld] buffer starts at i*ld. */
#ifndef LORA4J_INFER_OPS_H
#define LORA4J_INFER_OPS_H

#include <stdint.h>

#include "lora4j.h"
#include "model/model.h"

/* x[i] = row tokens[i] of the embedding matrix, dequantized (ids already validated). */
void l4_embed(const l4_matrix *emb, const int32_t *tokens, int64_t n, float *x);

/* out[i] = rmsnorm(x[i]) * w for n rows of dim elements. */
void l4_rmsnorm(const float *x, const float *w, float *out, int64_t n, int64_t dim, float eps);

/* x[i] += b for n rows of dim elements. */
void l4_add_bias(float *x, const float *b, int64_t n, int64_t dim);

/* x += y, n elements. */
void l4_add(float *x, const float *y, int64_t n);

/* gate = silu(gate) * up, n rows of dim elements; rows split over n_threads. */
void l4_swiglu(float *gate, const float *up, int64_t n, int64_t dim, int n_threads);

/* RoPE as ggml computes it: theta_j = pos * base^(-2j/n_rot) / freq_factor_j, with linear
 * scaling (freq_scale) or YaRN (ext_factor ramp between interpolation and extrapolation,
 * magnitude attn_factor * (1 + 0.1 ln(1/freq_scale))). */
typedef struct l4_rope {
    int32_t n_rot;
    int32_t neox;              /* rotate (x[j], x[j+n_rot/2]) instead of (x[2j], x[2j+1]) */
    float freq_base;
    float freq_scale;
    float ext_factor;
    float attn_factor;
    float corr_dims[2];
    const float *freq_factors; /* [n_rot/2] or NULL */
} l4_rope;

void l4_rope_init(l4_rope *r, const lora4j_hparams *hp, const float *freq_factors);
/* cs[i*n_rot + 2j] = cos, cs[i*n_rot + 2j + 1] = sin of pair j at position pos[i]. */
void l4_rope_cache(const l4_rope *r, const int32_t *pos, int64_t n, float *cs);
/* Rotate the first n_rot dims of each of n_heads heads (head_dim apart) in n rows ld apart. */
void l4_rope_apply(const l4_rope *r, float *x, int64_t n, int64_t ld, int n_heads, int head_dim,
                   const float *cs);

/* Causal grouped-query attention of n query rows against a KV cache.
 * q: [n][n_head*hd]; out: [n][n_head*hd]; query i is at position pos[i] of its sequence and sees
 * cached positions 0..pos[i]; kv head of q head h = h / (n_head / n_head_kv). */
typedef struct l4_attn_args {
    const float *q;
    float *out;
    int64_t n;
    const int32_t *seq;
    const int32_t *pos;
    int n_head, n_head_kv, head_dim;
    /* cache of one layer: head g of sequence s starts at (s*n_head_kv + g) * n_ctx * hd */
    const float *k_cache, *v_cache;
    int64_t n_ctx;
    float *scores;             /* [n_threads][n_ctx] scratch */
    int n_threads;
} l4_attn_args;

void l4_attention(const l4_attn_args *a);

/* out[i] = logits_i[targets[i]] - logsumexp(logits_i) for n rows of n_vocab; n_threads split rows. */
void l4_logprobs(const float *logits, int64_t n, int64_t n_vocab, const int32_t *targets,
                 float *out, int n_threads);

#endif
