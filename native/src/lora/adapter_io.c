/* llama.cpp's LoRA adapter GGUF: `<base>.lora_a` ne=[n_in, r] (PEFT's A [r][n_in] as stored) and
 * `<base>.lora_b` ne=[r, n_out] (B [n_out][r]) per adapted weight, with general.type "adapter",
 * adapter.type "lora" and adapter.lora.alpha (llama.cpp scales by alpha / r). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "lora/adapter.h"
#include "quant/quant.h"

/* ---- save ----------------------------------------------------------------------------------- */

/* The alpha llama.cpp must read so that its alpha / r equals our scale: rsLoRA's alpha / sqrt(r)
 * is (alpha * sqrt(r)) / r. */
static float file_alpha(const lora4j_adapter *ad) {
    return ad->params.rslora ? (float)(ad->params.alpha * sqrt((double)ad->params.rank)) : ad->params.alpha;
}

static int32_t set_str(lora4j_gguf_writer *w, const char *key, const char *value) {
    return lora4j_gguf_writer_set_string(w, key, value, strlen(value));
}

LORA4J_API lora4j_status_t lora4j_adapter_save(const lora4j_adapter *adapter, const char *path) {
    l4_clear_error();
    if (!adapter || !path) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "adapter_save: NULL adapter or path");
    if (adapter->n_biases > 0) {
        return l4_fail(LORA4J_ERR_UNSUPPORTED, "adapter_save: the adapter holds %d trained bias deltas; "
                       "llama.cpp's LoRA format cannot carry trained biases; export to PEFT or merge instead",
                       adapter->n_biases);
    }
    lora4j_gguf_writer *w = NULL;
    int32_t st = lora4j_gguf_writer_new(&w);
    if (st != LORA4J_OK) return st;
    const float alpha = file_alpha(adapter);
    st = set_str(w, "general.architecture", adapter->arch);
    if (st == LORA4J_OK) st = set_str(w, "general.type", "adapter");
    if (st == LORA4J_OK) st = set_str(w, "adapter.type", "lora");
    if (st == LORA4J_OK) st = lora4j_gguf_writer_set_scalar(w, "adapter.lora.alpha", LORA4J_GGUF_FLOAT32, &alpha);
    char name[L4_LORA_NAME_MAX + 8];
    for (int64_t i = 0; i < adapter->n_pairs && st == LORA4J_OK; i++) {
        const lora4j_lora_pair *p = &adapter->pairs[i];
        if (p->rank == 0) continue;
        int64_t ne_a[2] = {p->n_in, p->rank}, ne_b[2] = {p->rank, p->n_out};
        snprintf(name, sizeof name, "%s.lora_a", p->base_name);
        st = lora4j_gguf_writer_add_tensor(w, name, LORA4J_TYPE_F32, 2, ne_a, p->a,
                                           (uint64_t)(p->rank * p->n_in) * sizeof(float));
        snprintf(name, sizeof name, "%s.lora_b", p->base_name);
        if (st == LORA4J_OK) {
            st = lora4j_gguf_writer_add_tensor(w, name, LORA4J_TYPE_F32, 2, ne_b, p->b,
                                               (uint64_t)(p->rank * p->n_out) * sizeof(float));
        }
    }
    if (st == LORA4J_OK) st = lora4j_gguf_writer_write(w, path);
    lora4j_gguf_writer_free(w);
    return st == LORA4J_OK ? st : l4_fail_context(st, "saving adapter '%s'", path);
}

/* ---- load ----------------------------------------------------------------------------------- */

typedef struct slot {
    int64_t a, b; /* tensor indices, -1 when absent */
} slot;

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* "blk.<layer>.<target>.weight" -> layer and target index; 0 if the name is not of that form. */
static int parse_base(const char *base, size_t len, int *layer, int *t) {
    if (len < 5 || memcmp(base, "blk.", 4) != 0) return 0;
    size_t i = 4;
    long v = 0;
    if (base[i] < '0' || base[i] > '9') return 0;
    while (i < len && base[i] >= '0' && base[i] <= '9' && v < 1000000) v = v * 10 + (base[i++] - '0');
    if (i >= len || base[i] != '.') return 0;
    i++;
    for (int k = 0; k < L4_N_TARGETS; k++) {
        const char *tn = l4_target_name(k);
        size_t tl = strlen(tn);
        if (len - i == tl + 7 && memcmp(base + i, tn, tl) == 0 && memcmp(base + i + tl, ".weight", 7) == 0) {
            *layer = (int)v;
            *t = k;
            return 1;
        }
    }
    return 0;
}

static int32_t check_header(const lora4j_gguf *g, const char *arch, float *alpha) {
    static const struct { const char *key, *want; } req[2] = {{"general.type", "adapter"}, {"adapter.type", "lora"}};
    for (int k = 0; k < 2; k++) {
        int64_t i = lora4j_gguf_find_key(g, req[k].key);
        const char *s = NULL;
        uint64_t len = 0;
        if (i < 0) return l4_fail(LORA4J_ERR_FORMAT, "not a LoRA adapter: no '%s' key", req[k].key);
        if (lora4j_gguf_get_string(g, i, &s, &len) != LORA4J_OK || strcmp(s, req[k].want) != 0) {
            return l4_fail(LORA4J_ERR_FORMAT, "not a LoRA adapter: '%s' is '%s', expected '%s'", req[k].key,
                           s ? s : "(not a string)", req[k].want);
        }
    }
    int64_t i = lora4j_gguf_find_key(g, "general.architecture");
    const char *s = NULL;
    uint64_t len = 0;
    if (i < 0 || lora4j_gguf_get_string(g, i, &s, &len) != LORA4J_OK) {
        return l4_fail(LORA4J_ERR_FORMAT, "the adapter has no 'general.architecture'");
    }
    if (strcmp(s, arch) != 0) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "the adapter is for architecture '%s', the model is '%s'", s, arch);
    }
    *alpha = 0.0f;
    i = lora4j_gguf_find_key(g, "adapter.lora.alpha");
    if (i >= 0) {
        double v = 0;
        if (lora4j_gguf_get_scalar(g, i, NULL, &v) != LORA4J_OK || !isfinite(v)) {
            return l4_fail(LORA4J_ERR_FORMAT, "'adapter.lora.alpha' is not a finite number");
        }
        *alpha = (float)v;
    }
    return LORA4J_OK;
}

/* Sort every lora_a/lora_b tensor into its (layer, target) slot. */
static int32_t collect(const lora4j_gguf *g, const lora4j_model *m, slot *slots) {
    const int64_t n = lora4j_gguf_n_tensors(g);
    for (int64_t i = 0; i < n; i++) {
        lora4j_tensor_info info;
        int32_t st = lora4j_gguf_tensor_info(g, i, &info);
        if (st != LORA4J_OK) return st;
        int is_a = ends_with(info.name, ".lora_a"), is_b = ends_with(info.name, ".lora_b");
        if (!is_a && !is_b) {
            if (ends_with(info.name, "_norm.weight")) continue; /* llama.cpp ignores these too */
            return l4_fail(LORA4J_ERR_FORMAT, "unexpected tensor '%s' in a LoRA adapter (names end in "
                           ".lora_a or .lora_b)", info.name);
        }
        size_t base_len = strlen(info.name) - 7;
        int layer = 0, t = 0;
        if (!parse_base(info.name, base_len, &layer, &t)) {
            return l4_fail(LORA4J_ERR_UNSUPPORTED, "tensor '%s': LoRA on '%.*s' is not supported (only the "
                           "blocks' attn_q/k/v/output and ffn_gate/up/down weights)", info.name, (int)base_len,
                           info.name);
        }
        if (layer >= m->hp.n_layer) {
            return l4_fail(LORA4J_ERR_FORMAT, "tensor '%s': layer %d, the model has %d layers", info.name, layer,
                           m->hp.n_layer);
        }
        char base[L4_LORA_NAME_MAX];
        snprintf(base, sizeof base, "%.*s", (int)base_len, info.name);
        if (lora4j_gguf_find_tensor(m->gguf, base) < 0) {
            return l4_fail(LORA4J_ERR_FORMAT, "tensor '%s': the model has no tensor '%s'", info.name, base);
        }
        slot *s = &slots[layer * L4_N_TARGETS + t];
        if (is_a) s->a = i;
        else s->b = i;
    }
    return LORA4J_OK;
}

static int32_t check_pair(const lora4j_gguf *g, const lora4j_model *m, int layer, int t, const slot *s,
                          int64_t *rank) {
    lora4j_tensor_info a, b;
    int32_t st = lora4j_gguf_tensor_info(g, s->a >= 0 ? s->a : s->b, &a);
    if (st != LORA4J_OK) return st;
    if (s->a < 0 || s->b < 0) {
        return l4_fail(LORA4J_ERR_FORMAT, "tensor '%s' has no matching %s", a.name, s->a < 0 ? "lora_a" : "lora_b");
    }
    if ((st = lora4j_gguf_tensor_info(g, s->b, &b)) != LORA4J_OK) return st;
    const lora4j_tensor_info *both[2] = {&a, &b};
    for (int k = 0; k < 2; k++) {
        const lora4j_tensor_info *x = both[k];
        if (x->type != LORA4J_TYPE_F32 && x->type != LORA4J_TYPE_F16 && x->type != LORA4J_TYPE_BF16) {
            const char *tn = lora4j_type_name(x->type);
            return l4_fail(LORA4J_ERR_UNSUPPORTED, "tensor '%s' has type %s; adapters must be f32, f16 or bf16",
                           x->name, tn ? tn : "unknown");
        }
        if (x->ne[2] != 1 || x->ne[3] != 1) {
            return l4_fail(LORA4J_ERR_FORMAT, "tensor '%s' is not 2-D", x->name);
        }
    }
    const l4_matrix *w = l4_layer_weight(&m->layers[layer], t);
    if (a.ne[0] != w->n_in || b.ne[1] != w->n_out) {
        return l4_fail(LORA4J_ERR_FORMAT, "tensors '%s' [%lld, %lld] and '%s' [%lld, %lld] do not fit a weight of "
                       "n_in %lld, n_out %lld (expected lora_a [n_in, r] and lora_b [r, n_out]; A/B transposed?)",
                       a.name, (long long)a.ne[0], (long long)a.ne[1], b.name, (long long)b.ne[0],
                       (long long)b.ne[1], (long long)w->n_in, (long long)w->n_out);
    }
    if (a.ne[1] != b.ne[0]) {
        return l4_fail(LORA4J_ERR_FORMAT, "'%s' has rank %lld but '%s' has rank %lld: lora_a tensor is not "
                       "transposed as expected", a.name, (long long)a.ne[1], b.name, (long long)b.ne[0]);
    }
    if (a.ne[1] < 1) return l4_fail(LORA4J_ERR_FORMAT, "tensor '%s' has rank 0", a.name);
    *rank = a.ne[1];
    return LORA4J_OK;
}

/* Convert a tensor to f32 into dst (n values) and check every value is finite. */
static int32_t read_values(const lora4j_gguf *g, int64_t idx, float *dst, int64_t n) {
    lora4j_tensor_info info;
    int32_t st = lora4j_gguf_tensor_info(g, idx, &info);
    if (st != LORA4J_OK) return st;
    if (info.type == LORA4J_TYPE_F32) memcpy(dst, info.data, (size_t)n * sizeof(float));
    else l4_traits(info.type)->to_float(info.data, dst, n);
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(dst[i])) {
            return l4_fail(LORA4J_ERR_FORMAT, "tensor '%s' holds a non-finite value at element %lld", info.name,
                           (long long)i);
        }
    }
    return LORA4J_OK;
}

static int32_t load_from(const lora4j_gguf *g, const lora4j_model *m, lora4j_adapter **out) {
    char arch[L4_ARCH_NAME_MAX];
    float alpha = 0;
    int32_t st = l4_model_arch_name(m, arch);
    if (st == LORA4J_OK) st = check_header(g, arch, &alpha);
    if (st != LORA4J_OK) return st;
    const int64_t n_slots = (int64_t)m->hp.n_layer * L4_N_TARGETS;
    slot *slots = malloc((size_t)n_slots * sizeof *slots);
    int32_t *layer = malloc((size_t)n_slots * sizeof *layer), *tg = malloc((size_t)n_slots * sizeof *tg);
    int64_t *rank = malloc((size_t)n_slots * sizeof *rank);
    uint8_t *no_bias = calloc((size_t)n_slots, 1);
    if (!slots || !layer || !tg || !rank || !no_bias) st = l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "no memory to load an adapter");
    for (int64_t i = 0; st == LORA4J_OK && i < n_slots; i++) slots[i] = (slot){-1, -1};
    if (st == LORA4J_OK) st = collect(g, m, slots);
    int64_t n = 0;
    for (int64_t i = 0; st == LORA4J_OK && i < n_slots; i++) {
        if (slots[i].a < 0 && slots[i].b < 0) continue;
        layer[n] = (int32_t)(i / L4_N_TARGETS);
        tg[n] = (int32_t)(i % L4_N_TARGETS);
        st = check_pair(g, m, layer[n], tg[n], &slots[i], &rank[n]);
        n++;
    }
    if (st == LORA4J_OK && n == 0) st = l4_fail(LORA4J_ERR_FORMAT, "the adapter holds no LoRA tensors");
    lora4j_adapter *ad = NULL;
    if (st == LORA4J_OK) st = l4_adapter_alloc(m, n, layer, tg, rank, no_bias, &ad);
    for (int64_t i = 0; st == LORA4J_OK && i < n; i++) {
        lora4j_lora_pair *p = &ad->pairs[i];
        const slot *s = &slots[layer[i] * L4_N_TARGETS + tg[i]];
        st = read_values(g, s->a, p->a, p->rank * p->n_in);
        if (st == LORA4J_OK) st = read_values(g, s->b, p->b, p->rank * p->n_out);
    }
    if (st == LORA4J_OK) {
        lora4j_lora_params *pp = &ad->params;
        *pp = lora4j_lora_default_params();
        pp->rank = 0;
        pp->alpha = alpha;
        pp->targets = 0;
        pp->layer_begin = layer[0];
        pp->layer_end = layer[n - 1] + 1;
        pp->seed = 0;
        for (int64_t i = 0; i < n; i++) {
            const lora4j_lora_pair *p = &ad->pairs[i];
            if (p->rank > pp->rank) pp->rank = (int32_t)p->rank;
            pp->targets |= (uint32_t)p->target;
            ad->scales[i] = l4_lora_scale(alpha, 0, p->rank);
        }
        *out = ad;
    } else {
        lora4j_adapter_free(ad);
    }
    free(slots);
    free(layer);
    free(tg);
    free(rank);
    free(no_bias);
    return st;
}

LORA4J_API lora4j_status_t lora4j_adapter_load(const lora4j_model *model, const char *path,
                                               lora4j_adapter **out) {
    l4_clear_error();
    if (!out) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "adapter_load: out is NULL");
    *out = NULL;
    if (!model || !path) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "adapter_load: NULL model or path");
    if (model->hp.vocab_only) {
        return l4_fail(LORA4J_ERR_STATE, "adapter_load: the model was loaded vocab-only (no weights)");
    }
    lora4j_gguf *g = NULL;
    int32_t st = lora4j_gguf_open(path, &g);
    if (st == LORA4J_OK) st = load_from(g, model, out);
    lora4j_gguf_close(g);
    return st == LORA4J_OK ? st : l4_fail_context(st, "loading adapter '%s'", path);
}
