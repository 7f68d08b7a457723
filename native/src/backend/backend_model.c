/* Backend views of models and adapters, and the per-model cache of device uploads. One lock
 * guards every model's cache: uploads are rare and slow, lookups cheap. */
#include <pthread.h>
#include <stdlib.h>

#include "backend/backend_load.h"
#include "backend/backend_model.h"
#include "core/error.h"
#include "quant/quant.h"

struct l4_device_model {
    int32_t device;
    void *dm;
    struct l4_device_model *next;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static l4b_weight weight(const l4_matrix *w) {
    return (l4b_weight){w->type, w->n_in, w->n_out, l4_row_bytes(w->type, w->n_in), w->data};
}

void l4_backend_describe_model(const lora4j_model *m, l4b_model *out, l4b_layer *layers) {
    for (int il = 0; il < m->hp.n_layer; il++) {
        const l4_layer *ly = &m->layers[il];
        l4b_layer *o = &layers[il];
        o->attn_norm = ly->attn_norm;
        o->ffn_norm = ly->ffn_norm;
        for (int t = 0; t < L4_N_TARGETS; t++) o->w[t] = weight(l4_layer_weight(ly, t));
        for (int t = 0; t < 3; t++) o->bias[t] = l4_layer_bias(ly, t);
    }
    *out = (l4b_model){m->hp, weight(&m->tok_embd), weight(&m->output), m->output_norm, m->output_bias, layers};
}

l4b_adapter l4_backend_adapter(const lora4j_adapter *ad) {
    return (l4b_adapter){ad->n_pairs, ad->pairs, ad->scales};
}

static struct l4_device_model *find(const lora4j_model *m, int32_t device) {
    for (struct l4_device_model *d = m->device_models; d; d = d->next) {
        if (d->device == device) return d;
    }
    return NULL;
}

int l4_backend_model_resident(const lora4j_model *m, int32_t device) {
    pthread_mutex_lock(&g_lock);
    const int r = find(m, device) != NULL;
    pthread_mutex_unlock(&g_lock);
    return r;
}

static int32_t upload(const l4_backend *be, const lora4j_model *m, int32_t device, void **out) {
    if (!be->model_upload) return l4_backend_missing(be, "model_upload");
    l4b_layer *layers = calloc((size_t)(m->hp.n_layer > 0 ? m->hp.n_layer : 1), sizeof *layers);
    if (!layers) return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "model upload: no memory");
    l4b_model bm;
    l4_backend_describe_model(m, &bm, layers);
    int32_t st = be->model_upload(device, &bm, out);
    free(layers);
    return st == LORA4J_OK ? st : l4_backend_fail(be, st, "uploading the model to the CUDA device");
}

int32_t l4_backend_model(const lora4j_model *m, int32_t device, const l4_backend **be, void **out) {
    *out = NULL;
    int32_t st = l4_backend_get(be);
    if (st != LORA4J_OK) return st;
    pthread_mutex_lock(&g_lock);
    struct l4_device_model *d = find(m, device);
    if (!d) {
        d = calloc(1, sizeof *d);
        if (!d) {
            st = l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "model upload: no memory");
        } else if ((st = upload(*be, m, device, &d->dm)) != LORA4J_OK) {
            free(d);
            d = NULL;
        } else {
            /* the cache is the model's only mutable part; lora4j_model_free releases it */
            lora4j_model *mm = (lora4j_model *)m;
            d->device = device;
            d->next = mm->device_models;
            mm->device_models = d;
        }
    }
    if (d) *out = d->dm;
    pthread_mutex_unlock(&g_lock);
    return st;
}

void l4_backend_models_free(lora4j_model *m) {
    pthread_mutex_lock(&g_lock);
    struct l4_device_model *d = m->device_models;
    m->device_models = NULL;
    pthread_mutex_unlock(&g_lock);
    const l4_backend *be = NULL;
    if (d) l4_backend_get(&be); /* loaded already: it made these copies */
    while (d) {
        struct l4_device_model *next = d->next;
        if (be && be->model_free) be->model_free(d->dm);
        free(d);
        d = next;
    }
}
