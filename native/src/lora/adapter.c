/* LoRA adapters: parameter validation, allocation, PEFT/gaussian initialisation, clone and the
 * public accessors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "lora/adapter.h"
#include "lora/lora_rng.h"

#define DATA_ALIGN 64

static const char *const k_target_names[L4_N_TARGETS] = {
    "attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down",
};

const char *l4_target_name(int t) { return t >= 0 && t < L4_N_TARGETS ? k_target_names[t] : "?"; }

const l4_matrix *l4_layer_weight(const l4_layer *ly, int t) {
    switch (t) {
    case 0: return &ly->wq;
    case 1: return &ly->wk;
    case 2: return &ly->wv;
    case 3: return &ly->wo;
    case 4: return &ly->ffn_gate;
    case 5: return &ly->ffn_up;
    default: return &ly->ffn_down;
    }
}

const float *l4_layer_bias(const l4_layer *ly, int t) {
    switch (t) {
    case 0: return ly->bq;
    case 1: return ly->bk;
    case 2: return ly->bv;
    default: return NULL;
    }
}

float l4_lora_scale(float alpha, int rslora, int64_t r) {
    if (r <= 0) return 0.0f;
    if (alpha == 0.0f) return 1.0f;
    return rslora ? (float)(alpha / sqrt((double)r)) : (float)(alpha / (double)r);
}

int32_t l4_model_arch_name(const lora4j_model *model, char *out) {
    const lora4j_gguf *g = model->gguf;
    int64_t k = lora4j_gguf_find_key(g, "general.architecture");
    const char *s = NULL;
    uint64_t len = 0;
    if (k < 0 || lora4j_gguf_get_string(g, k, &s, &len) != LORA4J_OK || len >= L4_ARCH_NAME_MAX) {
        return l4_fail(LORA4J_ERR_FORMAT, "the model has no usable 'general.architecture'");
    }
    memcpy(out, s, (size_t)len);
    out[len] = '\0';
    return LORA4J_OK;
}

static void base_name(char *out, int layer, int t) {
    snprintf(out, L4_LORA_NAME_MAX, "blk.%d.%s.weight", layer, k_target_names[t]);
}

int32_t l4_adapter_alloc(const lora4j_model *model, int64_t n, const int32_t *layer, const int32_t *t,
                         const int64_t *rank, const uint8_t *has_bias, lora4j_adapter **out) {
    *out = NULL;
    const lora4j_hparams *hp = &model->hp;
    lora4j_adapter *ad = calloc(1, sizeof *ad);
    if (!ad) return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "no memory for an adapter");
    int32_t st = l4_model_arch_name(model, ad->arch);
    if (st != LORA4J_OK) {
        free(ad);
        return st;
    }
    ad->n_layer = hp->n_layer;
    ad->n_pairs = n;
    ad->pairs = calloc((size_t)(n > 0 ? n : 1), sizeof *ad->pairs);
    ad->names = calloc((size_t)(n > 0 ? n : 1), sizeof *ad->names);
    ad->scales = calloc((size_t)(n > 0 ? n : 1), sizeof *ad->scales);
    ad->index = malloc((size_t)hp->n_layer * L4_N_TARGETS * sizeof *ad->index);
    if (!ad->pairs || !ad->names || !ad->scales || !ad->index) {
        lora4j_adapter_free(ad);
        return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "no memory for an adapter of %lld entries", (long long)n);
    }
    for (int64_t i = 0; i < (int64_t)hp->n_layer * L4_N_TARGETS; i++) ad->index[i] = -1;
    int64_t total = 0;
    for (int64_t i = 0; i < n; i++) {
        const l4_matrix *w = l4_layer_weight(&model->layers[layer[i]], t[i]);
        lora4j_lora_pair *p = &ad->pairs[i];
        base_name(ad->names[i], layer[i], t[i]);
        p->base_name = ad->names[i];
        p->layer = layer[i];
        p->target = (int32_t)l4_target_bit(t[i]);
        p->n_in = w->n_in;
        p->n_out = w->n_out;
        p->rank = rank[i];
        total += rank[i] * (w->n_in + w->n_out) + (has_bias[i] ? w->n_out : 0);
        ad->n_biases += has_bias[i] ? 1 : 0;
        ad->index[layer[i] * L4_N_TARGETS + t[i]] = (int32_t)i;
    }
    ad->n_data = total;
    size_t bytes = ((size_t)(total > 0 ? total : 1) * sizeof(float) + DATA_ALIGN - 1) / DATA_ALIGN * DATA_ALIGN;
    ad->data = aligned_alloc(DATA_ALIGN, bytes);
    if (!ad->data) {
        lora4j_adapter_free(ad);
        return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "no memory for %lld adapter parameters", (long long)total);
    }
    memset(ad->data, 0, bytes);
    float *at = ad->data;
    for (int64_t i = 0; i < n; i++) {
        lora4j_lora_pair *p = &ad->pairs[i];
        if (p->rank > 0) {
            p->a = at;
            at += p->rank * p->n_in;
            p->b = at;
            at += p->rank * p->n_out;
        }
        if (has_bias[i]) {
            p->bias_delta = at;
            at += p->n_out;
        }
    }
    *out = ad;
    return LORA4J_OK;
}

int32_t l4_adapter_check_model(const lora4j_adapter *ad, const lora4j_model *model, const char *what) {
    if (model->hp.vocab_only) return l4_fail(LORA4J_ERR_STATE, "%s: the model was loaded vocab-only", what);
    char arch[L4_ARCH_NAME_MAX];
    int32_t st = l4_model_arch_name(model, arch);
    if (st != LORA4J_OK) return st;
    if (strcmp(arch, ad->arch) != 0) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: the adapter is for architecture '%s', the model is '%s'",
                       what, ad->arch, arch);
    }
    if (ad->n_layer != model->hp.n_layer) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: the adapter is for %d layers, the model has %d", what,
                       ad->n_layer, model->hp.n_layer);
    }
    for (int64_t i = 0; i < ad->n_pairs; i++) {
        const lora4j_lora_pair *p = &ad->pairs[i];
        int t = __builtin_ctz((unsigned)p->target);
        const l4_matrix *w = l4_layer_weight(&model->layers[p->layer], t);
        if (w->n_in != p->n_in || w->n_out != p->n_out) {
            return l4_fail(LORA4J_ERR_INVALID_ARGUMENT,
                           "%s: the adapter's '%s' maps %lld -> %lld, the model's weight %lld -> %lld", what,
                           p->base_name, (long long)p->n_in, (long long)p->n_out, (long long)w->n_in,
                           (long long)w->n_out);
        }
    }
    return LORA4J_OK;
}

LORA4J_API lora4j_lora_params lora4j_lora_default_params(void) {
    lora4j_lora_params p = {8, 16.0f, 0, 0.0f, LORA4J_TARGET_ALL, 0, 0, LORA4J_LORA_INIT_PEFT,
                            LORA4J_LORA_BIAS_NONE, 42};
    return p;
}

static int32_t check_params(const lora4j_model *m, const lora4j_lora_params *p, int *layer_end) {
    const int n_layer = m->hp.n_layer;
    if (p->rank < 1) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "adapter_new: rank %d must be >= 1", p->rank);
    if (!(p->alpha > 0.0f) || !isfinite(p->alpha)) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "adapter_new: alpha %g must be finite and > 0", p->alpha);
    }
    if (!(p->dropout >= 0.0f && p->dropout < 1.0f)) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "adapter_new: dropout %g is not in [0, 1)", p->dropout);
    }
    if (p->targets == 0) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "adapter_new: no target projections (targets is 0)");
    }
    if (p->targets & ~(uint32_t)LORA4J_TARGET_ALL) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "adapter_new: unknown target bits 0x%x (known: 0x%x)",
                       p->targets & ~(uint32_t)LORA4J_TARGET_ALL, (unsigned)LORA4J_TARGET_ALL);
    }
    *layer_end = p->layer_end <= 0 ? n_layer : p->layer_end;
    if (p->layer_begin < 0 || p->layer_begin >= n_layer || *layer_end > n_layer || *layer_end <= p->layer_begin) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "adapter_new: layer range [%d, %d) is not within the model's "
                       "%d layers", p->layer_begin, p->layer_end, n_layer);
    }
    if (p->init != LORA4J_LORA_INIT_PEFT && p->init != LORA4J_LORA_INIT_GAUSSIAN) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "adapter_new: unknown init %d", p->init);
    }
    if (p->bias < LORA4J_LORA_BIAS_NONE || p->bias > LORA4J_LORA_BIAS_ALL) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "adapter_new: unknown bias mode %d", p->bias);
    }
    return LORA4J_OK;
}

/* A weight LoRA can adapt must be a tensor of its own in the file (not a view of attn_qkv). */
static int32_t check_weight(const lora4j_model *m, int layer, int t, int64_t rank) {
    char name[L4_LORA_NAME_MAX];
    base_name(name, layer, t);
    if (lora4j_gguf_find_tensor(m->gguf, name) < 0) {
        return l4_fail(LORA4J_ERR_UNSUPPORTED, "adapter_new: the model has no tensor '%s' (fused attn_qkv?); "
                       "LoRA needs separate q/k/v weights", name);
    }
    const l4_matrix *w = l4_layer_weight(&m->layers[layer], t);
    int64_t lim = w->n_in < w->n_out ? w->n_in : w->n_out;
    if (rank > lim) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "adapter_new: rank %lld exceeds min(n_in %lld, n_out %lld) "
                       "= %lld of '%s'", (long long)rank, (long long)w->n_in, (long long)w->n_out,
                       (long long)lim, name);
    }
    return LORA4J_OK;
}

static void init_values(lora4j_adapter *ad) {
    const lora4j_lora_params *p = &ad->params;
    uint64_t state = p->seed;
    for (int64_t i = 0; i < ad->n_pairs; i++) {
        lora4j_lora_pair *e = &ad->pairs[i];
        const int64_t n = e->rank * e->n_in;
        if (p->init == LORA4J_LORA_INIT_GAUSSIAN) {
            /* PEFT's "gaussian": normal with standard deviation 1/r */
            const float sd = 1.0f / (float)e->rank;
            for (int64_t k = 0; k < n; k++) e->a[k] = sd * l4_rng_normal(&state);
        } else {
            /* kaiming_uniform_(a=sqrt(5)) on fan_in = n_in: bound = gain*sqrt(3/fan_in) = 1/sqrt(n_in) */
            const float bound = (float)(1.0 / sqrt((double)e->n_in));
            for (int64_t k = 0; k < n; k++) e->a[k] = bound * (2.0f * l4_rng_uniform(&state) - 1.0f);
        }
    }
}

LORA4J_API lora4j_status_t lora4j_adapter_new(const lora4j_model *model, const lora4j_lora_params *params,
                                              lora4j_adapter **out) {
    l4_clear_error();
    if (!out) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "adapter_new: out is NULL");
    *out = NULL;
    if (!model || !params) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "adapter_new: NULL model or params");
    if (model->hp.vocab_only) {
        return l4_fail(LORA4J_ERR_STATE, "adapter_new: the model was loaded vocab-only (no weights)");
    }
    int layer_end = 0;
    int32_t st = check_params(model, params, &layer_end);
    if (st != LORA4J_OK) return st;

    const int n_layer = model->hp.n_layer;
    const int64_t cap = (int64_t)n_layer * L4_N_TARGETS;
    int32_t *layer = calloc((size_t)cap, sizeof *layer), *tg = calloc((size_t)cap, sizeof *tg);
    int64_t *rank = calloc((size_t)cap, sizeof *rank);
    uint8_t *bias = calloc((size_t)cap, 1);
    if (!layer || !tg || !rank || !bias) {
        st = l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "no memory for the adapter plan");
    }
    int64_t n = 0;
    for (int il = 0; il < n_layer && st == LORA4J_OK; il++) {
        for (int t = 0; t < L4_N_TARGETS && st == LORA4J_OK; t++) {
            const int adapted = il >= params->layer_begin && il < layer_end && (params->targets & l4_target_bit(t));
            const int has_b = l4_layer_bias(&model->layers[il], t) != NULL;
            const int train_b = has_b && (params->bias == LORA4J_LORA_BIAS_ALL ||
                                          (params->bias == LORA4J_LORA_BIAS_LORA_ONLY && adapted));
            if (!adapted && !train_b) continue;
            st = check_weight(model, il, t, adapted ? params->rank : 0);
            layer[n] = il;
            tg[n] = t;
            rank[n] = adapted ? params->rank : 0;
            bias[n] = (uint8_t)train_b;
            n++;
        }
    }
    lora4j_adapter *ad = NULL;
    if (st == LORA4J_OK) st = l4_adapter_alloc(model, n, layer, tg, rank, bias, &ad);
    free(layer);
    free(tg);
    free(rank);
    free(bias);
    if (st != LORA4J_OK) return st;
    ad->params = *params;
    ad->params.layer_end = layer_end;
    for (int64_t i = 0; i < n; i++) ad->scales[i] = l4_lora_scale(params->alpha, params->rslora, ad->pairs[i].rank);
    init_values(ad);
    *out = ad;
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_adapter_clone(const lora4j_adapter *adapter, lora4j_adapter **out) {
    l4_clear_error();
    if (!out) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "adapter_clone: out is NULL");
    *out = NULL;
    if (!adapter) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "adapter_clone: adapter is NULL");
    const int64_t n = adapter->n_pairs, n_idx = (int64_t)adapter->n_layer * L4_N_TARGETS;
    lora4j_adapter *c = calloc(1, sizeof *c);
    if (c) {
        *c = *adapter;
        c->pairs = malloc((size_t)(n > 0 ? n : 1) * sizeof *c->pairs);
        c->names = malloc((size_t)(n > 0 ? n : 1) * sizeof *c->names);
        c->scales = malloc((size_t)(n > 0 ? n : 1) * sizeof *c->scales);
        c->index = malloc((size_t)n_idx * sizeof *c->index);
        size_t bytes = ((size_t)(adapter->n_data > 0 ? adapter->n_data : 1) * sizeof(float) + DATA_ALIGN - 1) /
                       DATA_ALIGN * DATA_ALIGN;
        c->data = aligned_alloc(DATA_ALIGN, bytes);
    }
    if (!c || !c->pairs || !c->names || !c->scales || !c->index || !c->data) {
        if (c) {
            free(c->pairs);
            free(c->names);
            free(c->scales);
            free(c->index);
            free(c->data);
            free(c);
        }
        return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "adapter_clone: no memory");
    }
    memcpy(c->names, adapter->names, (size_t)n * sizeof *c->names);
    memcpy(c->scales, adapter->scales, (size_t)n * sizeof *c->scales);
    memcpy(c->index, adapter->index, (size_t)n_idx * sizeof *c->index);
    memcpy(c->data, adapter->data, (size_t)adapter->n_data * sizeof(float));
    for (int64_t i = 0; i < n; i++) {
        const lora4j_lora_pair *s = &adapter->pairs[i];
        lora4j_lora_pair *d = &c->pairs[i];
        *d = *s;
        d->base_name = c->names[i];
        d->a = s->a ? c->data + (s->a - adapter->data) : NULL;
        d->b = s->b ? c->data + (s->b - adapter->data) : NULL;
        d->bias_delta = s->bias_delta ? c->data + (s->bias_delta - adapter->data) : NULL;
    }
    *out = c;
    return LORA4J_OK;
}

LORA4J_API void lora4j_adapter_free(lora4j_adapter *adapter) {
    if (!adapter) return;
    free(adapter->pairs);
    free(adapter->names);
    free(adapter->scales);
    free(adapter->index);
    free(adapter->data);
    free(adapter);
}

LORA4J_API lora4j_status_t lora4j_adapter_get_info(const lora4j_adapter *adapter, lora4j_adapter_info *out) {
    l4_clear_error();
    if (!adapter || !out) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "adapter_get_info: NULL argument");
    memset(out, 0, sizeof *out);
    out->rank = adapter->params.rank;
    out->alpha = adapter->params.alpha;
    out->rslora = adapter->params.rslora;
    out->dropout = adapter->params.dropout;
    out->scale = l4_lora_scale(adapter->params.alpha, adapter->params.rslora, adapter->params.rank);
    out->n_pairs = adapter->n_pairs;
    out->n_params = adapter->n_data;
    out->n_biases = adapter->n_biases;
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_adapter_get_pair(const lora4j_adapter *adapter, int64_t i,
                                                   lora4j_lora_pair *out) {
    l4_clear_error();
    if (!adapter || !out) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "adapter_get_pair: NULL argument");
    if (i < 0 || i >= adapter->n_pairs) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "adapter_get_pair: index %lld is out of range [0, %lld)",
                       (long long)i, (long long)adapter->n_pairs);
    }
    *out = adapter->pairs[i];
    return LORA4J_OK;
}
