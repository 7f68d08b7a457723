/* Files of a trainer: the optimizer state (moments named after the trained tensors, step counts
 * and a fingerprint of the parameter set) and, for full fine-tuning, the trained model. All
 * written atomically through the GGUF writer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "quant/quant.h"
#include "train/trainer.h"

#define STATE_TYPE "lora4j.optimizer_state"

static int32_t set_i64(lora4j_gguf_writer *w, const char *key, int64_t v) {
    return lora4j_gguf_writer_set_scalar(w, key, LORA4J_GGUF_INT64, &v);
}

/* Moment tensor names: "<param>.m" (AdamW first moment or SGD momentum) and "<param>.v". */
static void moment_name(char *out, size_t cap, const tr_param *q, char which) {
    snprintf(out, cap, "%s.%c", q->name, which);
}

LORA4J_API lora4j_status_t lora4j_trainer_save_state(const lora4j_trainer *tr, const char *path) {
    l4_clear_error();
    if (!tr || !path) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_save_state: NULL trainer or path");
    /* a CUDA trainer's moments live on the device: fetch them into the host copies first */
    if (tr->dev && tr->optim_kind >= 0) {
        int32_t st = l4_trd_moments((lora4j_trainer *)tr, 0);
        if (st != LORA4J_OK) return st;
    }
    lora4j_gguf_writer *w = NULL;
    int32_t st = lora4j_gguf_writer_new(&w);
    if (st != LORA4J_OK) return st;
    const uint64_t fp = tr->fingerprint;
    const int32_t kind = tr->optim_kind;
    st = lora4j_gguf_writer_set_string(w, "general.type", STATE_TYPE, strlen(STATE_TYPE));
    if (st == LORA4J_OK) st = lora4j_gguf_writer_set_scalar(w, "lora4j.train.fingerprint", LORA4J_GGUF_UINT64, &fp);
    if (st == LORA4J_OK) st = lora4j_gguf_writer_set_scalar(w, "lora4j.train.optimizer", LORA4J_GGUF_INT32, &kind);
    if (st == LORA4J_OK) st = set_i64(w, "lora4j.train.steps", tr->steps);
    if (st == LORA4J_OK) st = set_i64(w, "lora4j.train.micro_steps", tr->micro_steps);
    char name[96];
    for (int i = 0; i < tr->n_params && st == LORA4J_OK && kind >= 0; i++) {
        const tr_param *q = &tr->params[i];
        const int64_t ne[2] = {q->ne0, q->ne1};
        const uint64_t bytes = (uint64_t)q->n * sizeof(float);
        moment_name(name, sizeof name, q, 'm');
        st = lora4j_gguf_writer_add_tensor(w, name, LORA4J_TYPE_F32, 2, ne, tr->m + q->off, bytes);
        if (st == LORA4J_OK && kind == LORA4J_OPTIM_ADAMW) {
            moment_name(name, sizeof name, q, 'v');
            st = lora4j_gguf_writer_add_tensor(w, name, LORA4J_TYPE_F32, 2, ne, tr->v + q->off, bytes);
        }
    }
    if (st == LORA4J_OK) st = lora4j_gguf_writer_write(w, path);
    lora4j_gguf_writer_free(w);
    return st == LORA4J_OK ? st : l4_fail_context(st, "saving optimizer state '%s'", path);
}

static int32_t get_int(const lora4j_gguf *g, const char *key, int64_t *out) {
    int64_t i = lora4j_gguf_find_key(g, key);
    if (i < 0 || lora4j_gguf_get_scalar(g, i, out, NULL) != LORA4J_OK) {
        return l4_fail(LORA4J_ERR_FORMAT, "missing or non-integer key '%s'", key);
    }
    return LORA4J_OK;
}

/* The f32 tensor `name` of shape q, or an error. */
static int32_t find_moment(const lora4j_gguf *g, const tr_param *q, char which, const float **out) {
    char name[96];
    moment_name(name, sizeof name, q, which);
    int64_t i = lora4j_gguf_find_tensor(g, name);
    lora4j_tensor_info info;
    if (i < 0 || lora4j_gguf_tensor_info(g, i, &info) != LORA4J_OK) {
        return l4_fail(LORA4J_ERR_FORMAT, "missing tensor '%s'", name);
    }
    if (info.type != LORA4J_TYPE_F32 || info.ne[0] != q->ne0 || info.ne[1] != q->ne1 || info.ne[2] != 1 ||
        info.ne[3] != 1) {
        return l4_fail(LORA4J_ERR_FORMAT, "tensor '%s' is not f32 [%lld, %lld]", name, (long long)q->ne0,
                       (long long)q->ne1);
    }
    *out = info.data;
    return LORA4J_OK;
}

static int32_t load_from(lora4j_trainer *tr, const lora4j_gguf *g) {
    int64_t k = lora4j_gguf_find_key(g, "general.type");
    const char *type = NULL;
    uint64_t len = 0;
    if (k < 0 || lora4j_gguf_get_string(g, k, &type, &len) != LORA4J_OK || strcmp(type, STATE_TYPE) != 0) {
        return l4_fail(LORA4J_ERR_FORMAT, "not an optimizer state file (general.type is not '%s')", STATE_TYPE);
    }
    int64_t fp = 0, kind = 0, steps = 0, micro = 0;
    int32_t st = get_int(g, "lora4j.train.fingerprint", &fp);
    if (st == LORA4J_OK) st = get_int(g, "lora4j.train.optimizer", &kind);
    if (st == LORA4J_OK) st = get_int(g, "lora4j.train.steps", &steps);
    if (st == LORA4J_OK) st = get_int(g, "lora4j.train.micro_steps", &micro);
    if (st != LORA4J_OK) return st;
    if ((uint64_t)fp != tr->fingerprint) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "the state was saved for a different set of trained parameters "
                       "(another adapter, model or training mode)");
    }
    if (kind < -1 || kind > LORA4J_OPTIM_SGD || steps < 0 || micro < 0) {
        return l4_fail(LORA4J_ERR_FORMAT, "invalid optimizer kind %lld or step counts %lld/%lld", (long long)kind,
                       (long long)steps, (long long)micro);
    }
    /* check every tensor before changing anything */
    const float *src;
    for (int i = 0; i < tr->n_params && kind >= 0; i++) {
        if ((st = find_moment(g, &tr->params[i], 'm', &src)) != LORA4J_OK) return st;
        if (kind == LORA4J_OPTIM_ADAMW && (st = find_moment(g, &tr->params[i], 'v', &src)) != LORA4J_OK) return st;
    }
    memset(tr->m, 0, (size_t)tr->n_train * sizeof(float));
    memset(tr->v, 0, (size_t)tr->n_train * sizeof(float));
    for (int i = 0; i < tr->n_params && kind >= 0; i++) {
        const tr_param *q = &tr->params[i];
        find_moment(g, q, 'm', &src);
        memcpy(tr->m + q->off, src, (size_t)q->n * sizeof(float));
        if (kind == LORA4J_OPTIM_ADAMW) {
            find_moment(g, q, 'v', &src);
            memcpy(tr->v + q->off, src, (size_t)q->n * sizeof(float));
        }
    }
    tr->optim_kind = (int32_t)kind;
    tr->steps = steps;
    tr->micro_steps = micro;
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_trainer_load_state(lora4j_trainer *tr, const char *path) {
    l4_clear_error();
    if (!tr || !path) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_load_state: NULL trainer or path");
    lora4j_gguf *g = NULL;
    int32_t st = lora4j_gguf_open(path, &g);
    if (st == LORA4J_OK) st = load_from(tr, g);
    lora4j_gguf_close(g);
    if (st == LORA4J_OK && tr->dev) st = l4_trd_moments(tr, 1);
    return st == LORA4J_OK ? st : l4_fail_context(st, "loading optimizer state '%s'", path);
}

/* A trained tensor in the file's type: f32 as is, f16/bf16 re-encoded (into *buf, grown). */
static int32_t encode(const tr_param *q, int32_t type, void **buf, const void **data) {
    if (type == LORA4J_TYPE_F32) {
        *data = q->p;
        return LORA4J_OK;
    }
    void *b = realloc(*buf, (size_t)q->n * 2);
    if (!b) return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "save_model: no memory");
    *buf = b;
    int32_t st = lora4j_quantize(type, q->p, q->ne1, q->ne0, b, (size_t)q->n * 2);
    *data = b;
    return st;
}

LORA4J_API lora4j_status_t lora4j_trainer_save_model(const lora4j_trainer *tr, const char *path) {
    l4_clear_error();
    if (!tr || !path) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_save_model: NULL trainer or path");
    if (!tr->p.full) {
        return l4_fail(LORA4J_ERR_STATE, "trainer_save_model: a LoRA trainer does not change the model's weights "
                       "(save the adapter)");
    }
    const lora4j_gguf *g = tr->model->gguf;
    lora4j_gguf_writer *w = NULL;
    int32_t st = lora4j_gguf_writer_new(&w);
    for (int64_t k = 0; k < lora4j_gguf_n_kv(g) && st == LORA4J_OK; k++) st = lora4j_gguf_writer_copy_kv(w, g, k);
    void *buf = NULL;
    for (int64_t i = 0; i < lora4j_gguf_n_tensors(g) && st == LORA4J_OK; i++) {
        lora4j_tensor_info info;
        if ((st = lora4j_gguf_tensor_info(g, i, &info)) != LORA4J_OK) break;
        const void *data = info.data;
        for (int k = 0; k < tr->n_params; k++) {
            if (strcmp(tr->params[k].name, info.name) == 0) {
                st = encode(&tr->params[k], info.type, &buf, &data);
                break;
            }
        }
        if (st == LORA4J_OK) {
            st = lora4j_gguf_writer_add_tensor(w, info.name, info.type, info.n_dims, info.ne, data, info.n_bytes);
        }
    }
    if (st == LORA4J_OK) st = lora4j_gguf_writer_write(w, path);
    free(buf);
    lora4j_gguf_writer_free(w);
    return st == LORA4J_OK ? st : l4_fail_context(st, "saving model '%s'", path);
}
