/* Builds small random llama/qwen2 GGUF models with the gguf writer, for the model and forward
 * tests and the forward benchmark. Seeded, so every run writes the same bytes. Knobs leave out
 * or misshape one tensor to exercise the loader's checks. Header-only (static functions). */
#ifndef LORA4J_MODEL_FIXTURE_BUILD_H
#define LORA4J_MODEL_FIXTURE_BUILD_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lora4j.h"

typedef struct fx_model {
    const char *arch;          /* general.architecture */
    int32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx_train;
    int32_t n_rot;             /* 0: no rope.dimension_count key */
    int32_t key_length;        /* 0: no attention.key_length key */
    int32_t write_head_kv;     /* 0: no head_count_kv key */
    float rope_base;           /* 0: no rope.freq_base key */
    float rms_eps;
    int32_t wtype;             /* type of the 2-D weights */
    int32_t embd_type;         /* type of token_embd / output; -1: wtype */
    int32_t vec_type;          /* type of norms and biases (f32, f16 or bf16) */
    int tied;                  /* no output.weight */
    int qkv_bias;              /* q/k/v biases */
    int fused_qkv;             /* one attn_qkv tensor (and bias) */
    int vocab_tokens;          /* tokenizer.ggml.tokens instead of {arch}.vocab_size */
    const char *rope_scaling;  /* rope.scaling.type value, NULL: no key */
    float rope_factor;         /* rope.scaling.factor, 0: no key */
    int32_t rope_orig_ctx;     /* 0: no key */
    float yarn_beta_fast, yarn_beta_slow; /* 0: no key */
    float low_freq_factor, high_freq_factor; /* llama3 keys, 0: no key */
    const float *rope_freqs;   /* rope_freqs.weight [n_rot/2], NULL: none */
    uint32_t seed;
    const char *omit;          /* tensor to leave out */
    const char *misshape;      /* tensor written one row (or element) too long */
    int no_tensors;            /* metadata only */
} fx_model;

static inline fx_model fx_default(void) {
    fx_model m;
    memset(&m, 0, sizeof m);
    m.arch = "llama";
    m.n_vocab = 96;
    m.n_embd = 64;
    m.n_layer = 2;
    m.n_head = 4;
    m.n_head_kv = 4;
    m.write_head_kv = 1;
    m.n_ff = 96;
    m.n_ctx_train = 128;
    m.rope_base = 10000.0f;
    m.rms_eps = 1e-5f;
    m.wtype = LORA4J_TYPE_F32;
    m.embd_type = -1;
    m.seed = 1234;
    return m;
}

static inline uint32_t fx_rand(uint32_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Uniform in [-1, 1). */
static inline float fx_uniform(uint32_t *s) { return (float)((fx_rand(s) >> 8) * (2.0 / 16777216.0) - 1.0); }

static int fx_head_dim(const fx_model *m) {
    return m->key_length ? m->key_length : m->n_head > 0 ? m->n_embd / m->n_head : 1;
}

/* Adds one tensor of n_out rows of n_in values (n_out 0: 1-D) drawn as base + scale*u, stored as
 * `type` (quantized through lora4j_quantize). */
static lora4j_status_t fx_add(lora4j_gguf_writer *w, const fx_model *m, uint32_t *rng, const char *name,
                              int32_t type, int64_t n_in, int64_t n_out, float base, float scale) {
    if (m->omit && strcmp(m->omit, name) == 0) {
        /* keep the random stream aligned with the complete model */
        for (int64_t i = 0; i < n_in * (n_out ? n_out : 1); i++) fx_rand(rng);
        return LORA4J_OK;
    }
    int64_t rows = n_out ? n_out : 1;
    float *data = (float *)malloc((size_t)(n_in * rows) * sizeof(float));
    if (!data) return LORA4J_ERR_OUT_OF_MEMORY;
    for (int64_t i = 0; i < n_in * rows; i++) data[i] = base + scale * fx_uniform(rng);
    int64_t ne[2] = {n_in, n_out};
    if (m->misshape && strcmp(m->misshape, name) == 0) {
        /* one more row (1-D: one more element); the extra values are copies */
        float *more = (float *)realloc(data, (size_t)(n_in * (rows + 1)) * sizeof(float));
        if (!more) { free(data); return LORA4J_ERR_OUT_OF_MEMORY; }
        data = more;
        memcpy(data + n_in * rows, data + n_in * (rows - 1), (size_t)n_in * sizeof(float));
        if (n_out) { ne[1] = n_out + 1; rows++; } else { ne[0] = n_in + 1; }
    }
    int32_t n_dims = n_out ? 2 : 1;
    if (!n_out) type = m->vec_type;
    int64_t rb = lora4j_row_bytes(type, ne[0]);
    lora4j_status_t st;
    if (rb < 0) {
        st = LORA4J_ERR_INVALID_ARGUMENT;
    } else if (type == LORA4J_TYPE_F32) {
        st = lora4j_gguf_writer_add_tensor(w, name, type, n_dims, ne, data, (uint64_t)(rb * rows));
    } else {
        void *q = malloc((size_t)(rb * rows));
        st = q ? lora4j_quantize(type, data, rows, ne[0], q, (size_t)(rb * rows)) : LORA4J_ERR_OUT_OF_MEMORY;
        if (st == LORA4J_OK) st = lora4j_gguf_writer_add_tensor(w, name, type, n_dims, ne, q, (uint64_t)(rb * rows));
        free(q);
    }
    free(data);
    return st;
}

static lora4j_status_t fx_u32(lora4j_gguf_writer *w, const fx_model *m, const char *suffix, uint32_t v) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", m->arch, suffix);
    return lora4j_gguf_writer_set_scalar(w, key, LORA4J_GGUF_UINT32, &v);
}

static lora4j_status_t fx_f32(lora4j_gguf_writer *w, const fx_model *m, const char *suffix, float v) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", m->arch, suffix);
    return lora4j_gguf_writer_set_scalar(w, key, LORA4J_GGUF_FLOAT32, &v);
}

static lora4j_status_t fx_metadata(lora4j_gguf_writer *w, const fx_model *m) {
    lora4j_status_t st = lora4j_gguf_writer_set_string(w, "general.architecture", m->arch, strlen(m->arch));
#define FX(call) if (st == LORA4J_OK) st = (call)
    FX(fx_u32(w, m, "context_length", (uint32_t)m->n_ctx_train));
    FX(fx_u32(w, m, "embedding_length", (uint32_t)m->n_embd));
    FX(fx_u32(w, m, "block_count", (uint32_t)m->n_layer));
    FX(fx_u32(w, m, "feed_forward_length", (uint32_t)m->n_ff));
    FX(fx_u32(w, m, "attention.head_count", (uint32_t)m->n_head));
    if (m->write_head_kv) FX(fx_u32(w, m, "attention.head_count_kv", (uint32_t)m->n_head_kv));
    if (m->n_rot) FX(fx_u32(w, m, "rope.dimension_count", (uint32_t)m->n_rot));
    if (m->key_length) {
        FX(fx_u32(w, m, "attention.key_length", (uint32_t)m->key_length));
        FX(fx_u32(w, m, "attention.value_length", (uint32_t)m->key_length));
    }
    if (m->rope_base) FX(fx_f32(w, m, "rope.freq_base", m->rope_base));
    FX(fx_f32(w, m, "attention.layer_norm_rms_epsilon", m->rms_eps));
    if (m->rope_scaling) {
        char key[128];
        snprintf(key, sizeof key, "%s.rope.scaling.type", m->arch);
        FX(lora4j_gguf_writer_set_string(w, key, m->rope_scaling, strlen(m->rope_scaling)));
    }
    if (m->rope_factor) FX(fx_f32(w, m, "rope.scaling.factor", m->rope_factor));
    if (m->rope_orig_ctx) FX(fx_u32(w, m, "rope.scaling.original_context_length", (uint32_t)m->rope_orig_ctx));
    if (m->yarn_beta_fast) FX(fx_f32(w, m, "rope.scaling.yarn_beta_fast", m->yarn_beta_fast));
    if (m->yarn_beta_slow) FX(fx_f32(w, m, "rope.scaling.yarn_beta_slow", m->yarn_beta_slow));
    if (m->low_freq_factor) FX(fx_f32(w, m, "rope.scaling.low_freq_factor", m->low_freq_factor));
    if (m->high_freq_factor) FX(fx_f32(w, m, "rope.scaling.high_freq_factor", m->high_freq_factor));
    if (m->vocab_tokens) {
        const char **strs = (const char **)malloc((size_t)m->n_vocab * sizeof *strs);
        uint64_t *lens = (uint64_t *)malloc((size_t)m->n_vocab * sizeof *lens);
        char *buf = (char *)malloc((size_t)m->n_vocab * 16);
        if (!strs || !lens || !buf) st = LORA4J_ERR_OUT_OF_MEMORY;
        for (int32_t i = 0; st == LORA4J_OK && i < m->n_vocab; i++) {
            strs[i] = buf + 16 * i;
            lens[i] = (uint64_t)snprintf(buf + 16 * i, 16, "t%d", i);
        }
        FX(lora4j_gguf_writer_set_string_array(w, "tokenizer.ggml.tokens", strs, lens, (uint64_t)m->n_vocab));
        FX(lora4j_gguf_writer_set_string(w, "tokenizer.ggml.model", "llama", 5));
        free(strs);
        free(lens);
        free(buf);
    } else {
        FX(fx_u32(w, m, "vocab_size", (uint32_t)m->n_vocab));
    }
#undef FX
    return st;
}

static lora4j_status_t fx_tensors(lora4j_gguf_writer *w, const fx_model *m) {
    uint32_t rng = m->seed ? m->seed : 1;
    const int64_t E = m->n_embd, hd = fx_head_dim(m);
    const int64_t nq = m->n_head * hd, nkv = m->n_head_kv * hd;
    const int32_t et = m->embd_type >= 0 ? m->embd_type : m->wtype;
    const float ws_e = sqrtf(3.0f / (float)E), ws_q = sqrtf(3.0f / (float)nq), ws_f = sqrtf(3.0f / (float)m->n_ff);
    lora4j_status_t st = fx_add(w, m, &rng, "token_embd.weight", et, E, m->n_vocab, 0, 1);
#define FX(call) if (st == LORA4J_OK) st = (call)
    FX(fx_add(w, m, &rng, "output_norm.weight", 0, E, 0, 1, 0.2f));
    if (!m->tied) FX(fx_add(w, m, &rng, "output.weight", et, E, m->n_vocab, 0, ws_e));
    if (m->rope_freqs && st == LORA4J_OK) {
        int64_t ne[1] = {fx_head_dim(m) / 2};
        if (m->n_rot) ne[0] = m->n_rot / 2;
        st = lora4j_gguf_writer_add_tensor(w, "rope_freqs.weight", LORA4J_TYPE_F32, 1, ne, m->rope_freqs,
                                           (uint64_t)ne[0] * sizeof(float));
    }
    char name[96];
    for (int il = 0; il < m->n_layer && st == LORA4J_OK; il++) {
#define TN(s) (snprintf(name, sizeof name, "blk.%d.%s", il, s), name)
        FX(fx_add(w, m, &rng, TN("attn_norm.weight"), 0, E, 0, 1, 0.2f));
        if (m->fused_qkv) {
            FX(fx_add(w, m, &rng, TN("attn_qkv.weight"), m->wtype, E, nq + 2 * nkv, 0, ws_e));
            if (m->qkv_bias) FX(fx_add(w, m, &rng, TN("attn_qkv.bias"), 0, nq + 2 * nkv, 0, 0, 0.2f));
        } else {
            FX(fx_add(w, m, &rng, TN("attn_q.weight"), m->wtype, E, nq, 0, ws_e));
            FX(fx_add(w, m, &rng, TN("attn_k.weight"), m->wtype, E, nkv, 0, ws_e));
            FX(fx_add(w, m, &rng, TN("attn_v.weight"), m->wtype, E, nkv, 0, ws_e));
            if (m->qkv_bias) {
                FX(fx_add(w, m, &rng, TN("attn_q.bias"), 0, nq, 0, 0, 0.2f));
                FX(fx_add(w, m, &rng, TN("attn_k.bias"), 0, nkv, 0, 0, 0.2f));
                FX(fx_add(w, m, &rng, TN("attn_v.bias"), 0, nkv, 0, 0, 0.2f));
            }
        }
        FX(fx_add(w, m, &rng, TN("attn_output.weight"), m->wtype, nq, E, 0, ws_q));
        FX(fx_add(w, m, &rng, TN("ffn_norm.weight"), 0, E, 0, 1, 0.2f));
        FX(fx_add(w, m, &rng, TN("ffn_gate.weight"), m->wtype, E, m->n_ff, 0, ws_e));
        FX(fx_add(w, m, &rng, TN("ffn_up.weight"), m->wtype, E, m->n_ff, 0, ws_e));
        FX(fx_add(w, m, &rng, TN("ffn_down.weight"), m->wtype, m->n_ff, E, 0, ws_f));
#undef TN
    }
#undef FX
    return st;
}

/* Write the model described by m to path. */
static lora4j_status_t fx_write(const fx_model *m, const char *path) {
    lora4j_gguf_writer *w = NULL;
    lora4j_status_t st = lora4j_gguf_writer_new(&w);
    if (st == LORA4J_OK) st = fx_metadata(w, m);
    if (st == LORA4J_OK && !m->no_tensors) st = fx_tensors(w, m);
    if (st == LORA4J_OK) st = lora4j_gguf_writer_write(w, path);
    lora4j_gguf_writer_free(w);
    return st;
}

#endif
