/* Public accessors of an open GGUF file. Everything was validated at open, so these only check
 * the caller's arguments. */
#include <string.h>

#include "core/error.h"
#include "gguf/gguf_internal.h"

LORA4J_API uint32_t lora4j_gguf_version(const lora4j_gguf *g) { return g ? g->version : 0; }
LORA4J_API uint32_t lora4j_gguf_alignment(const lora4j_gguf *g) { return g ? g->alignment : 0; }
LORA4J_API uint64_t lora4j_gguf_data_offset(const lora4j_gguf *g) { return g ? g->data_offset : 0; }
LORA4J_API int64_t lora4j_gguf_n_kv(const lora4j_gguf *g) { return g ? g->n_kv : 0; }
LORA4J_API int64_t lora4j_gguf_n_tensors(const lora4j_gguf *g) { return g ? g->n_tensors : 0; }

LORA4J_API int64_t lora4j_gguf_find_key(const lora4j_gguf *g, const char *key) {
    return g && key ? l4_name_index_find(&g->kv_index, key) : -1;
}

LORA4J_API int64_t lora4j_gguf_find_tensor(const lora4j_gguf *g, const char *name) {
    return g && name ? l4_name_index_find(&g->tensor_index, name) : -1;
}

LORA4J_API const char *lora4j_gguf_key(const lora4j_gguf *g, int64_t i) {
    return g && i >= 0 && i < g->n_kv ? g->kv[i].key : NULL;
}

LORA4J_API int32_t lora4j_gguf_kv_type(const lora4j_gguf *g, int64_t i) {
    return g && i >= 0 && i < g->n_kv ? g->kv[i].type : -1;
}

/* The entry i, or NULL with an error naming the call. */
static const l4_gguf_kv *entry(const lora4j_gguf *g, int64_t i, const char *fn) {
    if (!g) {
        l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: gguf is NULL", fn);
        return NULL;
    }
    if (i < 0 || i >= g->n_kv) {
        l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: kv index %lld out of range [0, %lld)", fn,
                (long long)i, (long long)g->n_kv);
        return NULL;
    }
    return &g->kv[i];
}

static lora4j_status_t wrong_type(const lora4j_gguf *g, int64_t i, const char *fn,
                                  const char *want) {
    const l4_gguf_kv *kv = &g->kv[i];
    return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: kv %lld '%.64s' is %s%s, not %s", fn,
                   (long long)i, kv->key, kv->type == LORA4J_GGUF_ARRAY ? "an ARRAY of " : "",
                   l4_gguf_type_name(kv->elem_type), want);
}

LORA4J_API lora4j_status_t lora4j_gguf_get_scalar(const lora4j_gguf *g, int64_t i, int64_t *out_i64,
                                                  double *out_f64) {
    l4_clear_error();
    const l4_gguf_kv *kv = entry(g, i, "lora4j_gguf_get_scalar");
    if (!kv) return LORA4J_ERR_INVALID_ARGUMENT;
    const void *p = kv->data;
    int64_t iv = 0;
    double fv = 0;
    int is_float = 0;
    switch (kv->type) {
    case LORA4J_GGUF_UINT8: iv = *(const uint8_t *)p; break;
    case LORA4J_GGUF_INT8: iv = *(const int8_t *)p; break;
    case LORA4J_GGUF_BOOL: iv = *(const uint8_t *)p; break;
    case LORA4J_GGUF_UINT16: iv = *(const uint16_t *)p; break;
    case LORA4J_GGUF_INT16: iv = *(const int16_t *)p; break;
    case LORA4J_GGUF_UINT32: iv = *(const uint32_t *)p; break;
    case LORA4J_GGUF_INT32: iv = *(const int32_t *)p; break;
    case LORA4J_GGUF_UINT64: memcpy(&iv, p, sizeof iv); break; /* bit pattern of the uint64 */
    case LORA4J_GGUF_INT64: iv = *(const int64_t *)p; break;
    case LORA4J_GGUF_FLOAT32:
        fv = *(const float *)p;
        is_float = 1;
        break;
    case LORA4J_GGUF_FLOAT64:
        fv = *(const double *)p;
        is_float = 1;
        break;
    default: return wrong_type(g, i, "lora4j_gguf_get_scalar", "a numeric or BOOL scalar");
    }
    if (is_float) {
        if (out_f64) *out_f64 = fv;
    } else if (out_i64) {
        *out_i64 = iv;
    }
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_gguf_get_string(const lora4j_gguf *g, int64_t i,
                                                  const char **out_str, uint64_t *out_len) {
    l4_clear_error();
    const l4_gguf_kv *kv = entry(g, i, "lora4j_gguf_get_string");
    if (!kv) return LORA4J_ERR_INVALID_ARGUMENT;
    if (kv->type != LORA4J_GGUF_STRING)
        return wrong_type(g, i, "lora4j_gguf_get_string", "a STRING");
    if (out_str) *out_str = kv->blob;
    if (out_len) *out_len = kv->str_len[0];
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_gguf_get_array_info(const lora4j_gguf *g, int64_t i,
                                                      int32_t *out_elem_type, uint64_t *out_n) {
    l4_clear_error();
    const l4_gguf_kv *kv = entry(g, i, "lora4j_gguf_get_array_info");
    if (!kv) return LORA4J_ERR_INVALID_ARGUMENT;
    if (kv->type != LORA4J_GGUF_ARRAY)
        return wrong_type(g, i, "lora4j_gguf_get_array_info", "an ARRAY");
    if (out_elem_type) *out_elem_type = kv->elem_type;
    if (out_n) *out_n = kv->n;
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_gguf_get_array_data(const lora4j_gguf *g, int64_t i,
                                                      const void **out_data) {
    l4_clear_error();
    const l4_gguf_kv *kv = entry(g, i, "lora4j_gguf_get_array_data");
    if (!kv) return LORA4J_ERR_INVALID_ARGUMENT;
    if (kv->type != LORA4J_GGUF_ARRAY || kv->elem_type == LORA4J_GGUF_STRING) {
        return wrong_type(g, i, "lora4j_gguf_get_array_data", "an ARRAY of a numeric or BOOL type");
    }
    if (out_data) *out_data = kv->data;
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_gguf_get_array_string(const lora4j_gguf *g, int64_t i, uint64_t j,
                                                        const char **out_str, uint64_t *out_len) {
    l4_clear_error();
    const l4_gguf_kv *kv = entry(g, i, "lora4j_gguf_get_array_string");
    if (!kv) return LORA4J_ERR_INVALID_ARGUMENT;
    if (kv->type != LORA4J_GGUF_ARRAY || kv->elem_type != LORA4J_GGUF_STRING) {
        return wrong_type(g, i, "lora4j_gguf_get_array_string", "an ARRAY of STRING");
    }
    if (j >= kv->n) {
        return l4_fail(
            LORA4J_ERR_INVALID_ARGUMENT,
            "lora4j_gguf_get_array_string: element %llu out of range [0, %llu) in kv %lld '%.64s'",
            (unsigned long long)j, (unsigned long long)kv->n, (long long)i, kv->key);
    }
    if (out_str) *out_str = kv->blob + kv->str_off[j];
    if (out_len) *out_len = kv->str_len[j];
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_gguf_tensor_info(const lora4j_gguf *g, int64_t i,
                                                   lora4j_tensor_info *out) {
    l4_clear_error();
    if (!g || !out)
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "lora4j_gguf_tensor_info: NULL argument");
    if (i < 0 || i >= g->n_tensors) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT,
                       "lora4j_gguf_tensor_info: tensor index %lld out of range [0, %lld)",
                       (long long)i, (long long)g->n_tensors);
    }
    *out = g->tensors[i].info;
    return LORA4J_OK;
}
