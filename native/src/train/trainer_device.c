/* The trainer on a CUDA device: the engine keeps validation, staging (positions, RoPE cos/sin,
 * head rows), the optimizer's bookkeeping (clip factor, step count, state files) and the
 * parameter registry; the backend (backend/backend.h) runs the graph and the update. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_load.h"
#include "backend/backend_model.h"
#include "core/error.h"
#include "train/trainer.h"

int32_t l4_trd_check(const lora4j_adapter *trainable, const lora4j_train_params *p, const char *what) {
    if (p->full) {
        return l4_fail(LORA4J_ERR_UNSUPPORTED, "%s: full fine-tuning runs on the CPU only (set device -1, or train a "
                       "LoRA adapter on the GPU)", what);
    }
    if (p->n_labels > 0) {
        return l4_fail(LORA4J_ERR_UNSUPPORTED, "%s: sequence classification (n_labels %d) runs on the CPU only (set "
                       "device -1)", what, p->n_labels);
    }
    if (trainable && trainable->n_biases > 0) {
        return l4_fail(LORA4J_ERR_UNSUPPORTED, "%s: the adapter trains %d bias delta(s), which the CUDA trainer does "
                       "not (use bias \"none\", or device -1)", what, trainable->n_biases);
    }
    return LORA4J_OK;
}

/* The backend and its trainer entries. */
static int32_t backend(const l4_backend **be) {
    int32_t st = l4_backend_get(be);
    if (st != LORA4J_OK) return st;
    if (!(*be)->trainer_plan) return l4_backend_missing(*be, "trainer_plan");
    if (!(*be)->trainer_new) return l4_backend_missing(*be, "trainer_new");
    return LORA4J_OK;
}

static l4b_train_config config(const lora4j_train_params *p, const l4b_adapter *trainable, float dropout) {
    l4b_train_config c;
    memset(&c, 0, sizeof c);
    c.device = p->device;
    c.n_rows = p->n_rows;
    c.n_seq = p->n_seq;
    c.checkpointing = p->checkpointing ? 1 : 0;
    c.dropout = dropout;
    c.trainable = trainable;
    return c;
}

static int32_t plan_with(const l4_backend *be, const lora4j_model *model, const l4b_train_config *c,
                         lora4j_memory_plan *out) {
    l4b_layer *layers = calloc((size_t)(model->hp.n_layer > 0 ? model->hp.n_layer : 1), sizeof *layers);
    if (!layers) return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "trainer_plan: no memory");
    l4b_model bm;
    l4_backend_describe_model(model, &bm, layers);
    int32_t st = be->trainer_plan(&bm, c, out);
    free(layers);
    return st == LORA4J_OK ? st : l4_backend_fail(be, st, NULL);
}

int32_t l4_trd_plan(const lora4j_model *model, const lora4j_adapter *trainable, const lora4j_train_params *p,
                    lora4j_memory_plan *out) {
    int32_t st = l4_trd_check(trainable, p, "trainer_plan");
    const l4_backend *be = NULL;
    if (st == LORA4J_OK) st = backend(&be);
    if (st != LORA4J_OK) return st;
    const l4b_adapter ad = l4_backend_adapter(trainable);
    const l4b_train_config c = config(p, &ad, trainable->params.dropout);
    return plan_with(be, model, &c, out);
}

/* Before the first upload to a device: the whole plan must fit in its free memory. */
static int32_t check_fits(const l4_backend *be, const lora4j_trainer *tr, const l4b_train_config *c) {
    if (l4_backend_model_resident(tr->model, c->device)) return LORA4J_OK;
    lora4j_memory_plan plan;
    int32_t st = plan_with(be, tr->model, c, &plan);
    if (st != LORA4J_OK) return st;
    if (!be->device_info) return l4_backend_missing(be, "device_info");
    lora4j_device_info info;
    st = be->device_info(c->device, &info);
    if (st != LORA4J_OK) return l4_backend_fail(be, st, "trainer_new");
    if (plan.total > info.free_memory) {
        return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "trainer_new: training %d x %d tokens needs %lld bytes of device "
                       "memory (weights %lld, adapters and gradients %lld, optimizer state %lld, activations %lld) but "
                       "CUDA device %d (%s) has %lld bytes free", tr->p.n_rows, tr->p.n_seq, (long long)plan.total,
                       (long long)plan.weights, (long long)plan.trainable, (long long)plan.optimizer,
                       (long long)plan.activations, c->device, info.name, (long long)info.free_memory);
    }
    return LORA4J_OK;
}

/* Host staging of a batch: what the CPU trainer's arena would hold for it, nothing more. */
static int32_t alloc_staging(lora4j_trainer *tr) {
    const int64_t N = tr->N;
    const size_t ints = (size_t)N * sizeof(int32_t), floats = (size_t)N * sizeof(float);
    const size_t bytes = 4 * ints + 2 * floats + (size_t)(N * tr->rope.n_rot) * sizeof(float);
    uint8_t *p = malloc(bytes);
    if (!p) return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "trainer_new: cannot allocate %zu bytes of batch staging", bytes);
    tr->arena = p;
    tr->arena_bytes = (int64_t)bytes;
    tr->pos = (int32_t *)p;
    tr->rows = (int32_t *)(p + ints);
    tr->tgt = (int32_t *)(p + 2 * ints);
    tr->seg_ids = (int32_t *)(p + 3 * ints);
    tr->wrow = (float *)(p + 4 * ints);
    tr->lp = (float *)(p + 4 * ints + floats);
    tr->rope_cs = (float *)(p + 4 * ints + 2 * floats);
    return LORA4J_OK;
}

int32_t l4_trd_new(lora4j_trainer *tr) {
    const l4_backend *be = NULL;
    int32_t st = backend(&be);
    if (st != LORA4J_OK) return st;
    const l4b_adapter ad = l4_backend_adapter(tr->ad);
    l4b_train_config c = config(&tr->p, &ad, tr->ad->params.dropout);
    const int n = tr->frozen.n;
    l4b_adapter *fr = calloc((size_t)(n > 0 ? n : 1), sizeof *fr);
    const l4b_adapter **frp = calloc((size_t)(n > 0 ? n : 1), sizeof *frp);
    if (!fr || !frp) st = l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "trainer_new: no memory");
    for (int i = 0; i < n && st == LORA4J_OK; i++) {
        fr[i] = l4_backend_adapter(tr->frozen.adapters[i]);
        frp[i] = &fr[i];
    }
    c.frozen = frp;
    c.frozen_scales = tr->frozen.scales;
    c.n_frozen = n;
    if (st == LORA4J_OK) st = check_fits(be, tr, &c);
    if (st == LORA4J_OK) st = alloc_staging(tr);
    void *dm = NULL;
    if (st == LORA4J_OK) st = l4_backend_model(tr->model, c.device, &be, &dm);
    if (st == LORA4J_OK) {
        st = be->trainer_new(dm, &c, &tr->dev);
        if (st != LORA4J_OK) st = l4_backend_fail(be, st, NULL);
    }
    if (st == LORA4J_OK) tr->be = be;
    free(fr);
    free(frp);
    return st;
}

void l4_trd_free(lora4j_trainer *tr) {
    if (tr->dev && tr->be->trainer_free) tr->be->trainer_free(tr->dev);
    tr->dev = NULL;
}

/* A backend call's status, its message made ours. */
static int32_t done(const lora4j_trainer *tr, int32_t st) {
    return st == LORA4J_OK ? st : l4_backend_fail(tr->be, st, NULL);
}

int32_t l4_trd_step(lora4j_trainer *tr, const int32_t *tokens, const int32_t *seg, int64_t m, const tr_pass *ps,
                    int with_grad, double *objective) {
    if (!tr->be->trainer_step) return l4_backend_missing(tr->be, "trainer_step");
    const l4b_batch b = {tokens, seg, tr->rope_cs, m, tr->rows, tr->tgt, with_grad ? tr->wrow : NULL};
    return done(tr, tr->be->trainer_step(tr->dev, &b, ps->use_trainable, ps->dropout ? ps->key : 0, tr->lp,
                                         objective));
}

int32_t l4_trd_zero_grad(lora4j_trainer *tr) {
    if (!tr->be->trainer_zero_grad) return l4_backend_missing(tr->be, "trainer_zero_grad");
    return done(tr, tr->be->trainer_zero_grad(tr->dev));
}

int32_t l4_trd_grad_sumsq(lora4j_trainer *tr, double *out) {
    if (!tr->be->trainer_grad_sumsq) return l4_backend_missing(tr->be, "trainer_grad_sumsq");
    return done(tr, tr->be->trainer_grad_sumsq(tr->dev, out));
}

int32_t l4_trd_update(lora4j_trainer *tr, const lora4j_optim_params *o, double f, int64_t step) {
    if (!tr->be->trainer_update) return l4_backend_missing(tr->be, "trainer_update");
    return done(tr, tr->be->trainer_update(tr->dev, o, (float)f, step));
}

int32_t l4_trd_moments(lora4j_trainer *tr, int upload) {
    if (!tr->be->trainer_moments) return l4_backend_missing(tr->be, "trainer_moments");
    return done(tr, tr->be->trainer_moments(tr->dev, tr->m, tr->v, tr->n_train, upload));
}
