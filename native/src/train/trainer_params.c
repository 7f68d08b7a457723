/* The trainer's parameter registry: which tensors are trained, where their values, gradients and
 * optimizer moments live (flat buffers, one offset per tensor), and a fingerprint of the set. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "lora/lora_rng.h"
#include "quant/quant.h"
#include "train/trainer.h"

#define ALIGN 64

static uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static void fingerprint(lora4j_trainer *tr) {
    uint64_t h = 0xcbf29ce484222325ULL;
    const int32_t full = tr->p.full;
    h = fnv1a(h, &full, sizeof full);
    for (int i = 0; i < tr->n_params; i++) {
        const tr_param *q = &tr->params[i];
        h = fnv1a(h, q->name, strlen(q->name) + 1);
        h = fnv1a(h, &q->ne0, sizeof q->ne0);
        h = fnv1a(h, &q->ne1, sizeof q->ne1);
    }
    tr->fingerprint = h;
}

/* grad, m and v: three arrays of n_train floats in one allocation (plus `extra` leading floats
 * for the owned weights of full fine-tuning). */
static int32_t alloc_param_mem(lora4j_trainer *tr, int64_t extra, float **extra_out) {
    const int64_t n = tr->n_train > 0 ? tr->n_train : 1;
    const int64_t stride = (n * (int64_t)sizeof(float) + ALIGN - 1) / ALIGN * ALIGN;
    const int64_t lead = (extra * (int64_t)sizeof(float) + ALIGN - 1) / ALIGN * ALIGN;
    uint8_t *mem = aligned_alloc(ALIGN, (size_t)(lead + 3 * stride));
    if (!mem) {
        return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "trainer: cannot allocate %lld bytes for gradients and "
                       "optimizer state", (long long)(lead + 3 * stride));
    }
    memset(mem + lead, 0, (size_t)(3 * stride));
    tr->param_mem = mem;
    if (extra_out) *extra_out = (float *)mem;
    tr->grad = (float *)(mem + lead);
    tr->m = (float *)(mem + lead + stride);
    tr->v = (float *)(mem + lead + 2 * stride);
    return LORA4J_OK;
}

/* Values of the classification head (0 without one). */
static int64_t head_floats(const lora4j_trainer *tr) { return (int64_t)tr->p.n_labels * tr->E; }

/* The classification head as trained parameter k: values at `values`, gradient at offset off,
 * initialised as HF initialises its score layer (normal, std 0.02), from the seed. */
static void add_head(lora4j_trainer *tr, int k, float *values, int64_t off) {
    const int64_t n = head_floats(tr);
    uint64_t s = l4_mix64(tr->p.seed ^ 0x636c6173735f6865ULL);
    for (int64_t i = 0; i < n; i++) values[i] = 0.02f * l4_rng_normal(&s);
    tr->cls_w = values;
    tr->g_cls = tr->grad + off;
    tr->params[k] = (tr_param){.p = values, .n = n, .ne0 = tr->E, .ne1 = tr->p.n_labels, .decay = 1, .off = off,
                               .name = "cls.weight"};
}

/* ---- LoRA ----------------------------------------------------------------------------------- */

int32_t l4_tr_params_lora(lora4j_trainer *tr, int count_only) {
    const lora4j_adapter *ad = tr->ad;
    int n = 0;
    for (int64_t i = 0; i < ad->n_pairs; i++) n += (ad->pairs[i].rank > 0 ? 2 : 0) + (ad->pairs[i].bias_delta ? 1 : 0);
    const int64_t head = head_floats(tr);
    tr->n_params = n + (head > 0);
    tr->n_train = ad->n_data + head;
    if (count_only) return LORA4J_OK;
    tr->params = calloc((size_t)(tr->n_params > 0 ? tr->n_params : 1), sizeof *tr->params);
    if (!tr->params) return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "trainer: no memory");
    int k = 0;
    for (int64_t i = 0; i < ad->n_pairs; i++) {
        const lora4j_lora_pair *e = &ad->pairs[i];
        if (e->rank > 0) {
            tr_param *a = &tr->params[k++], *b = &tr->params[k++];
            *a = (tr_param){.p = e->a, .n = e->rank * e->n_in, .ne0 = e->n_in, .ne1 = e->rank, .decay = 1,
                            .off = e->a - ad->data, .name = {0}};
            snprintf(a->name, sizeof a->name, "%s.lora_a", e->base_name);
            *b = (tr_param){.p = e->b, .n = e->rank * e->n_out, .ne0 = e->rank, .ne1 = e->n_out, .decay = 1,
                            .off = e->b - ad->data, .name = {0}};
            snprintf(b->name, sizeof b->name, "%s.lora_b", e->base_name);
        }
        if (e->bias_delta) {
            tr_param *d = &tr->params[k++];
            *d = (tr_param){.p = e->bias_delta, .n = e->n_out, .ne0 = e->n_out, .ne1 = 1, .decay = 0,
                            .off = e->bias_delta - ad->data, .name = {0}};
            /* "blk.N.attn_q.weight" -> "blk.N.attn_q.bias.delta" */
            int len = (int)strlen(e->base_name) - 7;
            snprintf(d->name, sizeof d->name, "%.*s.bias.delta", len, e->base_name);
        }
    }
    float *head_values = NULL;
    int32_t st = alloc_param_mem(tr, head, &head_values);
    if (st != LORA4J_OK) return st;
    if (head > 0) add_head(tr, k, head_values, ad->n_data);
    fingerprint(tr);
    return LORA4J_OK;
}

/* ---- full fine-tuning ----------------------------------------------------------------------- */

/* A model tensor to train: its source in the model and where the graph reads it from. */
typedef struct full_item {
    char name[L4_LORA_NAME_MAX];
    int32_t type;
    const void *src;
    int64_t ne0, ne1;
    int decay;
    l4_matrix *mat;          /* matrix view to point at the owned copy, or NULL */
    const float **vec;       /* vector view, or NULL */
    float **grad;            /* where its gradient pointer goes */
} full_item;

typedef struct item_list {
    full_item *items;
    int n, cap;
} item_list;

static void add_matrix(item_list *L, const char *name, l4_matrix *m, float **grad) {
    if (L->n >= L->cap) return;
    full_item *it = &L->items[L->n++];
    *it = (full_item){.type = m->type, .src = m->data, .ne0 = m->n_in, .ne1 = m->n_out, .decay = 1, .mat = m,
                      .vec = NULL, .grad = grad, .name = {0}};
    snprintf(it->name, sizeof it->name, "%s", name);
}

static void add_vector(item_list *L, const char *name, const float **v, int64_t n, float **grad) {
    if (L->n >= L->cap || !*v) return;
    full_item *it = &L->items[L->n++];
    *it = (full_item){.type = LORA4J_TYPE_F32, .src = *v, .ne0 = n, .ne1 = 1, .decay = 0, .mat = NULL,
                      .vec = v, .grad = grad, .name = {0}};
    snprintf(it->name, sizeof it->name, "%s", name);
}

/* Every tensor full fine-tuning trains, in file-independent order. */
static void list_items(lora4j_trainer *tr, item_list *L) {
    const lora4j_hparams *hp = &tr->model->hp;
    char name[L4_LORA_NAME_MAX];
    if (tr->train_embd) add_matrix(L, "token_embd.weight", &tr->tok_embd, &tr->g_tok_embd);
    /* a classifier never uses the LM head */
    if (!hp->tied_output && tr->p.n_labels == 0) add_matrix(L, "output.weight", &tr->output, &tr->g_output);
    add_vector(L, "output_norm.weight", &tr->output_norm, tr->E, &tr->g_output_norm);
    static const char *const bias_names[3] = {"attn_q.bias", "attn_k.bias", "attn_v.bias"};
    for (int il = tr->p.freeze_layers; il < hp->n_layer; il++) {
        l4_layer *ly = &tr->layers[il];
        tr_layer_grads *g = &tr->lgrad[il];
        snprintf(name, sizeof name, "blk.%d.attn_norm.weight", il);
        add_vector(L, name, &ly->attn_norm, tr->E, &g->attn_norm);
        snprintf(name, sizeof name, "blk.%d.ffn_norm.weight", il);
        add_vector(L, name, &ly->ffn_norm, tr->E, &g->ffn_norm);
        for (int t = 0; t < L4_N_TARGETS; t++) {
            snprintf(name, sizeof name, "blk.%d.%s.weight", il, l4_target_name(t));
            add_matrix(L, name, (l4_matrix *)l4_layer_weight(ly, t), &g->w[t]);
        }
        const float **biases[3] = {&ly->bq, &ly->bk, &ly->bv};
        for (int t = 0; t < 3; t++) {
            snprintf(name, sizeof name, "blk.%d.%s", il, bias_names[t]);
            add_vector(L, name, biases[t], t == 0 ? tr->Q : tr->KV, &g->b[t]);
        }
    }
}

static int32_t check_item(const lora4j_trainer *tr, const full_item *it) {
    if (lora4j_gguf_find_tensor(tr->model->gguf, it->name) < 0) {
        return l4_fail(LORA4J_ERR_UNSUPPORTED, "trainer: full fine-tuning needs the model's tensor '%s' (a fused "
                       "attn_qkv cannot be trained)", it->name);
    }
    if (it->type != LORA4J_TYPE_F32 && it->type != LORA4J_TYPE_F16 && it->type != LORA4J_TYPE_BF16) {
        const char *tn = lora4j_type_name(it->type);
        return l4_fail(LORA4J_ERR_UNSUPPORTED, "trainer: full fine-tuning trains f32/f16 weights, but '%s' is %s "
                       "(train a LoRA adapter on a quantized model)", it->name, tn ? tn : "unknown");
    }
    return LORA4J_OK;
}

int32_t l4_tr_params_full(lora4j_trainer *tr, int count_only) {
    const lora4j_model *m = tr->model;
    const lora4j_hparams *hp = &m->hp;
    tr->train_embd = tr->p.freeze_layers == 0;
    /* the graph's view of the weights starts as the model's; trained tensors are redirected */
    tr->layers = malloc((size_t)hp->n_layer * sizeof *tr->layers);
    tr->lgrad = calloc((size_t)hp->n_layer, sizeof *tr->lgrad);
    item_list L = {NULL, 0, 3 + 14 * hp->n_layer};
    L.items = calloc((size_t)L.cap, sizeof *L.items);
    if (!tr->layers || !tr->lgrad || !L.items) {
        free(L.items);
        return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "trainer: no memory");
    }
    memcpy(tr->layers, m->layers, (size_t)hp->n_layer * sizeof *tr->layers);
    tr->tok_embd = m->tok_embd;
    tr->output = m->output;
    tr->output_norm = m->output_norm;
    list_items(tr, &L);

    int32_t st = LORA4J_OK;
    int64_t total = 0;
    for (int i = 0; i < L.n && st == LORA4J_OK; i++) {
        st = check_item(tr, &L.items[i]);
        total += L.items[i].ne0 * L.items[i].ne1;
    }
    const int64_t head = head_floats(tr);
    tr->n_params = L.n + (head > 0);
    tr->n_train = total + head;
    if (st != LORA4J_OK || count_only) {
        free(L.items);
        return st;
    }
    tr->params = calloc((size_t)tr->n_params + 1, sizeof *tr->params);
    if (!tr->params) st = l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "trainer: no memory");
    if (st == LORA4J_OK) st = alloc_param_mem(tr, total + head, &tr->owned);
    int64_t off = 0;
    for (int i = 0; i < L.n && st == LORA4J_OK; i++) {
        const full_item *it = &L.items[i];
        const int64_t n = it->ne0 * it->ne1;
        float *dst = tr->owned + off;
        if (it->type == LORA4J_TYPE_F32) memcpy(dst, it->src, (size_t)n * sizeof(float));
        else l4_traits(it->type)->to_float(it->src, dst, n);
        for (int64_t k = 0; k < n; k++) {
            if (!isfinite(dst[k])) {
                st = l4_fail(LORA4J_ERR_NUMERIC, "trainer: tensor '%s' holds a non-finite value at element %lld",
                             it->name, (long long)k);
                break;
            }
        }
        if (it->mat) *it->mat = (l4_matrix){LORA4J_TYPE_F32, it->ne0, it->ne1, dst};
        else *it->vec = dst;
        *it->grad = tr->grad + off;
        tr->params[i] = (tr_param){.p = dst, .n = n, .ne0 = it->ne0, .ne1 = it->ne1, .decay = it->decay, .off = off,
                                   .name = {0}};
        snprintf(tr->params[i].name, sizeof tr->params[i].name, "%s", it->name);
        off += n;
    }
    free(L.items);
    if (st != LORA4J_OK) return st;
    if (head > 0) add_head(tr, L.n, tr->owned + total, total);
    if (hp->tied_output) {
        /* one tensor, two uses: the head reads (and, when trained, accumulates into) the embedding */
        tr->output = tr->tok_embd;
        tr->g_output = tr->g_tok_embd;
    }
    fingerprint(tr);
    return LORA4J_OK;
}
