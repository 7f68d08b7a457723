/* The quantize tool (llama-quantize): re-encode every weight matrix of a model file to the
 * target's types (model/quant_rules.c), copy everything else, write atomically. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"
#include "model/convert.h"
#include "model/model.h"
#include "model/quant_rules.h"
#include "quant/quant.h"

LORA4J_API lora4j_quantize_params lora4j_quantize_default_params(void) {
    lora4j_quantize_params p = {LORA4J_MIX_Q4_K_M, 0};
    return p;
}

static int32_t copy_metadata(lora4j_gguf_writer *w, const lora4j_gguf *g, const l4_quant_target *t) {
    int64_t n = lora4j_gguf_n_kv(g);
    for (int64_t i = 0; i < n; i++) {
        int32_t st = lora4j_gguf_writer_copy_kv(w, g, i);
        if (st != LORA4J_OK) return st;
    }
    uint32_t ftype = l4_quant_file_type(t), qversion = 2;
    int32_t st = lora4j_gguf_writer_set_scalar(w, "general.file_type", LORA4J_GGUF_UINT32, &ftype);
    if (st == LORA4J_OK) {
        st = lora4j_gguf_writer_set_scalar(w, "general.quantization_version", LORA4J_GGUF_UINT32,
                                           &qversion);
    }
    return st;
}

/* Add tensor i of g to w, re-encoded when the rules say so. */
static int32_t add_tensor(lora4j_gguf_writer *w, const lora4j_gguf *g, int64_t i,
                          const l4_quant_target *t, const lora4j_hparams *hp, int n_threads) {
    lora4j_tensor_info info;
    int32_t st = lora4j_gguf_tensor_info(g, i, &info);
    if (st != LORA4J_OK) return st;
    int32_t type = info.type;
    if (l4_quant_tensor_eligible(info.name, info.n_dims)) {
        type = l4_quant_tensor_type(t, info.name, info.ne[0], hp->n_layer, hp->tied_output);
    }
    if (type == info.type) {
        return lora4j_gguf_writer_add_tensor(w, info.name, info.type, info.n_dims, info.ne, info.data,
                                             info.n_bytes);
    }
    int64_t n_rows = info.ne[1];
    size_t n_bytes = (size_t)l4_row_bytes(type, info.ne[0]) * (size_t)n_rows;
    void *buf = malloc(n_bytes ? n_bytes : 1);
    if (!buf) return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "no memory to quantize '%s'", info.name);
    st = l4_convert_rows(info.type, info.data, type, buf, n_rows, info.ne[0], n_threads);
    if (st == LORA4J_OK) {
        l4_log(LORA4J_LOG_DEBUG, "quantize: %s %s -> %s", info.name, lora4j_type_name(info.type),
               lora4j_type_name(type));
        st = lora4j_gguf_writer_add_tensor(w, info.name, type, info.n_dims, info.ne, buf, n_bytes);
    }
    free(buf);
    return st == LORA4J_OK ? st : l4_fail_context(st, "tensor '%s'", info.name);
}

LORA4J_API lora4j_status_t lora4j_model_quantize(const char *in_path, const char *out_path,
                                                 lora4j_quantize_params params) {
    l4_clear_error();
    if (!in_path || !out_path) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "model_quantize: NULL path");
    }
    l4_quant_target target;
    int32_t st = l4_quant_target_parse(params.type, &target);
    if (st != LORA4J_OK) return st;

    /* Loading validates the model (hyper-parameters, shapes) and tells whether it is tied. */
    lora4j_model *model = NULL;
    lora4j_model_params mp = lora4j_model_default_params();
    mp.n_threads = params.n_threads;
    st = lora4j_model_load(in_path, mp, &model);
    if (st != LORA4J_OK) return st;
    if (model->hp.vocab_only) {
        lora4j_model_free(model);
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "model_quantize: '%s' holds no weights", in_path);
    }
    lora4j_gguf_writer *w = NULL;
    st = lora4j_gguf_writer_new(&w);
    if (st == LORA4J_OK) st = copy_metadata(w, model->gguf, &target);
    int64_t n = lora4j_gguf_n_tensors(model->gguf);
    for (int64_t i = 0; st == LORA4J_OK && i < n; i++) {
        st = add_tensor(w, model->gguf, i, &target, &model->hp, params.n_threads);
    }
    if (st == LORA4J_OK) st = lora4j_gguf_writer_write(w, out_path);
    lora4j_gguf_writer_free(w);
    lora4j_model_free(model);
    return st == LORA4J_OK ? st : l4_fail_context(st, "quantizing '%s' to '%s'", in_path, out_path);
}
