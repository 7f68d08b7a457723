/* Inference contexts on a CUDA device: the core keeps validation, the sequences' lengths and the
 * chunking (context.c, decode.c); here each operation goes to the backend, with the RoPE cos/sin
 * of a chunk's positions computed on the host, as for the CPU. The backend holds copies of the
 * adapters' values; an optimizer step bumps an adapter's generation, and the next forward
 * uploads it again, so a device context sees training updates as a CPU context does. */
#include <stdlib.h>
#include <string.h>

#include "backend/backend_load.h"
#include "backend/backend_model.h"
#include "core/error.h"
#include "infer/context.h"

int32_t l4_device_context_new(lora4j_context *c) {
    const l4_backend *be;
    int32_t st = l4_backend_get(&be);
    if (st != LORA4J_OK) return l4_fail_context(st, "context_new on CUDA device %d", c->p.device);
    if (!be->device_count || !be->context_new || !be->context_free || !be->context_set_adapters ||
        !be->context_decode || !be->context_kv_copy) {
        return l4_backend_missing(be, "inference contexts");
    }
    int32_t n = 0;
    st = be->device_count(&n);
    if (st != LORA4J_OK) return l4_backend_fail(be, st, "context_new");
    if (c->p.device >= n) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "context_new: CUDA device %d does not exist (%d CUDA device%s)",
                       c->p.device, n, n == 1 ? "" : "s");
    }
    void *dm = NULL;
    st = l4_backend_model(c->model, c->p.device, &be, &dm);
    if (st != LORA4J_OK) return st;
    st = be->context_new(dm, c->p.n_ctx, c->p.n_seq_max, c->p.n_batch, &c->dev);
    if (st != LORA4J_OK) return l4_backend_fail(be, st, "context_new");
    c->be = be;
    return LORA4J_OK;
}

void l4_device_context_free(lora4j_context *c) {
    if (c->dev) c->be->context_free(c->dev);
    c->dev = NULL;
}

/* Uploads the adapters; on success gen[i] is the generation of adapter i that was uploaded (on
 * failure the backend keeps its current set). */
static int32_t upload(lora4j_context *c, const lora4j_adapter *const *adapters, const float *scales, int32_t n,
                      uint64_t *gen) {
    const size_t k = (size_t)(n > 0 ? n : 1);
    l4b_adapter *views = calloc(k, sizeof(l4b_adapter) + sizeof(l4b_adapter *));
    if (!views) return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "context_set_adapters: no memory");
    const l4b_adapter **list = (const l4b_adapter **)(views + k);
    for (int32_t i = 0; i < n; i++) {
        views[i] = l4_backend_adapter(adapters[i]);
        list[i] = &views[i];
    }
    int32_t st = c->be->context_set_adapters(c->dev, list, scales, n);
    free(views);
    if (st != LORA4J_OK) return l4_backend_fail(c->be, st, "context_set_adapters");
    for (int32_t i = 0; i < n; i++) gen[i] = adapters[i]->generation;
    return LORA4J_OK;
}

int32_t l4_device_set_adapters(lora4j_context *c, const lora4j_adapter *const *adapters, const float *scales,
                               int32_t n) {
    /* the generations uploaded, and copies of the lists as on the CPU: [n] each */
    const size_t gen_bytes = (size_t)n * sizeof(uint64_t), ptr_bytes = (size_t)n * sizeof(void *);
    char *mem = malloc(gen_bytes + ptr_bytes + (size_t)n * sizeof(float) + 1);
    if (!mem) return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "context_set_adapters: no memory");
    uint64_t *gen = (uint64_t *)mem;
    const lora4j_adapter **list = (const lora4j_adapter **)(mem + gen_bytes);
    float *sc = (float *)(mem + gen_bytes + ptr_bytes);
    int32_t st = upload(c, adapters, scales, n, gen);
    if (st != LORA4J_OK) {
        free(mem);
        return st;
    }
    if (n > 0) {
        memcpy(list, adapters, ptr_bytes);
        memcpy(sc, scales, (size_t)n * sizeof(float));
    }
    free(c->lora_mem);
    c->lora_mem = mem;
    c->lora = (l4_lora_stack){list, sc, n, NULL, 0};
    c->dev_gen = gen;
    return LORA4J_OK;
}

int32_t l4_device_decode(lora4j_context *c, const int32_t *tokens, int64_t n, const int32_t *rows, int32_t n_rows,
                         const int32_t *targets, float *out) {
    int changed = 0;
    for (int32_t i = 0; i < c->lora.n; i++) changed |= c->lora.adapters[i]->generation != c->dev_gen[i];
    int32_t st = changed ? upload(c, c->lora.adapters, c->lora.scales, c->lora.n, c->dev_gen) : LORA4J_OK;
    if (st != LORA4J_OK) return st;
    l4_rope_cache(&c->rope, c->pos, n, c->rope_cs);
    st = c->be->context_decode(c->dev, tokens, c->seq, c->pos, (int32_t)n, c->rope_cs, rows, n_rows, targets, out);
    return st == LORA4J_OK ? st : l4_backend_fail(c->be, st, targets ? "sequence_logprobs" : "decode");
}

int32_t l4_device_kv_copy(lora4j_context *c, int32_t src, int32_t dst, int32_t n_tokens) {
    int32_t st = c->be->context_kv_copy(c->dev, src, dst, n_tokens);
    return st == LORA4J_OK ? st : l4_backend_fail(c->be, st, "kv_seq_copy");
}
