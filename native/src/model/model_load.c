/* Loading a llama-family model: hyper-parameters, then every tensor a block needs, checked for
 * presence, exact shape and a supported type. Weights stay in the file mapping; only 1-D
 * tensors stored in f16/bf16 and weights quantized on load live in one owned buffer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "model/convert.h"
#include "backend/backend_model.h"
#include "model/hparams.h"
#include "model/model.h"
#include "model/quant_rules.h"
#include "quant/quant.h"

#define NAME_MAX_LEN 96
#define OWNED_ALIGN 64

/* A 2-D tensor and the matrices that view its rows (q/k/v of a fused attn_qkv; token_embd and a
 * tied output head). */
typedef struct bound_matrix {
    char name[NAME_MAX_LEN];
    l4_matrix full;
    l4_matrix *views[3];
    int64_t view_row[3];
    int n_views;
    int32_t new_type; /* after load-time quantization */
} bound_matrix;

/* A 1-D tensor the forward pass reads as f32. */
typedef struct bound_vector {
    char name[NAME_MAX_LEN];
    int32_t type;
    int64_t n;
    const void *data;
    const float **dst;
    l4_layer *fused_qkv; /* set for a fused attn_qkv.bias: bk/bv view into it */
} bound_vector;

typedef struct loader {
    const lora4j_gguf *g;
    lora4j_model *m;
    uint8_t *used; /* per tensor index */
    bound_matrix *mats;
    int n_mats;
    bound_vector *vecs;
    int n_vecs;
    int has_rope_freqs; /* rope_freqs.weight is in the file */
} loader;

static void shape_str(char *buf, size_t cap, const int64_t *ne, int n) {
    int k = snprintf(buf, cap, "[");
    for (int i = 0; i < n && k > 0 && (size_t)k < cap; i++) {
        k += snprintf(buf + k, cap - (size_t)k, i ? ", %lld" : "%lld", (long long)ne[i]);
    }
    if (k > 0 && (size_t)k < cap) snprintf(buf + k, cap - (size_t)k, "]");
}

/* Look a tensor up and check its shape is exactly ne0 (x ne1 when ne1 > 0). */
static int32_t find(loader *L, const char *name, int required, int64_t ne0, int64_t ne1,
                    lora4j_tensor_info *info, int *found) {
    *found = 0;
    int64_t i = lora4j_gguf_find_tensor(L->g, name);
    if (i < 0) {
        return required ? l4_fail(LORA4J_ERR_FORMAT, "missing tensor '%s'", name) : LORA4J_OK;
    }
    int32_t st = lora4j_gguf_tensor_info(L->g, i, info);
    if (st != LORA4J_OK) return l4_fail_context(st, "tensor '%s'", name);
    int64_t want[4] = {ne0, ne1 > 0 ? ne1 : 1, 1, 1};
    int want_dims = ne1 > 0 ? 2 : 1;
    int n_dims = info->n_dims > 0 && info->n_dims <= 4 ? info->n_dims : 4;
    if (memcmp(want, info->ne, sizeof want) != 0) {
        char have_s[96], want_s[96];
        shape_str(have_s, sizeof have_s, info->ne, n_dims);
        shape_str(want_s, sizeof want_s, want, want_dims);
        return l4_fail(LORA4J_ERR_FORMAT, "tensor '%s' has shape %s, expected %s", name, have_s,
                       want_s);
    }
    const l4_type_traits *t = l4_traits(info->type);
    if (!t || !t->supported || !t->to_float) {
        const char *tn = lora4j_type_name(info->type);
        return l4_fail(LORA4J_ERR_UNSUPPORTED, "tensor '%s' has type %s, which this engine does not support",
                       name, tn ? tn : "unknown");
    }
    L->used[i] = 1;
    *found = 1;
    return LORA4J_OK;
}

static int32_t bind_vector(loader *L, const char *name, int required, int64_t n, const float **dst) {
    lora4j_tensor_info info;
    int found = 0;
    int32_t st = find(L, name, required, n, 0, &info, &found);
    if (st != LORA4J_OK || !found) return st;
    if (info.type != LORA4J_TYPE_F32 && info.type != LORA4J_TYPE_F16 &&
        info.type != LORA4J_TYPE_BF16) {
        return l4_fail(LORA4J_ERR_UNSUPPORTED, "tensor '%s' has type %s, expected f32, f16 or bf16",
                       name, lora4j_type_name(info.type));
    }
    bound_vector *v = &L->vecs[L->n_vecs++];
    snprintf(v->name, sizeof v->name, "%s", name);
    v->type = info.type;
    v->n = n;
    v->data = info.data;
    v->dst = dst;
    v->fused_qkv = NULL;
    *dst = info.type == LORA4J_TYPE_F32 ? info.data : NULL; /* others are converted later */
    return LORA4J_OK;
}

/* Binds tensor `name` (n_out rows of n_in) and returns its record, or NULL when an optional
 * tensor is absent (or on error: *st set). */
static bound_matrix *bind_matrix(loader *L, const char *name, int required, int64_t n_in,
                                 int64_t n_out, int32_t *st) {
    lora4j_tensor_info info;
    int found = 0;
    *st = find(L, name, required, n_in, n_out, &info, &found);
    if (*st != LORA4J_OK || !found) return NULL;
    bound_matrix *b = &L->mats[L->n_mats++];
    memset(b, 0, sizeof *b);
    snprintf(b->name, sizeof b->name, "%s", name);
    b->full = (l4_matrix){info.type, n_in, n_out, info.data};
    b->new_type = info.type;
    return b;
}

static void add_view(bound_matrix *b, l4_matrix *view, int64_t first_row, int64_t n_rows) {
    b->views[b->n_views] = view;
    b->view_row[b->n_views] = first_row;
    b->n_views++;
    *view = (l4_matrix){b->full.type, b->full.n_in, n_rows,
                        (const uint8_t *)b->full.data + first_row * l4_row_bytes(b->full.type, b->full.n_in)};
}

static int32_t bind_layer(loader *L, int il) {
    const lora4j_hparams *hp = &L->m->hp;
    l4_layer *ly = &L->m->layers[il];
    const int64_t n_embd = hp->n_embd, n_q = (int64_t)hp->n_head * hp->head_dim;
    const int64_t n_kv = (int64_t)hp->n_head_kv * hp->head_dim;
    char name[NAME_MAX_LEN];
    int32_t st;
#define TN(suffix) (snprintf(name, sizeof name, "blk.%d.%s", il, suffix), name)
    if ((st = bind_vector(L, TN("attn_norm.weight"), 1, n_embd, &ly->attn_norm))) return st;
    bound_matrix *qkv = bind_matrix(L, TN("attn_qkv.weight"), 0, n_embd, n_q + 2 * n_kv, &st);
    if (st) return st;
    if (qkv) {
        add_view(qkv, &ly->wq, 0, n_q);
        add_view(qkv, &ly->wk, n_q, n_kv);
        add_view(qkv, &ly->wv, n_q + n_kv, n_kv);
        int n_before = L->n_vecs;
        if ((st = bind_vector(L, TN("attn_qkv.bias"), 0, n_q + 2 * n_kv, &ly->bq))) return st;
        if (L->n_vecs > n_before) L->vecs[n_before].fused_qkv = ly;
    } else {
        const struct { const char *w, *b; l4_matrix *m; const float **bias; int64_t n; } parts[3] = {
            {"attn_q.weight", "attn_q.bias", &ly->wq, &ly->bq, n_q},
            {"attn_k.weight", "attn_k.bias", &ly->wk, &ly->bk, n_kv},
            {"attn_v.weight", "attn_v.bias", &ly->wv, &ly->bv, n_kv},
        };
        for (int p = 0; p < 3; p++) {
            bound_matrix *b = bind_matrix(L, TN(parts[p].w), 1, n_embd, parts[p].n, &st);
            if (st) return st;
            add_view(b, parts[p].m, 0, parts[p].n);
            if ((st = bind_vector(L, TN(parts[p].b), 0, parts[p].n, parts[p].bias))) return st;
        }
    }
    const struct { const char *w; l4_matrix *m; int64_t n_in, n_out; } mats[4] = {
        {"attn_output.weight", &ly->wo, n_q, n_embd},
        {"ffn_gate.weight", &ly->ffn_gate, n_embd, hp->n_ff},
        {"ffn_up.weight", &ly->ffn_up, n_embd, hp->n_ff},
        {"ffn_down.weight", &ly->ffn_down, hp->n_ff, n_embd},
    };
    for (int p = 0; p < 4; p++) {
        bound_matrix *b = bind_matrix(L, TN(mats[p].w), 1, mats[p].n_in, mats[p].n_out, &st);
        if (st) return st;
        add_view(b, mats[p].m, 0, mats[p].n_out);
    }
    if ((st = bind_vector(L, TN("ffn_norm.weight"), 1, n_embd, &ly->ffn_norm))) return st;
#undef TN
    return LORA4J_OK;
}

static int32_t bind_all(loader *L) {
    lora4j_model *m = L->m;
    lora4j_hparams *hp = &m->hp;
    int32_t st;
    bound_matrix *emb = bind_matrix(L, "token_embd.weight", 1, hp->n_embd, hp->n_vocab, &st);
    if (st) return st;
    add_view(emb, &m->tok_embd, 0, hp->n_vocab);
    bound_matrix *out = bind_matrix(L, "output.weight", 0, hp->n_embd, hp->n_vocab, &st);
    if (st) return st;
    if (out) {
        add_view(out, &m->output, 0, hp->n_vocab);
    } else {
        add_view(emb, &m->output, 0, hp->n_vocab);
        hp->tied_output = 1;
    }
    if ((st = bind_vector(L, "output_norm.weight", 1, hp->n_embd, &m->output_norm))) return st;
    if ((st = bind_vector(L, "output.bias", 0, hp->n_vocab, &m->output_bias))) return st;
    int n_before = L->n_vecs;
    if ((st = bind_vector(L, "rope_freqs.weight", 0, hp->n_rot / 2, &m->rope_freqs))) return st;
    L->has_rope_freqs = L->n_vecs > n_before;
    if (L->has_rope_freqs && hp->rope_scaling == LORA4J_ROPE_SCALING_NONE) {
        hp->rope_scaling = LORA4J_ROPE_SCALING_LLAMA3; /* how llama.cpp files carry llama3 rope */
    }
    for (int il = 0; il < hp->n_layer; il++) {
        if ((st = bind_layer(L, il))) return st;
    }
    return LORA4J_OK;
}

static size_t align_up(size_t n) { return (n + OWNED_ALIGN - 1) / OWNED_ALIGN * OWNED_ALIGN; }

/* llama3 rope: the per-frequency divisors Meta's recipe gives (what convert_hf_to_gguf stores
 * in rope_freqs.weight), for files that give the recipe's parameters instead of the tensor. */
static void llama3_factors(const lora4j_hparams *hp, float *out) {
    const double pi = 3.14159265358979323846;
    double lo_wavelen = hp->rope_orig_ctx / hp->llama3_low_freq_factor;
    double hi_wavelen = hp->rope_orig_ctx / hp->llama3_high_freq_factor;
    for (int i = 0; i < hp->n_rot / 2; i++) {
        double freq = pow(hp->rope_freq_base, -2.0 * i / hp->n_rot);
        double wavelen = 2 * pi / freq;
        double f;
        if (wavelen < hi_wavelen) {
            f = 1;
        } else if (wavelen > lo_wavelen) {
            f = hp->rope_scale_factor;
        } else {
            double smooth = (hp->rope_orig_ctx / wavelen - hp->llama3_low_freq_factor) /
                            (hp->llama3_high_freq_factor - hp->llama3_low_freq_factor);
            f = 1 / ((1 - smooth) / hp->rope_scale_factor + smooth);
        }
        out[i] = (float)f;
    }
}

/* Convert non-f32 1-D tensors, quantize weights when asked, compute llama3 factors: all into
 * one owned buffer sized first. */
static int32_t materialize(loader *L, const lora4j_model_params *params) {
    lora4j_model *m = L->m;
    const lora4j_hparams *hp = &m->hp;
    l4_quant_target target = {0, 0};
    int quantize = params->quantize_type >= 0;
    int32_t st;
    if (quantize && (st = l4_quant_target_parse(params->quantize_type, &target))) return st;

    int need_llama3 = hp->rope_scaling == LORA4J_ROPE_SCALING_LLAMA3 && !L->has_rope_freqs;

    size_t total = need_llama3 ? align_up((size_t)hp->n_rot / 2 * sizeof(float)) : 0;
    for (int i = 0; i < L->n_vecs; i++) {
        if (L->vecs[i].type != LORA4J_TYPE_F32) total += align_up((size_t)L->vecs[i].n * sizeof(float));
    }
    for (int i = 0; quantize && i < L->n_mats; i++) {
        bound_matrix *b = &L->mats[i];
        b->new_type = l4_quant_tensor_type(&target, b->name, b->full.n_in, hp->n_layer, hp->tied_output);
        if (b->new_type != b->full.type) {
            total += align_up((size_t)l4_row_bytes(b->new_type, b->full.n_in) * (size_t)b->full.n_out);
        }
    }
    if (total == 0) return LORA4J_OK;
    uint8_t *buf = aligned_alloc(OWNED_ALIGN, align_up(total));
    if (!buf) {
        return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes for converted weights", total);
    }
    m->owned = buf;
    size_t off = 0;
    if (need_llama3) {
        float *f = (float *)buf;
        llama3_factors(hp, f);
        m->rope_freqs = f;
        off += align_up((size_t)hp->n_rot / 2 * sizeof(float));
    }
    for (int i = 0; i < L->n_vecs; i++) {
        bound_vector *v = &L->vecs[i];
        if (v->type == LORA4J_TYPE_F32) continue;
        float *f = (float *)(buf + off);
        l4_traits(v->type)->to_float(v->data, f, v->n);
        *v->dst = f;
        off += align_up((size_t)v->n * sizeof(float));
    }
    for (int i = 0; quantize && i < L->n_mats; i++) {
        bound_matrix *b = &L->mats[i];
        if (b->new_type == b->full.type) continue;
        uint8_t *dst = buf + off;
        st = l4_convert_rows(b->full.type, b->full.data, b->new_type, dst, b->full.n_out,
                             b->full.n_in, params->n_threads);
        if (st != LORA4J_OK) return l4_fail_context(st, "quantizing '%s'", b->name);
        int64_t rb = l4_row_bytes(b->new_type, b->full.n_in);
        for (int k = 0; k < b->n_views; k++) {
            b->views[k]->type = b->new_type;
            b->views[k]->data = dst + b->view_row[k] * rb;
        }
        off += align_up((size_t)rb * (size_t)b->full.n_out);
    }
    return LORA4J_OK;
}

/* A fused q/k/v bias was bound to bq; bk and bv view its later parts (once it is f32). */
static void split_fused_biases(const loader *L) {
    const int64_t n_q = (int64_t)L->m->hp.n_head * L->m->hp.head_dim;
    const int64_t n_kv = (int64_t)L->m->hp.n_head_kv * L->m->hp.head_dim;
    for (int i = 0; i < L->n_vecs; i++) {
        l4_layer *ly = L->vecs[i].fused_qkv;
        if (!ly) continue;
        ly->bk = ly->bq + n_q;
        ly->bv = ly->bq + n_q + n_kv;
    }
}

static int32_t check_rope_freqs(const lora4j_model *m) {
    if (!m->rope_freqs) return LORA4J_OK;
    for (int i = 0; i < m->hp.n_rot / 2; i++) {
        float f = m->rope_freqs[i];
        if (!(f > 0) || !isfinite(f)) {
            return l4_fail(LORA4J_ERR_FORMAT, "tensor 'rope_freqs.weight': element %d is %g, expected a "
                           "positive finite factor", i, f);
        }
    }
    return LORA4J_OK;
}

static void warn_unused(const loader *L) {
    int64_t n = lora4j_gguf_n_tensors(L->g);
    int reported = 0;
    for (int64_t i = 0; i < n; i++) {
        if (L->used[i]) continue;
        lora4j_tensor_info info;
        if (reported < 8 && lora4j_gguf_tensor_info(L->g, i, &info) == LORA4J_OK) {
            l4_log(LORA4J_LOG_WARN, "model: tensor '%s' is not used by the %s architecture", info.name,
                   L->m->hp.arch == LORA4J_ARCH_QWEN2 ? "qwen2" : "llama");
        }
        reported++;
    }
    if (reported > 8) l4_log(LORA4J_LOG_WARN, "model: %d more unused tensors", reported - 8);
}

static int32_t load_weights(lora4j_model *m, const lora4j_model_params *params) {
    const lora4j_hparams *hp = &m->hp;
    int64_t n_tensors = lora4j_gguf_n_tensors(m->gguf);
    loader L = {m->gguf, m, NULL, NULL, 0, NULL, 0, 0};
    int max_mats = 2 + 7 * hp->n_layer, max_vecs = 3 + 6 * hp->n_layer;
    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    L.used = calloc((size_t)n_tensors, 1);
    L.mats = calloc((size_t)max_mats, sizeof *L.mats);
    L.vecs = calloc((size_t)max_vecs, sizeof *L.vecs);
    int32_t st;
    if (!m->layers || !L.used || !L.mats || !L.vecs) {
        st = l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "no memory for the tensor table");
    } else {
        st = bind_all(&L);
        if (st == LORA4J_OK) st = materialize(&L, params);
        if (st == LORA4J_OK) {
            split_fused_biases(&L);
            for (int il = 0; il < m->hp.n_layer; il++) {
                const l4_layer *ly = &m->layers[il];
                if (ly->bq || ly->bk || ly->bv) m->hp.has_qkv_bias = 1;
            }
            st = check_rope_freqs(m);
        }
        if (st == LORA4J_OK) warn_unused(&L);
    }
    free(L.used);
    free(L.mats);
    free(L.vecs);
    return st;
}

LORA4J_API lora4j_model_params lora4j_model_default_params(void) {
    lora4j_model_params p = {0, -1, 0};
    return p;
}

LORA4J_API void lora4j_model_free(lora4j_model *model) {
    if (!model) return;
    l4_backend_models_free(model);
    lora4j_gguf_close(model->gguf);
    free(model->layers);
    free(model->owned);
    free(model);
}

LORA4J_API lora4j_status_t lora4j_model_load(const char *path, lora4j_model_params params,
                                             lora4j_model **out) {
    l4_clear_error();
    if (!out) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "model_load: out is NULL");
    *out = NULL;
    if (!path) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "model_load: path is NULL");
    lora4j_model *m = calloc(1, sizeof *m);
    if (!m) return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "no memory for a model");
    int32_t st = lora4j_gguf_open(path, &m->gguf);
    if (st == LORA4J_OK) {
        int vocab_only = params.vocab_only || lora4j_gguf_n_tensors(m->gguf) == 0;
        st = l4_hparams_read(m->gguf, vocab_only, &m->hp);
        if (st == LORA4J_OK && !vocab_only) st = load_weights(m, &params);
    }
    if (st != LORA4J_OK) {
        lora4j_model_free(m);
        return l4_fail_context(st, "loading model '%s'", path);
    }
    *out = m;
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_model_hparams(const lora4j_model *model, lora4j_hparams *out) {
    l4_clear_error();
    if (!model || !out) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "model_hparams: NULL argument");
    *out = model->hp;
    return LORA4J_OK;
}

LORA4J_API const lora4j_gguf *lora4j_model_gguf(const lora4j_model *model) {
    return model ? model->gguf : NULL;
}
