/* Trainer creation (every buffer planned here), the memory plan, and release. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "quant/quant.h"
#include "train/trainer.h"

#define ALIGN 64

LORA4J_API lora4j_train_params lora4j_train_default_params(void) {
    lora4j_train_params p = {1, 256, 0, 0, 0, 0, 42, 0, -1};
    return p;
}

LORA4J_API lora4j_optim_params lora4j_optim_default_params(void) {
    lora4j_optim_params p = {LORA4J_OPTIM_ADAMW, 2e-4f, 0.9f, 0.999f, 1e-8f, 0.0f, 0.0f, 1.0f, 1.0f};
    return p;
}

static int32_t check_setup(const lora4j_model *model, const lora4j_adapter *trainable,
                           const lora4j_train_params *params, const char *what) {
    if (!model || !params) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: NULL model or params", what);
    if (model->hp.vocab_only) return l4_fail(LORA4J_ERR_STATE, "%s: the model was loaded vocab-only", what);
    if (params->full && trainable) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: full fine-tuning trains the model's weights; pass no "
                       "trainable adapter", what);
    }
    if (!params->full && !trainable) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: no trainable adapter (pass one, or set params.full)", what);
    }
    return trainable ? l4_adapter_check_model(trainable, model, what) : LORA4J_OK;
}

static int64_t matrix_bytes(const l4_matrix *m) { return l4_row_bytes(m->type, m->n_in) * m->n_out; }

/* Weights the model keeps resident (file mapping or owned), tied head counted once. */
static int64_t model_bytes(const lora4j_model *m) {
    const lora4j_hparams *hp = &m->hp;
    int64_t b = matrix_bytes(&m->tok_embd) + (hp->tied_output ? 0 : matrix_bytes(&m->output));
    b += (int64_t)hp->n_embd * (int64_t)sizeof(float) * (1 + 2 * (int64_t)hp->n_layer);
    for (int il = 0; il < hp->n_layer; il++) {
        const l4_layer *ly = &m->layers[il];
        for (int t = 0; t < L4_N_TARGETS; t++) b += matrix_bytes(l4_layer_weight(ly, t));
        for (int t = 0; t < 3; t++) {
            if (l4_layer_bias(ly, t)) b += l4_layer_weight(ly, t)->n_out * (int64_t)sizeof(float);
        }
    }
    return b;
}

static void release(lora4j_trainer *tr) {
    l4_trd_free(tr);
    free(tr->h_off);
    free(tr->frozen_mem);
    if (tr->p.full) free(tr->layers);
    free(tr->lgrad);
    free(tr->params);
    free(tr->param_mem);
    free(tr->acts);
    free(tr->arena);
    free(tr);
}

LORA4J_API lora4j_status_t lora4j_trainer_plan(const lora4j_model *model, const lora4j_adapter *trainable,
                                               const lora4j_train_params *params, lora4j_memory_plan *out) {
    l4_clear_error();
    if (!out) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_plan: out is NULL");
    memset(out, 0, sizeof *out);
    int32_t st = check_setup(model, trainable, params, "trainer_plan");
    if (st != LORA4J_OK) return st;
    if (params->device >= 0) return l4_trd_plan(model, trainable, params, out);
    /* a scratch trainer holds the shapes; only small tables are allocated, never the buffers */
    lora4j_trainer *tr = calloc(1, sizeof *tr);
    if (!tr) return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "trainer_plan: no memory");
    st = l4_tr_shapes(tr, model, (lora4j_adapter *)trainable, params);
    if (st == LORA4J_OK) st = params->full ? l4_tr_params_full(tr, 1) : l4_tr_params_lora(tr, 1);
    int64_t act = st == LORA4J_OK ? l4_tr_layout(tr, NULL) : 0;
    if (st == LORA4J_OK && act < 0) st = l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "trainer_plan: buffer sizes overflow");
    if (st == LORA4J_OK) {
        const int64_t values = tr->n_train * (int64_t)sizeof(float);
        out->weights = model_bytes(model);
        out->trainable = 2 * values; /* values (adapter or owned weight copies) and gradients */
        out->optimizer = 2 * values;
        out->activations = act;
        out->total = out->weights + out->trainable + out->optimizer + out->activations;
    }
    release(tr);
    return st;
}

static int32_t set_frozen(lora4j_trainer *tr, const lora4j_adapter *trainable, const lora4j_adapter *const *frozen,
                          const float *scales, int32_t n) {
    if (n < 0) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_new: n_frozen %d is negative", n);
    if (n == 0) return LORA4J_OK;
    if (!frozen || !scales) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_new: NULL frozen adapters or scales");
    if (tr->p.full) {
        return l4_fail(LORA4J_ERR_UNSUPPORTED, "trainer_new: frozen adapters cannot be combined with full "
                       "fine-tuning (merge them into the model first)");
    }
    for (int32_t i = 0; i < n; i++) {
        if (!frozen[i]) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_new: frozen adapter %d is NULL", i);
        if (frozen[i] == trainable) {
            return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_new: frozen adapter %d is the trainable one "
                           "(clone it for a frozen snapshot)", i);
        }
        if (!isfinite(scales[i])) {
            return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_new: frozen scale %d is %g, not finite", i, scales[i]);
        }
        int32_t st = l4_adapter_check_model(frozen[i], tr->model, "trainer_new");
        if (st != LORA4J_OK) return l4_fail_context(st, "frozen adapter %d", i);
    }
    const size_t ptr_bytes = (size_t)n * sizeof(void *);
    tr->frozen_mem = malloc(ptr_bytes + (size_t)n * sizeof(float));
    if (!tr->frozen_mem) return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "trainer_new: no memory");
    const lora4j_adapter **list = tr->frozen_mem;
    float *sc = (float *)((char *)tr->frozen_mem + ptr_bytes);
    memcpy(list, frozen, ptr_bytes);
    memcpy(sc, scales, (size_t)n * sizeof(float));
    tr->frozen = (l4_lora_stack){list, sc, n, NULL, tr->N};
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_trainer_new(const lora4j_model *model, lora4j_adapter *trainable,
                                              const lora4j_adapter *const *frozen, const float *frozen_scales,
                                              int32_t n_frozen, const lora4j_train_params *params,
                                              lora4j_trainer **out) {
    l4_clear_error();
    if (!out) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_new: out is NULL");
    *out = NULL;
    int32_t st = check_setup(model, trainable, params, "trainer_new");
    if (st == LORA4J_OK && params->device >= 0) st = l4_trd_check(trainable, params, "trainer_new");
    if (st != LORA4J_OK) return st;
    lora4j_trainer *tr = calloc(1, sizeof *tr);
    if (!tr) return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "trainer_new: no memory");
    tr->optim_kind = -1;
    st = l4_tr_shapes(tr, model, trainable, params);
    if (st == LORA4J_OK) st = set_frozen(tr, trainable, frozen, frozen_scales, n_frozen);
    if (st == LORA4J_OK) {
        if (tr->p.full) {
            st = l4_tr_params_full(tr, 0);
        } else {
            tr->layers = model->layers;
            tr->tok_embd = model->tok_embd;
            tr->output = model->output;
            tr->output_norm = model->output_norm;
            st = l4_tr_params_lora(tr, 0);
        }
    }
    if (st == LORA4J_OK && params->device >= 0) {
        st = l4_trd_new(tr);
        if (st == LORA4J_OK) {
            *out = tr;
            return st;
        }
    }
    if (st == LORA4J_OK) {
        tr->acts = calloc((size_t)model->hp.n_layer, sizeof *tr->acts);
        if (!tr->acts) st = l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "trainer_new: no memory");
    }
    if (st == LORA4J_OK) {
        tr->arena_bytes = l4_tr_layout(tr, NULL);
        tr->arena = tr->arena_bytes > 0 ? aligned_alloc(ALIGN, (size_t)tr->arena_bytes) : NULL;
        if (!tr->arena) {
            st = l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "trainer_new: cannot allocate %lld bytes of activations for "
                         "%d x %d tokens", (long long)tr->arena_bytes, params->n_rows, params->n_seq);
        } else {
            l4_tr_layout(tr, tr->arena);
        }
    }
    if (st != LORA4J_OK) {
        release(tr);
        return st;
    }
    *out = tr;
    return LORA4J_OK;
}

LORA4J_API void lora4j_trainer_free(lora4j_trainer *tr) {
    if (tr) release(tr);
}

LORA4J_API int64_t lora4j_trainer_steps(const lora4j_trainer *tr) { return tr ? tr->steps : 0; }
