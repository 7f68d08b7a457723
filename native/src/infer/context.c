/* Context creation (all buffers planned up front) and the KV cache's per-sequence operations.
 * A context on a CUDA device (params.device >= 0) keeps only the host staging arrays here; its
 * KV cache and activations live in the backend (infer/context_device.c). */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/threadpool.h"
#include "infer/context.h"

#define ARENA_ALIGN 64
#define MAX_SEQ (1 << 16)
#define MAX_CTX (1 << 24)
#define MAX_THREADS 1024
/* n_ctx <= 0 means the training context, capped so a long-context model's default cache stays
 * a few GB at most. */
#define DEFAULT_CTX_CAP 4096
/* Output-head chunk: about this many logits at once (at least 8 rows). */
#define HEAD_CHUNK_FLOATS (1 << 22)

LORA4J_API lora4j_context_params lora4j_context_default_params(void) {
    lora4j_context_params p = {0, 1, 512, 0, 0, -1};
    return p;
}

typedef struct arena_plan {
    void **ptr[32];
    size_t bytes[32];
    int n;
    size_t total;
    int overflow;
} arena_plan;

static void plan(arena_plan *a, void **ptr, size_t count, size_t elem) {
    size_t bytes;
    if (__builtin_mul_overflow(count, elem, &bytes) || bytes > SIZE_MAX / 2) a->overflow = 1;
    bytes = (bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    a->ptr[a->n] = ptr;
    a->bytes[a->n] = bytes;
    a->n++;
    if (__builtin_add_overflow(a->total, bytes, &a->total)) a->overflow = 1;
}

static int32_t check_params(const lora4j_model *m, lora4j_context_params *p) {
    const lora4j_hparams *hp = &m->hp;
    if (p->n_ctx <= 0) p->n_ctx = hp->n_ctx_train < DEFAULT_CTX_CAP ? hp->n_ctx_train : DEFAULT_CTX_CAP;
    if (p->n_ctx > MAX_CTX) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "context_new: n_ctx %d exceeds %d", p->n_ctx, MAX_CTX);
    }
    if (p->n_seq_max < 1 || p->n_seq_max > MAX_SEQ) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "context_new: n_seq_max %d is not in 1..%d",
                       p->n_seq_max, MAX_SEQ);
    }
    if (p->n_batch < 1) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "context_new: n_batch %d must be >= 1", p->n_batch);
    }
    if (p->n_batch > p->n_ctx) p->n_batch = p->n_ctx;
    if (p->device < -1) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "context_new: device %d: -1 is the CPU, >= 0 a CUDA device",
                       p->device);
    }
    if (p->n_threads <= 0) p->n_threads = l4_n_cores();
    if (p->n_threads > MAX_THREADS) p->n_threads = MAX_THREADS;
    p->exact_f32 = p->exact_f32 ? 1 : 0;
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_context_new(const lora4j_model *model,
                                              lora4j_context_params params,
                                              lora4j_context **out) {
    l4_clear_error();
    if (!out) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "context_new: out is NULL");
    *out = NULL;
    if (!model) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "context_new: model is NULL");
    if (model->hp.vocab_only) {
        return l4_fail(LORA4J_ERR_STATE, "context_new: the model was loaded vocab-only (no weights)");
    }
    int32_t st = check_params(model, &params);
    if (st != LORA4J_OK) return st;

    const lora4j_hparams *hp = &model->hp;
    lora4j_context *c = calloc(1, sizeof *c);
    if (!c) return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "no memory for a context");
    c->model = model;
    c->p = params;
    c->n_q = (int64_t)hp->n_head * hp->head_dim;
    c->n_kv = (int64_t)hp->n_head_kv * hp->head_dim;
    l4_rope_init(&c->rope, hp, model->rope_freqs);
    int64_t rows = HEAD_CHUNK_FLOATS / hp->n_vocab;
    if (rows < 8) rows = 8;
    c->head_rows = rows < params.n_batch ? rows : params.n_batch;

    const size_t nb = (size_t)params.n_batch, f = sizeof(float), i32 = sizeof(int32_t);
    const int on_device = params.device >= 0;
    arena_plan a = {0};
    plan(&a, (void **)&c->seq_len, (size_t)params.n_seq_max, i32);
    plan(&a, (void **)&c->next_pos, (size_t)params.n_seq_max, i32);
    plan(&a, (void **)&c->rope_cs, nb * (size_t)hp->n_rot, f);
    plan(&a, (void **)&c->seq, nb, i32);
    plan(&a, (void **)&c->pos, nb, i32);
    plan(&a, (void **)&c->rows, nb, i32);
    plan(&a, (void **)&c->targets, nb, i32);
    if (!on_device) {
        plan(&a, (void **)&c->x, nb * (size_t)hp->n_embd, f);
        plan(&a, (void **)&c->xn, nb * (size_t)hp->n_embd, f);
        plan(&a, (void **)&c->q, nb * (size_t)c->n_q, f);
        plan(&a, (void **)&c->att, nb * (size_t)c->n_q, f);
        plan(&a, (void **)&c->k, nb * (size_t)c->n_kv, f);
        plan(&a, (void **)&c->v, nb * (size_t)c->n_kv, f);
        plan(&a, (void **)&c->gate, nb * (size_t)hp->n_ff, f);
        plan(&a, (void **)&c->up, nb * (size_t)hp->n_ff, f);
        plan(&a, (void **)&c->scores, (size_t)params.n_threads * (size_t)params.n_ctx, f);
        plan(&a, (void **)&c->logits, (size_t)c->head_rows * (size_t)hp->n_vocab, f);
    }

    size_t kv_floats = 0;
    int kv_overflow = __builtin_mul_overflow((size_t)hp->n_layer * (size_t)params.n_seq_max,
                                             (size_t)c->n_kv * (size_t)params.n_ctx, &kv_floats) ||
                      kv_floats > SIZE_MAX / 8;
    if (a.overflow || kv_overflow) {
        free(c);
        return l4_fail(LORA4J_ERR_OUT_OF_MEMORY,
                       "context_new: buffers for n_ctx %d x n_seq_max %d x n_batch %d overflow",
                       params.n_ctx, params.n_seq_max, params.n_batch);
    }
    c->arena = aligned_alloc(ARENA_ALIGN, a.total);
    if (!on_device) {
        c->k_cache = aligned_alloc(ARENA_ALIGN, (kv_floats * f + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN);
        c->v_cache = aligned_alloc(ARENA_ALIGN, (kv_floats * f + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN);
    }
    if (!c->arena || (!on_device && (!c->k_cache || !c->v_cache))) {
        lora4j_context_free(c);
        return l4_fail(LORA4J_ERR_OUT_OF_MEMORY,
                       "context_new: cannot allocate %zu bytes of KV cache and %zu of buffers",
                       2 * kv_floats * f, a.total);
    }
    size_t off = 0;
    for (int i = 0; i < a.n; i++) {
        *a.ptr[i] = (uint8_t *)c->arena + off;
        off += a.bytes[i];
    }
    memset(c->seq_len, 0, (size_t)params.n_seq_max * i32);
    if (on_device) {
        st = l4_device_context_new(c);
        if (st != LORA4J_OK) {
            lora4j_context_free(c);
            return st;
        }
    }
    *out = c;
    return LORA4J_OK;
}

LORA4J_API void lora4j_context_free(lora4j_context *ctx) {
    if (!ctx) return;
    l4_device_context_free(ctx);
    free(ctx->arena);
    free(ctx->lora_mem);
    free(ctx->k_cache);
    free(ctx->v_cache);
    free(ctx);
}

LORA4J_API lora4j_status_t lora4j_context_get_params(const lora4j_context *ctx,
                                                     lora4j_context_params *out) {
    l4_clear_error();
    if (!ctx || !out) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "context_get_params: NULL argument");
    *out = ctx->p;
    return LORA4J_OK;
}

static int32_t check_seq(const lora4j_context *ctx, int32_t seq, const char *what) {
    if (!ctx) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: context is NULL", what);
    if (seq < 0 || seq >= ctx->p.n_seq_max) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: sequence id %d is out of range [0, %d)", what,
                       seq, ctx->p.n_seq_max);
    }
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_kv_seq_clear(lora4j_context *ctx, int32_t seq) {
    l4_clear_error();
    int32_t st = check_seq(ctx, seq, "kv_seq_clear");
    if (st != LORA4J_OK) return st;
    ctx->seq_len[seq] = 0;
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_kv_seq_copy(lora4j_context *ctx, int32_t src, int32_t dst,
                                              int32_t n_tokens) {
    l4_clear_error();
    int32_t st = check_seq(ctx, src, "kv_seq_copy (source)");
    if (st == LORA4J_OK) st = check_seq(ctx, dst, "kv_seq_copy (destination)");
    if (st != LORA4J_OK) return st;
    if (n_tokens < 0 || n_tokens > ctx->seq_len[src]) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT,
                       "kv_seq_copy: %d tokens requested, sequence %d holds %d", n_tokens, src,
                       ctx->seq_len[src]);
    }
    const lora4j_hparams *hp = &ctx->model->hp;
    if (ctx->dev) {
        st = l4_device_kv_copy(ctx, src, dst, n_tokens);
        if (st != LORA4J_OK) return st;
    } else if (src != dst) {
        const size_t bytes = (size_t)n_tokens * (size_t)hp->head_dim * sizeof(float);
        for (int il = 0; il < hp->n_layer; il++) {
            for (int g = 0; g < hp->n_head_kv; g++) {
                int64_t from = l4_kv_offset(ctx, il, src, g), to = l4_kv_offset(ctx, il, dst, g);
                memcpy(ctx->k_cache + to, ctx->k_cache + from, bytes);
                memcpy(ctx->v_cache + to, ctx->v_cache + from, bytes);
            }
        }
    }
    ctx->seq_len[dst] = n_tokens;
    return LORA4J_OK;
}

LORA4J_API int32_t lora4j_kv_seq_pos(const lora4j_context *ctx, int32_t seq) {
    l4_clear_error();
    if (check_seq(ctx, seq, "kv_seq_pos") != LORA4J_OK) return -1;
    return ctx->seq_len[seq];
}
