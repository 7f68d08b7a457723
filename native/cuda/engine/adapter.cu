/* Adapters on the device: every A and B in one flat f32 buffer, pair by pair (a then b), which
 * is also the layout of a trainer's gradients and optimizer moments; bias deltas beside it. */
#include <stdlib.h>

#include "engine/engine.h"

/* Target index of a lora4j_lora_target bit, or -1. */
static int target_index(int32_t bit) {
    for (int t = 0; t < 7; t++) {
        if (bit == (int32_t)(1u << t)) return t;
    }
    return -1;
}

static int32_t check_pair(const lora4j_hparams *hp, const lora4j_lora_pair *p, int64_t i) {
    if (p->layer < 0 || p->layer >= hp->n_layer || target_index(p->target) < 0 || p->rank < 0 || p->n_in < 1 ||
        p->n_out < 1 || (p->rank > 0 && (!p->a || !p->b))) {
        return lcu_fail(LORA4J_ERR_INVALID_ARGUMENT, "adapter_upload: pair %lld (layer %d, target %d, rank %lld) "
                        "is malformed", (long long)i, p->layer, p->target, (long long)p->rank);
    }
    return LORA4J_OK;
}

void lcu_dadapter_free(lcu_dadapter *ad) {
    if (!ad) return;
    lcu_arena_free(&ad->mem);
    free(ad->pairs);
    free(ad->index);
    free(ad);
}

int64_t lcu_dadapter_values(const l4b_adapter *ad) {
    int64_t n = 0;
    for (int64_t i = 0; i < ad->n_pairs; i++) n += ad->pairs[i].rank * (ad->pairs[i].n_in + ad->pairs[i].n_out);
    return n;
}

size_t lcu_dadapter_bytes(const l4b_adapter *ad) {
    size_t bytes = lcu_arena_piece((size_t)lcu_dadapter_values(ad) * sizeof(float));
    for (int64_t i = 0; i < ad->n_pairs; i++) {
        if (ad->pairs[i].bias_delta) bytes += lcu_arena_piece((size_t)ad->pairs[i].n_out * sizeof(float));
    }
    return bytes;
}

int32_t lcu_dadapter_upload(const lora4j_hparams *hp, const l4b_adapter *ad, lcu_dadapter **out) {
    *out = NULL;
    const int64_t n = ad->n_pairs;
    for (int64_t i = 0; i < n; i++) {
        int32_t st = check_pair(hp, &ad->pairs[i], i);
        if (st != LORA4J_OK) return st;
    }
    const int64_t n_values = lcu_dadapter_values(ad);
    const size_t bytes = lcu_dadapter_bytes(ad);
    lcu_dadapter *d = (lcu_dadapter *)calloc(1, sizeof *d);
    if (d) {
        d->pairs = (lcu_dpair *)calloc((size_t)(n > 0 ? n : 1), sizeof *d->pairs);
        d->index = (int32_t *)malloc((size_t)hp->n_layer * 7 * sizeof *d->index);
    }
    if (!d || !d->pairs || !d->index) {
        lcu_dadapter_free(d);
        return lcu_fail(LORA4J_ERR_OUT_OF_MEMORY, "adapter_upload: no host memory");
    }
    for (int64_t k = 0; k < (int64_t)hp->n_layer * 7; k++) d->index[k] = -1;
    d->n_pairs = n;
    d->n_values = n_values;
    int32_t st = lcu_arena_init(&d->mem, bytes, "adapter_upload");
    if (st == LORA4J_OK) d->values = (float *)lcu_arena_take(&d->mem, (size_t)n_values * sizeof(float));
    int64_t off = 0;
    for (int64_t i = 0; i < n && st == LORA4J_OK; i++) {
        const lora4j_lora_pair *p = &ad->pairs[i];
        lcu_dpair *q = &d->pairs[i];
        const int t = target_index(p->target);
        *q = lcu_dpair{p->layer, t, p->n_in, p->n_out, p->rank, NULL, NULL, NULL, ad->pair_scales[i], off};
        d->index[p->layer * 7 + t] = (int32_t)i;
        if (p->rank > 0) {
            const size_t na = (size_t)(p->rank * p->n_in), nb = (size_t)(p->rank * p->n_out);
            q->a = d->values + off;
            q->b = q->a + na;
            st = lcu_check(cudaMemcpy(q->a, p->a, na * sizeof(float), cudaMemcpyHostToDevice), "adapter_upload: A");
            if (st == LORA4J_OK) {
                st = lcu_check(cudaMemcpy(q->b, p->b, nb * sizeof(float), cudaMemcpyHostToDevice), "adapter_upload: B");
            }
            off += (int64_t)(na + nb);
        }
        if (st == LORA4J_OK && p->bias_delta) {
            q->bias_delta = (float *)lcu_arena_take(&d->mem, (size_t)p->n_out * sizeof(float));
            st = lcu_check(cudaMemcpy(q->bias_delta, p->bias_delta, (size_t)p->n_out * sizeof(float),
                                      cudaMemcpyHostToDevice), "adapter_upload: bias delta");
        }
    }
    if (st != LORA4J_OK) {
        lcu_dadapter_free(d);
        return st;
    }
    *out = d;
    return LORA4J_OK;
}

int32_t lcu_dadapter_download(const lcu_dadapter *d, const l4b_adapter *host) {
    if (host->n_pairs != d->n_pairs) {
        return lcu_fail(LORA4J_ERR_STATE, "adapter_download: the host adapter has %lld pairs, the device one %lld",
                        (long long)host->n_pairs, (long long)d->n_pairs);
    }
    for (int64_t i = 0; i < d->n_pairs; i++) {
        const lcu_dpair *q = &d->pairs[i];
        const lora4j_lora_pair *p = &host->pairs[i];
        if (q->rank == 0) continue;
        int32_t st = lcu_check(cudaMemcpy(p->a, q->a, (size_t)(q->rank * q->n_in) * sizeof(float),
                                          cudaMemcpyDeviceToHost), "adapter_download: A");
        if (st == LORA4J_OK) {
            st = lcu_check(cudaMemcpy(p->b, q->b, (size_t)(q->rank * q->n_out) * sizeof(float), cudaMemcpyDeviceToHost),
                           "adapter_download: B");
        }
        if (st != LORA4J_OK) return st;
    }
    return LORA4J_OK;
}
