/* The trainer's shapes and its activation arena: one plan, used both to measure (the memory
 * plan) and to assign the buffers at creation. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/threadpool.h"
#include "train/trainer.h"

#define ALIGN 64
#define MAX_TOKENS (1 << 24)
#define MAX_THREADS 1024
/* Output-head chunk: about this many logits at once (at least 16 rows). W streams once per
 * chunk, so rows are worth their memory: 262 rows (32 MB) at a vocabulary of 32000. */
#define HEAD_CHUNK_FLOATS (1 << 23)
#define MAX_LABELS (1 << 16)

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

int32_t l4_tr_shapes(lora4j_trainer *tr, const lora4j_model *model, lora4j_adapter *ad,
                     const lora4j_train_params *p) {
    const lora4j_hparams *hp = &model->hp;
    if (p->n_rows < 1 || p->n_seq < 1 || (int64_t)p->n_rows * p->n_seq > MAX_TOKENS) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer: n_rows %d x n_seq %d must be >= 1 each and at most "
                       "%d tokens", p->n_rows, p->n_seq, MAX_TOKENS);
    }
    if (p->freeze_layers < 0 || p->freeze_layers > hp->n_layer) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer: freeze_layers %d is not in [0, %d]", p->freeze_layers,
                       hp->n_layer);
    }
    if (p->n_labels < 0 || p->n_labels == 1 || p->n_labels > MAX_LABELS) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer: n_labels %d must be 0 (causal LM) or in [2, %d] "
                       "(classification)", p->n_labels, MAX_LABELS);
    }
    tr->model = model;
    tr->p = *p;
    tr->p.checkpointing = p->checkpointing ? 1 : 0;
    tr->p.full = p->full ? 1 : 0;
    tr->ad = ad;
    tr->nth = p->n_threads > 0 ? (p->n_threads < MAX_THREADS ? p->n_threads : MAX_THREADS) : l4_n_cores();
    tr->N = (int64_t)p->n_rows * p->n_seq;
    tr->E = hp->n_embd;
    tr->H = hp->n_head;
    tr->HKV = hp->n_head_kv;
    tr->HD = hp->head_dim;
    tr->Q = (int64_t)hp->n_head * hp->head_dim;
    tr->KV = (int64_t)hp->n_head_kv * hp->head_dim;
    tr->F = hp->n_ff;
    tr->V = hp->n_vocab;
    tr->eps = hp->rms_eps;
    tr->n_in_max = max64(tr->E, max64(tr->Q, tr->F));
    l4_rope_init(&tr->rope, hp, model->rope_freqs);
    tr->attn = (l4_train_attn){p->n_rows, p->n_seq, tr->H, tr->HKV, tr->HD, NULL, tr->nth, NULL};
    tr->head_chunk = HEAD_CHUNK_FLOATS / (p->n_labels > 0 ? p->n_labels : tr->V);
    if (tr->head_chunk < 16) tr->head_chunk = 16;
    if (tr->head_chunk > tr->N) tr->head_chunk = tr->N;

    tr->floor = hp->n_layer;
    tr->r_max = 0;
    tr->h_floats = 0;
    if (ad) {
        tr->h_off = calloc((size_t)(ad->n_pairs > 0 ? ad->n_pairs : 1), sizeof *tr->h_off);
        if (!tr->h_off) return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "trainer: no memory");
        int64_t layer_floats = 0;
        int layer = -1;
        for (int64_t i = 0; i < ad->n_pairs; i++) {
            const lora4j_lora_pair *e = &ad->pairs[i];
            if (e->layer != layer) {
                layer = e->layer;
                layer_floats = 0;
            }
            if (e->layer < tr->floor) tr->floor = e->layer;
            tr->h_off[i] = layer_floats;
            layer_floats += tr->N * e->rank;
            tr->h_floats = max64(tr->h_floats, layer_floats);
            tr->r_max = max64(tr->r_max, e->rank);
        }
    } else {
        tr->floor = p->freeze_layers;
    }
    return LORA4J_OK;
}

typedef struct arena {
    uint8_t *base;
    int64_t off;
    int overflow;
} arena;

static void *take(arena *a, int64_t count, int64_t elem) {
    int64_t bytes;
    if (count < 0 || __builtin_mul_overflow(count, elem, &bytes) || bytes > INT64_MAX / 4) {
        a->overflow = 1;
        return NULL;
    }
    bytes = (bytes + ALIGN - 1) / ALIGN * ALIGN;
    void *p = a->base ? a->base + a->off : NULL;
    if (__builtin_add_overflow(a->off, bytes, &a->off)) a->overflow = 1;
    return p;
}

#define F(n) ((float *)take(&a, (n), sizeof(float)))
#define I(n) ((int32_t *)take(&a, (n), sizeof(int32_t)))

int64_t l4_tr_layout(lora4j_trainer *tr, uint8_t *base) {
    arena a = {base, 0, 0};
    const int64_t N = tr->N, E = tr->E, Q = tr->Q, KV = tr->KV, FF = tr->F;
    const int n_layer = tr->model->hp.n_layer;
    tr_acts dummy;
    for (int il = 0; il < n_layer; il++) {
        tr_acts *A = base ? &tr->acts[il] : &dummy;
        A->x = F(N * E);
        if (il > 0 && tr->p.checkpointing) {
            if (base) {
                float *x = A->x;
                *A = tr->acts[0];
                A->x = x;
            }
            continue;
        }
        A->xn1 = F(N * E);
        A->q = F(N * Q);
        A->k = F(N * KV);
        A->v = F(N * KV);
        A->att = F(N * Q);
        A->lse = F(N * tr->H);
        A->x2 = F(N * E);
        A->xn2 = F(N * E);
        A->g = F(N * FF);
        A->u = F(N * FF);
        A->h = F(tr->h_floats);
    }
    float *x_out = F(N * E), *tmp = F(N * E), *act = F(N * FF);
    const int dropout = tr->ad && tr->ad->params.dropout > 0.0f;
    float *xdrop = dropout ? F(N * tr->n_in_max) : NULL, *dxdrop = dropout ? F(N * tr->n_in_max) : NULL;
    float *dx = F(N * E), *dxn = F(N * E), *dq = F(N * Q), *dk = F(N * KV), *dv = F(N * KV), *datt = F(N * Q);
    float *dact = F(N * FF), *dh = F(N * tr->r_max);
    int64_t fr = l4_lora_max_rank(tr->frozen.adapters, tr->frozen.n);
    float *frozen_h = F(N * fr);
    float *rope_cs = F(N * tr->rope.n_rot), *attn_scratch = F(l4_train_attn_scratch_floats(&tr->attn));
    int32_t *pos = I(N), *rows = I(N), *tgt = I(N), *seg_ids = I(N);
    float *wrow = F(N), *lp = F(N), *xg = F(N * E), *xng = F(N * E), *dxng = F(N * E), *dxg = F(N * E);
    float *logits = F(tr->head_chunk * (tr->p.n_labels > 0 ? tr->p.n_labels : tr->V));
    if (a.overflow) return -1;
    if (base) {
        tr->x_out = x_out, tr->tmp = tmp, tr->act = act, tr->xdrop = xdrop, tr->dxdrop = dxdrop;
        tr->dx = dx, tr->dxn = dxn, tr->dq = dq, tr->dk = dk, tr->dv = dv, tr->datt = datt;
        tr->dact = dact, tr->dh = dh;
        tr->frozen.h = frozen_h;
        tr->frozen.h_rows = N;
        tr->rope_cs = rope_cs;
        tr->attn.scratch = attn_scratch;
        tr->pos = pos, tr->rows = rows, tr->tgt = tgt, tr->seg_ids = seg_ids;
        tr->wrow = wrow, tr->lp = lp, tr->xg = xg, tr->xng = xng, tr->dxng = dxng, tr->dxg = dxg;
        tr->logits = logits;
    }
    return a.off;
}
