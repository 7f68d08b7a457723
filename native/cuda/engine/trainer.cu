/* GPU trainer creation: shapes, the one device allocation every buffer is carved from (measured
 * first: the memory plan), adapter uploads, and release. */
#include <stdio.h>
#include <stdlib.h>

#include "engine/device.h"
#include "engine/trainer.h"

/* Output-head chunk: about this many logits at once (at least 16 rows). */
#define HEAD_CHUNK_FLOATS (1 << 24)

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

int32_t lcu_tr_shapes(lcu_trainer *t, const lora4j_hparams *hp, const l4b_train_config *c) {
    const l4b_adapter *ad = c->trainable;
    if (!ad || c->n_rows < 1 || c->n_seq < 1 || c->n_frozen < 0) {
        return lcu_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer: no trainable adapter, or n_rows %lld x n_seq %lld",
                        (long long)c->n_rows, (long long)c->n_seq);
    }
    for (int64_t i = 0; i < ad->n_pairs; i++) {
        if (ad->pairs[i].bias_delta || ad->pairs[i].rank < 1) {
            return lcu_fail(LORA4J_ERR_UNSUPPORTED, "trainer: the CUDA trainer trains LoRA pairs only (bias \"none\"); "
                            "'%s' has a trainable bias delta (train it on the CPU)", ad->pairs[i].base_name);
        }
    }
    if (hp->head_dim < 1 || hp->head_dim > LCU_ATTN_MAX_HEAD_DIM) {
        return lcu_fail(LORA4J_ERR_UNSUPPORTED, "trainer: head_dim %d is beyond the CUDA attention's %d",
                        hp->head_dim, LCU_ATTN_MAX_HEAD_DIM);
    }
    t->n_rows = c->n_rows;
    t->n_seq = c->n_seq;
    t->N = c->n_rows * c->n_seq;
    t->E = hp->n_embd;
    t->H = hp->n_head;
    t->HKV = hp->n_head_kv;
    t->HD = hp->head_dim;
    t->Q = (int64_t)hp->n_head * hp->head_dim;
    t->KV = (int64_t)hp->n_head_kv * hp->head_dim;
    t->F = hp->n_ff;
    t->V = hp->n_vocab;
    t->n_rot = hp->n_rot;
    t->neox = hp->rope_type == LORA4J_ROPE_NEOX;
    t->n_layer = hp->n_layer;
    t->eps = hp->rms_eps;
    t->dropout = c->dropout;
    t->checkpointing = c->checkpointing ? 1 : 0;
    t->n_in_max = max64(t->E, max64(t->Q, t->F));
    t->head_chunk = HEAD_CHUNK_FLOATS / t->V;
    if (t->head_chunk < 16) t->head_chunk = 16;
    if (t->head_chunk > t->N) t->head_chunk = t->N;

    t->floor = hp->n_layer;
    t->h_off = (int64_t *)calloc((size_t)(ad->n_pairs > 0 ? ad->n_pairs : 1), sizeof *t->h_off);
    if (!t->h_off) return lcu_fail(LORA4J_ERR_OUT_OF_MEMORY, "trainer: no host memory");
    int64_t layer_floats = 0;
    int layer = -1;
    for (int64_t i = 0; i < ad->n_pairs; i++) {
        const lora4j_lora_pair *p = &ad->pairs[i];
        if (p->layer != layer) {
            layer = p->layer;
            layer_floats = 0;
        }
        if (p->layer < t->floor) t->floor = p->layer;
        t->h_off[i] = layer_floats;
        layer_floats += t->N * p->rank;
        t->h_floats = max64(t->h_floats, layer_floats);
        t->r_max = max64(t->r_max, p->rank);
    }
    for (int32_t f = 0; f < c->n_frozen; f++) {
        for (int64_t i = 0; i < c->frozen[f]->n_pairs; i++) t->fr_max = max64(t->fr_max, c->frozen[f]->pairs[i].rank);
    }
    return LORA4J_OK;
}

typedef struct planner {
    lcu_arena *a;   /* NULL: measure only */
    size_t bytes;
} planner;

static void *take(planner *p, int64_t count, size_t elem) {
    const size_t bytes = (size_t)(count > 0 ? count : 0) * elem;
    p->bytes += lcu_arena_piece(bytes);
    return p->a ? lcu_arena_take(p->a, bytes) : NULL;
}

#define TF(n) ((float *)take(&p, (n), sizeof(float)))
#define TB(n) ((lcu_bf16 *)take(&p, (n), sizeof(lcu_bf16)))
#define TI(n) ((int32_t *)take(&p, (n), sizeof(int32_t)))

size_t lcu_tr_layout(lcu_trainer *t, lcu_arena *a) {
    planner p = {a, 0};
    const int64_t N = t->N, E = t->E, Q = t->Q, KV = t->KV, FF = t->F;
    const int64_t nv = lcu_dadapter_values(&t->host);
    t->grad = TF(nv);
    t->mom1 = TF(nv);
    t->mom2 = TF(nv);
    lcu_acts dummy;
    for (int il = 0; il < t->n_layer; il++) {
        lcu_acts *A = a ? &t->acts[il] : &dummy;
        A->x = TF(N * E);
        if (il > 0 && t->checkpointing) {
            if (a) {
                float *x = A->x;
                *A = t->acts[0];
                A->x = x;
            }
            continue;
        }
        A->xn1 = TB(N * E);
        A->q = TB(N * Q);
        A->k = TB(N * KV);
        A->v = TB(N * KV);
        A->att = TB(N * Q);
        A->lse = TF(N * t->H);
        A->x2 = TF(N * E);
        A->xn2 = TB(N * E);
        A->g = TB(N * FF);
        A->u = TB(N * FF);
        A->h = TF(t->h_floats);
    }
    t->x_out = TF(N * E);
    t->tmp = TF(N * E);
    t->proj = TF(N * max64(Q, FF));
    t->act = TB(N * FF);
    t->xdrop = t->dropout > 0.0f ? TB(N * t->n_in_max) : NULL;
    t->dxdrop = t->dropout > 0.0f ? TF(N * t->n_in_max) : NULL;
    t->dx = TF(N * E);
    t->dxn = TF(N * E);
    t->dq = TF(N * Q);
    t->dk = TF(N * KV);
    t->dv = TF(N * KV);
    t->datt = TF(N * Q);
    t->dh = TF(N * t->r_max);
    t->fset.h = TF(N * t->fr_max);
    t->fset.h16 = TB(N * t->fr_max);
    t->tokens = TI(N);
    t->seg = TI(N);
    t->rows = TI(N);
    t->tgt = TI(N);
    t->rope_cs = TF(N * t->n_rot);
    t->wrow = TF(N);
    t->lp = TF(N);
    t->xg = TF(t->head_chunk * E);
    t->dxng = TF(t->head_chunk * E);
    t->dxg = TF(t->head_chunk * E);
    t->xng = TB(t->head_chunk * E);
    t->logits = TF(t->head_chunk * t->V);
    t->sumsq = (double *)take(&p, 1, sizeof(double));
    return p.bytes;
}

/* Bytes of the values' gradient and of the two optimizer moments (each). */
static size_t values_piece(const lcu_trainer *t) {
    return lcu_arena_piece((size_t)lcu_dadapter_values(&t->host) * sizeof(float));
}

static size_t frozen_bytes(const l4b_train_config *c) {
    size_t b = 0;
    for (int32_t f = 0; f < c->n_frozen; f++) b += lcu_dadapter_bytes(c->frozen[f]);
    return b;
}

int32_t lcu_trainer_plan(const l4b_model *m, const l4b_train_config *c, lora4j_memory_plan *out) {
    memset(out, 0, sizeof *out);
    lcu_trainer t;
    memset(&t, 0, sizeof t);
    t.host = *c->trainable;
    int32_t st = lcu_tr_shapes(&t, &m->hp, c);
    if (st == LORA4J_OK) {
        const size_t all = lcu_tr_layout(&t, NULL), vp = values_piece(&t);
        out->weights = (int64_t)lcu_dmodel_bytes(m);
        out->trainable = (int64_t)(lcu_dadapter_bytes(c->trainable) + vp + frozen_bytes(c));
        out->optimizer = (int64_t)(2 * vp);
        out->activations = (int64_t)(all - 3 * vp);
        out->total = out->weights + out->trainable + out->optimizer + out->activations;
    }
    free(t.h_off);
    return st;
}

void lcu_trainer_free(void *tr) {
    lcu_trainer *t = (lcu_trainer *)tr;
    if (!t) return;
    cudaSetDevice(t->device);
    lcu_dadapter_free(t->ad);
    for (int32_t f = 0; f < t->fset.n; f++) lcu_dadapter_free(t->frozen[f]);
    lcu_arena_free(&t->mem);
    free(t->frozen);
    free(t->frozen_scales);
    free(t->acts);
    free(t->h_off);
    free(t);
}

/* Device memory beyond the (resident) weights must fit in what is free now. */
static int32_t check_fits(const lcu_trainer *t, const l4b_train_config *c, size_t arena_bytes) {
    size_t free_b = 0;
    int32_t st = lcu_device_free_bytes(c->device, &free_b);
    if (st != LORA4J_OK) return st;
    const size_t ads = lcu_dadapter_bytes(c->trainable) + frozen_bytes(c);
    const size_t need = ads + arena_bytes;
    if (need > free_b) {
        return lcu_fail(LORA4J_ERR_OUT_OF_MEMORY, "trainer_new: training %lld x %lld tokens needs %zu bytes of device "
                        "memory besides the weights (adapters %zu, gradients and optimizer state %zu, activations %zu) "
                        "but CUDA device %d has %zu bytes free (use fewer tokens per micro-batch, checkpointing, or a "
                        "lower rank)", (long long)t->n_rows, (long long)t->n_seq, need, ads, 3 * values_piece(t),
                        arena_bytes - 3 * values_piece(t), c->device, free_b);
    }
    return LORA4J_OK;
}

static int32_t upload_adapters(lcu_trainer *t, const l4b_train_config *c) {
    const lora4j_hparams *hp = &t->m->hp;
    int32_t st = lcu_dadapter_upload(hp, c->trainable, &t->ad);
    const int32_t n = c->n_frozen;
    t->frozen = (lcu_dadapter **)calloc((size_t)(n > 0 ? n : 1), sizeof *t->frozen);
    t->frozen_scales = (float *)calloc((size_t)(n > 0 ? n : 1), sizeof *t->frozen_scales);
    if (st == LORA4J_OK && (!t->frozen || !t->frozen_scales)) st = lcu_fail(LORA4J_ERR_OUT_OF_MEMORY, "trainer: no memory");
    for (int32_t f = 0; f < n && st == LORA4J_OK; f++) {
        st = lcu_dadapter_upload(hp, c->frozen[f], &t->frozen[f]);
        if (st == LORA4J_OK) {
            t->frozen_scales[f] = c->frozen_scales[f];
            t->fset.n = f + 1;
        }
    }
    t->fset.ads = t->frozen;
    t->fset.scales = t->frozen_scales;
    return st;
}

int32_t lcu_trainer_new(void *model, const l4b_train_config *c, void **out) {
    *out = NULL;
    const lcu_dmodel *dm = (const lcu_dmodel *)model;
    if (c->device != dm->device) {
        return lcu_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_new: the model was uploaded to device %d, not %d",
                        dm->device, c->device);
    }
    int32_t st = lcu_device_use(c->device, "trainer_new");
    if (st != LORA4J_OK) return st;
    lcu_trainer *t = (lcu_trainer *)calloc(1, sizeof *t);
    if (!t) return lcu_fail(LORA4J_ERR_OUT_OF_MEMORY, "trainer_new: no host memory");
    t->device = c->device;
    t->m = dm;
    t->host = *c->trainable;
    st = lcu_tr_shapes(t, &dm->hp, c);
    size_t bytes = 0;
    if (st == LORA4J_OK) {
        t->acts = (lcu_acts *)calloc((size_t)t->n_layer, sizeof *t->acts);
        if (!t->acts) st = lcu_fail(LORA4J_ERR_OUT_OF_MEMORY, "trainer_new: no host memory");
    }
    if (st == LORA4J_OK) {
        bytes = lcu_tr_layout(t, NULL);
        st = check_fits(t, c, bytes);
    }
    if (st == LORA4J_OK) st = upload_adapters(t, c);
    if (st == LORA4J_OK) st = lcu_arena_init(&t->mem, bytes, "trainer_new: activations and optimizer state");
    if (st == LORA4J_OK) {
        lcu_tr_layout(t, &t->mem);
        /* gradients and both moments start at zero (three adjacent pieces) */
        st = lcu_check(cudaMemset(t->grad, 0, 3 * values_piece(t)), "trainer_new: zeroing the optimizer state");
    }
    if (st != LORA4J_OK) {
        lcu_trainer_free(t);
        return st;
    }
    *out = t;
    return LORA4J_OK;
}
