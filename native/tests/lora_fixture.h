/* Shared helpers of the LoRA and trainer tests: a tiny random model, adapters with random
 * values, packed batches, and a model file with an adapter merged into its weights (W + s·B·A,
 * computed here in double, independently of the engine's LoRA code). Header-only. */
#ifndef LORA4J_LORA_FIXTURE_H
#define LORA4J_LORA_FIXTURE_H

#include <math.h>

#include "gguf_test.h"
#include "model_fixture_build.h"

/* 2 layers, dim 32, 4 heads over 2 kv heads, ffn 48, vocab 64. */
static inline fx_model lf_tiny(void) {
    fx_model m = fx_default();
    m.n_vocab = 64;
    m.n_embd = 32;
    m.n_layer = 2;
    m.n_head = 4;
    m.n_head_kv = 2;
    m.n_ff = 48;
    m.n_ctx_train = 64;
    return m;
}

/* Write m to tmp/name and load it (NULL and a counted failure on error). */
static inline lora4j_model *lf_load(const fx_model *m, const char *name) {
    const char *path = tmp_path(name);
    lora4j_model *model = NULL;
    CHECK_OK(fx_write(m, path));
    CHECK_OK(lora4j_model_load(path, lora4j_model_default_params(), &model));
    return model;
}

/* Every A, B and bias delta of ad uniform in [-scale, scale). */
static inline void lf_randomize(lora4j_adapter *ad, uint32_t seed, float scale) {
    lora4j_adapter_info info;
    CHECK_OK(lora4j_adapter_get_info(ad, &info));
    uint32_t s = seed ? seed : 1;
    for (int64_t i = 0; i < info.n_pairs; i++) {
        lora4j_lora_pair p;
        CHECK_OK(lora4j_adapter_get_pair(ad, i, &p));
        for (int64_t k = 0; p.a && k < p.rank * p.n_in; k++) p.a[k] = scale * fx_uniform(&s);
        for (int64_t k = 0; p.b && k < p.rank * p.n_out; k++) p.b[k] = scale * fx_uniform(&s);
        for (int64_t k = 0; p.bias_delta && k < p.n_out; k++) p.bias_delta[k] = scale * fx_uniform(&s);
    }
}

static inline lora4j_adapter *lf_adapter(const lora4j_model *m, int rank, float alpha, uint32_t targets) {
    lora4j_lora_params lp = lora4j_lora_default_params();
    lp.rank = rank;
    lp.alpha = alpha;
    lp.targets = targets;
    lora4j_adapter *ad = NULL;
    CHECK_OK(lora4j_adapter_new(m, &lp, &ad));
    return ad;
}

/* A packed batch of n_rows x n_seq tokens: row r holds segments of the lengths in seg_len
 * (0-terminated, repeated over rows), the rest padding. Weights: -1/count on every token that is
 * predicted (not a segment's first, not padding). Arrays are malloc'ed [n_rows*n_seq]. */
typedef struct lf_batch {
    int32_t *tokens, *pos, *seg;
    float *weights;
    int n_rows, n_seq;
} lf_batch;

static inline lf_batch lf_batch_make(int n_rows, int n_seq, const int *seg_len, int n_vocab, uint32_t seed) {
    lf_batch b;
    const size_t n = (size_t)n_rows * (size_t)n_seq;
    b.n_rows = n_rows;
    b.n_seq = n_seq;
    b.tokens = (int32_t *)malloc(n * sizeof *b.tokens);
    b.pos = (int32_t *)malloc(n * sizeof *b.pos);
    b.seg = (int32_t *)malloc(n * sizeof *b.seg);
    b.weights = (float *)calloc(n, sizeof *b.weights);
    uint32_t s = seed ? seed : 1;
    int count = 0;
    for (int r = 0; r < n_rows; r++) {
        int c = 0;
        for (int k = 0; seg_len[k] && c < n_seq; k++) {
            for (int p = 0; p < seg_len[k] && c < n_seq; p++, c++) {
                int64_t i = (int64_t)r * n_seq + c;
                b.tokens[i] = (int32_t)(fx_rand(&s) % (uint32_t)n_vocab);
                b.pos[i] = p;
                b.seg[i] = k;
                if (p > 0) {
                    b.weights[i] = 1;
                    count++;
                }
            }
        }
        for (; c < n_seq; c++) {
            int64_t i = (int64_t)r * n_seq + c;
            b.tokens[i] = 0;
            b.pos[i] = 0;
            b.seg[i] = -1;
        }
    }
    for (size_t i = 0; i < n; i++) b.weights[i] *= -1.0f / (float)(count ? count : 1);
    return b;
}

static inline void lf_batch_free(lf_batch *b) {
    free(b->tokens);
    free(b->pos);
    free(b->seg);
    free(b->weights);
}

/* Copy of the model file at src to dst with W += scale * s_pair * B·A (and b += scale * bias
 * delta) for every entry of ad. The base must store its 2-D weights as f32. */
static inline lora4j_status_t lf_write_merged(const char *src, const char *dst, const lora4j_adapter *ad,
                                              float scale) {
    lora4j_gguf *g = NULL;
    lora4j_gguf_writer *w = NULL;
    lora4j_status_t st = lora4j_gguf_open(src, &g);
    if (st == LORA4J_OK) st = lora4j_gguf_writer_new(&w);
    for (int64_t k = 0; st == LORA4J_OK && k < lora4j_gguf_n_kv(g); k++) st = lora4j_gguf_writer_copy_kv(w, g, k);
    lora4j_adapter_info info;
    if (st == LORA4J_OK) st = lora4j_adapter_get_info(ad, &info);
    for (int64_t t = 0; st == LORA4J_OK && t < lora4j_gguf_n_tensors(g); t++) {
        lora4j_tensor_info ti;
        st = lora4j_gguf_tensor_info(g, t, &ti);
        if (st != LORA4J_OK) break;
        float *data = (float *)malloc(ti.n_bytes);
        memcpy(data, ti.data, ti.n_bytes);
        for (int64_t i = 0; i < info.n_pairs; i++) {
            lora4j_lora_pair p;
            lora4j_adapter_get_pair(ad, i, &p);
            char bias_name[80];
            snprintf(bias_name, sizeof bias_name, "%.*s.bias", (int)strlen(p.base_name) - 7, p.base_name);
            if (strcmp(ti.name, p.base_name) == 0 && p.rank > 0 && ti.type == LORA4J_TYPE_F32) {
                /* the pair's own factor: alpha / r as the adapter reports for its rank */
                double f = scale * (double)info.scale;
                for (int64_t o = 0; o < p.n_out; o++) {
                    for (int64_t c = 0; c < p.n_in; c++) {
                        double d = 0;
                        for (int64_t j = 0; j < p.rank; j++) d += (double)p.b[o * p.rank + j] * p.a[j * p.n_in + c];
                        data[o * p.n_in + c] = (float)(data[o * p.n_in + c] + f * d);
                    }
                }
            } else if (strcmp(ti.name, bias_name) == 0 && p.bias_delta && ti.type == LORA4J_TYPE_F32) {
                for (int64_t o = 0; o < p.n_out; o++) data[o] += scale * p.bias_delta[o];
            }
        }
        st = lora4j_gguf_writer_add_tensor(w, ti.name, ti.type, ti.n_dims, ti.ne, data, ti.n_bytes);
        free(data);
    }
    if (st == LORA4J_OK) st = lora4j_gguf_writer_write(w, dst);
    lora4j_gguf_writer_free(w);
    lora4j_gguf_close(g);
    return st;
}

#endif
