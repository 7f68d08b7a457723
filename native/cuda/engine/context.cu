/* Inference contexts of the backend table (backend.h): creation with every device buffer planned
 * up front, adapters, decoding a staged chunk, and copying a sequence's cache. The engine has
 * validated each request (tokens, sequences, positions, sizes) before it reaches here. */
#include <stdlib.h>

#include "engine/context.h"

/* The head scores about this many logits at once (at least 8 rows, at most n_batch). */
#define HEAD_CHUNK_FLOATS ((int64_t)1 << 24)

static size_t stage_bytes(int64_t n, int64_t n_rot, int64_t n_rows) {
    return (size_t)(n * n_rot) * sizeof(float) + (size_t)(3 * n + 2 * n_rows) * sizeof(int32_t);
}

lcu_staged lcu_context_stage(void *base, int64_t n, int64_t n_rot, int64_t n_rows) {
    lcu_staged d;
    d.rope_cs = (float *)base;
    d.tokens = (int32_t *)(d.rope_cs + n * n_rot);
    d.seq = d.tokens + n;
    d.pos = d.seq + n;
    d.rows = d.pos + n;
    d.targets = d.rows + n_rows;
    d.bytes = stage_bytes(n, n_rot, n_rows);
    return d;
}

static void release_adapters(lcu_context *c) {
    for (int32_t i = 0; i < c->n_ads; i++) lcu_dadapter_free(c->ads[i]);
    free(c->ads);
    free(c->scales);
    lcu_arena_free(&c->lora_mem);
    c->ads = NULL;
    c->scales = NULL;
    c->n_ads = 0;
    memset(&c->lora, 0, sizeof c->lora);
}

void lcu_context_free(void *ctx) {
    lcu_context *c = (lcu_context *)ctx;
    if (!c) return;
    cudaSetDevice(c->m->device);
    if (c->stream) cudaStreamSynchronize(c->stream);
    release_adapters(c);
    lcu_arena_free(&c->mem);
    if (c->stage_host) cudaFreeHost(c->stage_host);
    if (c->stream) cudaStreamDestroy(c->stream);
    free(c);
}

/* Bytes of every buffer of the context; with take, carve them out of c->mem in the same order. */
static size_t plan_buffers(lcu_context *c, int take) {
    const lora4j_hparams *hp = &c->m->hp;
    const int64_t nb = c->n_batch, E = hp->n_embd, bf = sizeof(lcu_bf16), f = sizeof(float);
    const int64_t kv_bytes = (int64_t)hp->n_layer * c->layer_elems * bf;
    struct { void **p; int64_t bytes; } piece[] = {
        {(void **)&c->k_cache, kv_bytes},
        {(void **)&c->v_cache, kv_bytes},
        {(void **)&c->x, nb * E * f},
        {(void **)&c->y, nb * E * f},
        {(void **)&c->xn, nb * E * bf},
        {(void **)&c->q, nb * c->n_q * f},
        {(void **)&c->k, nb * c->n_kv * f},
        {(void **)&c->v, nb * c->n_kv * f},
        {(void **)&c->att, nb * c->n_q * bf},
        {(void **)&c->gate, nb * hp->n_ff * f},
        {(void **)&c->up, nb * hp->n_ff * f},
        {(void **)&c->act, nb * hp->n_ff * bf},
        {(void **)&c->hx, c->head_rows * E * f},
        {(void **)&c->logits, c->head_rows * hp->n_vocab * f},
        {(void **)&c->lp, nb * f},
        {&c->stage, (int64_t)c->stage_bytes},
    };
    size_t total = 0;
    for (size_t i = 0; i < sizeof piece / sizeof piece[0]; i++) {
        total += lcu_arena_piece((size_t)piece[i].bytes);
        if (take) *piece[i].p = lcu_arena_take(&c->mem, (size_t)piece[i].bytes);
    }
    return total;
}

int32_t lcu_context_new(void *model, int32_t n_ctx, int32_t n_seq_max, int32_t n_batch, void **out) {
    *out = NULL;
    const lcu_dmodel *m = (const lcu_dmodel *)model;
    const lora4j_hparams *hp = &m->hp;
    if (n_ctx < 1 || n_seq_max < 1 || n_batch < 1 || n_batch > n_ctx) {
        return lcu_fail(LORA4J_ERR_INVALID_ARGUMENT, "context_new: n_ctx %d, n_seq_max %d, n_batch %d",
                        n_ctx, n_seq_max, n_batch);
    }
    if (hp->head_dim < 1 || hp->head_dim > LCU_ATTN_MAX_HEAD_DIM) {
        return lcu_fail(LORA4J_ERR_UNSUPPORTED, "context_new: head_dim %d is beyond the CUDA attention's %d",
                        hp->head_dim, LCU_ATTN_MAX_HEAD_DIM);
    }
    int32_t st = lcu_check(cudaSetDevice(m->device), "context_new: selecting the device");
    if (st != LORA4J_OK) return st;
    lcu_context *c = (lcu_context *)calloc(1, sizeof *c);
    if (!c) return lcu_fail(LORA4J_ERR_OUT_OF_MEMORY, "context_new: no host memory");
    c->m = m;
    c->n_ctx = n_ctx;
    c->n_seq_max = n_seq_max;
    c->n_batch = n_batch;
    c->n_q = (int64_t)hp->n_head * hp->head_dim;
    c->n_kv = (int64_t)hp->n_head_kv * hp->head_dim;
    c->layer_elems = (int64_t)n_seq_max * c->n_kv * n_ctx;
    int64_t rows = HEAD_CHUNK_FLOATS / hp->n_vocab;
    rows = rows < 8 ? 8 : rows;
    c->head_rows = rows < n_batch ? rows : n_batch;
    c->stage_bytes = stage_bytes(n_batch, hp->n_rot, n_batch);

    st = lcu_check(cudaStreamCreate(&c->stream), "context_new: creating a stream");
    if (st == LORA4J_OK) {
        st = lcu_check(cudaMallocHost(&c->stage_host, c->stage_bytes), "context_new: pinned staging buffer");
    }
    if (st == LORA4J_OK) {
        st = lcu_arena_init(&c->mem, plan_buffers(c, 0), "inference context (KV cache and activations)");
    }
    if (st != LORA4J_OK) {
        lcu_context_free(c);
        return st;
    }
    plan_buffers(c, 1);
    *out = c;
    return LORA4J_OK;
}

int32_t lcu_context_set_adapters(void *ctx, const l4b_adapter *const *ads, const float *scales, int32_t n) {
    lcu_context *c = (lcu_context *)ctx;
    int32_t st = lcu_check(cudaSetDevice(c->m->device), "context_set_adapters: selecting the device");
    if (st != LORA4J_OK) return st;
    if (n == 0) {
        release_adapters(c);
        return LORA4J_OK;
    }
    /* the new set is built beside the current one (in a context holding only its adapter
     * fields), so a failure leaves the current one in force */
    lcu_context next;
    memset(&next, 0, sizeof next);
    next.ads = (lcu_dadapter **)calloc((size_t)n, sizeof *next.ads);
    next.scales = (float *)malloc((size_t)n * sizeof *next.scales);
    if (!next.ads || !next.scales) {
        st = lcu_fail(LORA4J_ERR_OUT_OF_MEMORY, "context_set_adapters: no host memory");
    }
    int64_t max_rank = 1;
    for (int32_t i = 0; st == LORA4J_OK && i < n; i++) {
        st = lcu_dadapter_upload(&c->m->hp, ads[i], &next.ads[i]);
        if (st != LORA4J_OK) break;
        next.n_ads = i + 1;
        next.scales[i] = scales[i];
        for (int64_t j = 0; j < ads[i]->n_pairs; j++) {
            if (ads[i]->pairs[j].rank > max_rank) max_rank = ads[i]->pairs[j].rank;
        }
    }
    const size_t h_elems = (size_t)c->n_batch * (size_t)max_rank;
    if (st == LORA4J_OK) {
        st = lcu_arena_init(&next.lora_mem, lcu_arena_piece(h_elems * sizeof(float)) +
                                                lcu_arena_piece(h_elems * sizeof(lcu_bf16)),
                            "adapter scratch");
    }
    if (st != LORA4J_OK) {
        release_adapters(&next);
        return st;
    }
    release_adapters(c);
    c->ads = next.ads;
    c->scales = next.scales;
    c->n_ads = n;
    c->lora_mem = next.lora_mem;
    c->lora.ads = c->ads;
    c->lora.scales = c->scales;
    c->lora.n = n;
    c->lora.h = (float *)lcu_arena_take(&c->lora_mem, h_elems * sizeof(float));
    c->lora.h16 = (lcu_bf16 *)lcu_arena_take(&c->lora_mem, h_elems * sizeof(lcu_bf16));
    return LORA4J_OK;
}

int32_t lcu_context_decode(void *ctx, const int32_t *tokens, const int32_t *seq, const int32_t *pos, int32_t n,
                           const float *rope_cs, const int32_t *rows, int32_t n_rows, const int32_t *targets,
                           float *out) {
    lcu_context *c = (lcu_context *)ctx;
    const lora4j_hparams *hp = &c->m->hp;
    if (n < 1 || n > c->n_batch || n_rows < 0 || n_rows > n) {
        return lcu_fail(LORA4J_ERR_INVALID_ARGUMENT, "context_decode: %d tokens, %d head rows (n_batch %d)", n,
                        n_rows, c->n_batch);
    }
    int32_t st = lcu_check(cudaSetDevice(c->m->device), "context_decode: selecting the device");
    if (st != LORA4J_OK) return st;
    const lcu_staged h = lcu_context_stage(c->stage_host, n, hp->n_rot, n_rows);
    const lcu_staged d = lcu_context_stage(c->stage, n, hp->n_rot, n_rows);
    memcpy(h.rope_cs, rope_cs, (size_t)n * (size_t)hp->n_rot * sizeof(float));
    memcpy(h.tokens, tokens, (size_t)n * sizeof(int32_t));
    memcpy(h.seq, seq, (size_t)n * sizeof(int32_t));
    memcpy(h.pos, pos, (size_t)n * sizeof(int32_t));
    memcpy(h.rows, rows, (size_t)n_rows * sizeof(int32_t));
    if (targets) memcpy(h.targets, targets, (size_t)n_rows * sizeof(int32_t));
    st = lcu_check(cudaMemcpyAsync(c->stage, c->stage_host, h.bytes, cudaMemcpyHostToDevice, c->stream),
                   "context_decode: uploading the chunk");
    if (st != LORA4J_OK) return st;

    lcu_context_layers(c, &d, n);
    const int64_t V = hp->n_vocab;
    for (int64_t r0 = 0; r0 < n_rows && st == LORA4J_OK; r0 += c->head_rows) {
        const int64_t k = n_rows - r0 < c->head_rows ? n_rows - r0 : c->head_rows;
        lcu_context_head(c, &d, r0, k, targets != NULL);
        if (!targets) {
            st = lcu_check(cudaMemcpyAsync(out + r0 * V, c->logits, (size_t)(k * V) * sizeof(float),
                                           cudaMemcpyDeviceToHost, c->stream),
                           "context_decode: downloading logits");
        }
    }
    if (st == LORA4J_OK && targets && n_rows > 0) {
        st = lcu_check(cudaMemcpyAsync(out, c->lp, (size_t)n_rows * sizeof(float), cudaMemcpyDeviceToHost,
                                       c->stream),
                       "context_decode: downloading log-probs");
    }
    if (st == LORA4J_OK) st = lcu_check_launch("context_decode");
    const int32_t sync = lcu_check(cudaStreamSynchronize(c->stream), "context_decode");
    return st != LORA4J_OK ? st : sync;
}

/* Copies count elements of each head of sequence src to sequence dst. Block x is (layer il, kv
 * head g) = (x / n_head_kv, x % n_head_kv), y picks K (0) or V (1), blocks along z split the
 * elements. Head g of sequence s in layer il starts at il*layer_elems + s*seq_elems + g*head_elems. */
__global__ void lcu_kv_copy_kernel(lcu_bf16 *k_cache, lcu_bf16 *v_cache, int n_head_kv, int64_t layer_elems,
                                   int64_t seq_elems, int64_t head_elems, int32_t src, int32_t dst, int64_t count) {
    lcu_bf16 *cache = blockIdx.y == 0 ? k_cache : v_cache;
    const int64_t head = (int64_t)(blockIdx.x / n_head_kv) * layer_elems + (blockIdx.x % n_head_kv) * head_elems;
    const lcu_bf16 *from = cache + head + src * seq_elems;
    lcu_bf16 *to = cache + head + dst * seq_elems;
    const int64_t step = (int64_t)gridDim.z * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.z * blockDim.x + threadIdx.x; i < count; i += step) to[i] = from[i];
}

int32_t lcu_context_kv_copy(void *ctx, int32_t src, int32_t dst, int32_t n_tokens) {
    lcu_context *c = (lcu_context *)ctx;
    const lora4j_hparams *hp = &c->m->hp;
    if (src < 0 || src >= c->n_seq_max || dst < 0 || dst >= c->n_seq_max || n_tokens < 0 || n_tokens > c->n_ctx) {
        return lcu_fail(LORA4J_ERR_INVALID_ARGUMENT, "context_kv_copy: %d tokens from sequence %d to %d", n_tokens,
                        src, dst);
    }
    if (src == dst || n_tokens == 0) return LORA4J_OK;
    int32_t st = lcu_check(cudaSetDevice(c->m->device), "context_kv_copy: selecting the device");
    if (st != LORA4J_OK) return st;
    const int64_t head_elems = (int64_t)c->n_ctx * hp->head_dim;
    const int64_t count = (int64_t)n_tokens * hp->head_dim;
    const int64_t split = lcu_cdiv(count, 256 * 8);
    const dim3 grid((unsigned)(hp->n_layer * hp->n_head_kv), 2, (unsigned)(split > 64 ? 64 : split));
    LCU_LAUNCH(lcu_kv_copy_kernel, grid, dim3(256), 0, c->stream, c->k_cache, c->v_cache, hp->n_head_kv,
               c->layer_elems, hp->n_head_kv * head_elems, head_elems, src, dst, count);
    st = lcu_check_launch("context_kv_copy");
    const int32_t sync = lcu_check(cudaStreamSynchronize(c->stream), "context_kv_copy");
    return st != LORA4J_OK ? st : sync;
}
