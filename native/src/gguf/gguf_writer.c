/* Collecting metadata and tensors for a GGUF file. Every value is validated here, so that
 * lora4j_gguf_writer_write only has to serialize; setting an existing key replaces its value in
 * place, keeping the key's position. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "gguf/gguf_internal.h"

LORA4J_API lora4j_status_t lora4j_gguf_writer_new(lora4j_gguf_writer **out) {
    l4_clear_error();
    if (!out) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "lora4j_gguf_writer_new: out is NULL");
    *out = calloc(1, sizeof **out);
    if (!*out) return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "lora4j_gguf_writer_new: out of memory");
    return LORA4J_OK;
}

LORA4J_API void lora4j_gguf_writer_free(lora4j_gguf_writer *w) {
    if (!w) return;
    for (int64_t i = 0; i < w->n_kv; i++) l4_gguf_kv_free(&w->kv[i]);
    for (int64_t i = 0; i < w->n_tensors; i++) free(w->tensors[i].data);
    free(w->kv);
    free(w->tensors);
    free(w);
}

static int64_t find_kv(const lora4j_gguf_writer *w, const char *key) {
    for (int64_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kv[i].key, key) == 0) return i;
    }
    return -1;
}

static lora4j_status_t check_key(const lora4j_gguf_writer *w, const char *key, const char *fn) {
    if (!w) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: writer is NULL", fn);
    if (!key || !key[0])
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: key is NULL or empty", fn);
    return LORA4J_OK;
}

static int numeric_type(int32_t t) { return l4_gguf_type_size(t) != 0; }

static lora4j_status_t check_bools(const uint8_t *v, uint64_t n, const char *fn, const char *key) {
    for (uint64_t j = 0; j < n; j++) {
        if (v[j] > 1) {
            return l4_fail(LORA4J_ERR_INVALID_ARGUMENT,
                           "%s: key '%.64s': BOOL element %llu is %u, not 0 or 1", fn, key,
                           (unsigned long long)j, v[j]);
        }
    }
    return LORA4J_OK;
}

/* Store a built entry under its key: replace an existing one in place, or append. Takes
 * ownership of *kv (released on failure). */
static lora4j_status_t put_kv(lora4j_gguf_writer *w, l4_gguf_kv *kv, const char *fn) {
    uint32_t alignment;
    if (strcmp(kv->key, L4_GGUF_ALIGNMENT_KEY) == 0) {
        lora4j_status_t st =
            l4_gguf_check_alignment_kv(LORA4J_ERR_INVALID_ARGUMENT, kv, &alignment);
        if (st != LORA4J_OK) {
            l4_gguf_kv_free(kv);
            return l4_fail_context(st, "%s", fn);
        }
    }
    int64_t i = find_kv(w, kv->key);
    if (i >= 0) {
        l4_gguf_kv_free(&w->kv[i]);
        w->kv[i] = *kv;
        return LORA4J_OK;
    }
    if (w->n_kv == w->cap_kv) {
        int64_t cap = w->cap_kv ? 2 * w->cap_kv : 16;
        l4_gguf_kv *grown = realloc(w->kv, (size_t)cap * sizeof *grown);
        if (!grown) {
            l4_gguf_kv_free(kv);
            return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
        }
        w->kv = grown;
        w->cap_kv = cap;
    }
    w->kv[w->n_kv++] = *kv;
    return LORA4J_OK;
}

static lora4j_status_t set_numeric(lora4j_gguf_writer *w, const char *key, int32_t type,
                                   int is_array, const void *data, uint64_t n, const char *fn) {
    lora4j_status_t st = check_key(w, key, fn);
    if (st != LORA4J_OK) return st;
    if (!numeric_type(type)) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT,
                       "%s: key '%.64s': type %d (%s) is not a numeric or BOOL type", fn, key, type,
                       l4_gguf_type_name(type));
    }
    if (!data && n)
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: key '%.64s': data is NULL", fn, key);
    if (type == LORA4J_GGUF_BOOL && (st = check_bools(data, n, fn, key)) != LORA4J_OK) return st;
    l4_gguf_kv kv;
    if ((st = l4_gguf_kv_init_numeric(&kv, key, type, is_array, data, n)) != LORA4J_OK) {
        return l4_fail_context(st, "%s: key '%.64s'", fn, key);
    }
    return put_kv(w, &kv, fn);
}

LORA4J_API lora4j_status_t lora4j_gguf_writer_set_scalar(lora4j_gguf_writer *w, const char *key,
                                                         int32_t value_type, const void *value) {
    l4_clear_error();
    if (!value)
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "lora4j_gguf_writer_set_scalar: value is NULL");
    return set_numeric(w, key, value_type, 0, value, 1, "lora4j_gguf_writer_set_scalar");
}

LORA4J_API lora4j_status_t lora4j_gguf_writer_set_array(lora4j_gguf_writer *w, const char *key,
                                                        int32_t elem_type, const void *data,
                                                        uint64_t n) {
    l4_clear_error();
    return set_numeric(w, key, elem_type, 1, data, n, "lora4j_gguf_writer_set_array");
}

static lora4j_status_t set_strings(lora4j_gguf_writer *w, const char *key, int is_array,
                                   const char *const *strs, const uint64_t *lens, uint64_t n,
                                   const char *fn) {
    lora4j_status_t st = check_key(w, key, fn);
    if (st != LORA4J_OK) return st;
    if (!strs && n)
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: key '%.64s': strings are NULL", fn, key);
    for (uint64_t j = 0; j < n; j++) {
        if (!strs[j] && !(lens && lens[j] == 0)) {
            return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: key '%.64s': string %llu is NULL", fn,
                           key, (unsigned long long)j);
        }
    }
    l4_gguf_kv kv;
    if ((st = l4_gguf_kv_init_strings(&kv, key, is_array, strs, lens, n)) != LORA4J_OK) {
        return l4_fail_context(st, "%s: key '%.64s'", fn, key);
    }
    return put_kv(w, &kv, fn);
}

LORA4J_API lora4j_status_t lora4j_gguf_writer_set_string(lora4j_gguf_writer *w, const char *key,
                                                         const char *value, uint64_t len) {
    l4_clear_error();
    return set_strings(w, key, 0, &value, &len, 1, "lora4j_gguf_writer_set_string");
}

LORA4J_API lora4j_status_t lora4j_gguf_writer_set_string_array(lora4j_gguf_writer *w,
                                                               const char *key,
                                                               const char *const *strs,
                                                               const uint64_t *lens, uint64_t n) {
    l4_clear_error();
    return set_strings(w, key, 1, strs, lens, n, "lora4j_gguf_writer_set_string_array");
}

LORA4J_API lora4j_status_t lora4j_gguf_writer_copy_kv(lora4j_gguf_writer *w, const lora4j_gguf *src,
                                                      int64_t i) {
    l4_clear_error();
    const char *fn = "lora4j_gguf_writer_copy_kv";
    if (!w || !src) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: NULL argument", fn);
    if (i < 0 || i >= src->n_kv) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: kv index %lld out of range [0, %lld)", fn,
                       (long long)i, (long long)src->n_kv);
    }
    l4_gguf_kv kv;
    lora4j_status_t st = l4_gguf_kv_clone(&kv, &src->kv[i]);
    if (st != LORA4J_OK) return l4_fail_context(st, "%s: key '%.64s'", fn, src->kv[i].key);
    return put_kv(w, &kv, fn);
}

LORA4J_API lora4j_status_t lora4j_gguf_writer_remove_key(lora4j_gguf_writer *w, const char *key) {
    l4_clear_error();
    lora4j_status_t st = check_key(w, key, "lora4j_gguf_writer_remove_key");
    if (st != LORA4J_OK) return st;
    int64_t i = find_kv(w, key);
    if (i < 0)
        return l4_fail(LORA4J_ERR_NOT_FOUND, "lora4j_gguf_writer_remove_key: no key '%.64s'", key);
    l4_gguf_kv_free(&w->kv[i]);
    memmove(&w->kv[i], &w->kv[i + 1], (size_t)(w->n_kv - i - 1) * sizeof *w->kv);
    w->n_kv--;
    return LORA4J_OK;
}

static lora4j_status_t check_tensor_name(const lora4j_gguf_writer *w, const char *name,
                                         const char *fn) {
    if (!w || !name) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: NULL argument", fn);
    size_t len = strlen(name);
    if (len == 0 || len > L4_GGUF_MAX_NAME) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: tensor name '%.64s' is %s", fn, name,
                       len ? "longer than 63 bytes" : "empty");
    }
    for (int64_t i = 0; i < w->n_tensors; i++) {
        if (strcmp(w->tensors[i].name, name) == 0) {
            return l4_fail(LORA4J_ERR_INVALID_ARGUMENT,
                           "%s: duplicate tensor name '%s' (tensor %lld)", fn, name, (long long)i);
        }
    }
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_gguf_writer_add_tensor(lora4j_gguf_writer *w, const char *name,
                                                         int32_t type, int32_t n_dims,
                                                         const int64_t *ne, const void *data,
                                                         uint64_t n_bytes) {
    l4_clear_error();
    const char *fn = "lora4j_gguf_writer_add_tensor";
    lora4j_status_t st = check_tensor_name(w, name, fn);
    if (st != LORA4J_OK) return st;
    if (n_dims < 1 || n_dims > L4_GGUF_MAX_DIMS) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: tensor '%s': n_dims = %d (must be 1..%d)",
                       fn, name, n_dims, L4_GGUF_MAX_DIMS);
    }
    if (!ne || !data)
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: tensor '%s': ne or data is NULL", fn,
                       name);
    l4_writer_tensor t = {.type = type, .n_dims = (uint32_t)n_dims};
    uint64_t expect;
    if ((st = l4_gguf_tensor_shape(LORA4J_ERR_INVALID_ARGUMENT, type, t.n_dims, ne, t.ne,
                                   &expect)) != LORA4J_OK) {
        return l4_fail_context(st, "%s: tensor '%s'", fn, name);
    }
    if (n_bytes != expect) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT,
                       "%s: tensor '%s': n_bytes = %llu but its shape and type need %llu", fn, name,
                       (unsigned long long)n_bytes, (unsigned long long)expect);
    }
    if (w->n_tensors == w->cap_tensors) {
        int64_t cap = w->cap_tensors ? 2 * w->cap_tensors : 16;
        l4_writer_tensor *grown = realloc(w->tensors, (size_t)cap * sizeof *grown);
        if (!grown) return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "%s: out of memory", fn);
        w->tensors = grown;
        w->cap_tensors = cap;
    }
    t.data = n_bytes <= SIZE_MAX ? malloc((size_t)n_bytes) : NULL;
    if (!t.data) {
        return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "%s: tensor '%s': out of memory for %llu bytes",
                       fn, name, (unsigned long long)n_bytes);
    }
    memcpy(t.data, data, (size_t)n_bytes);
    strcpy(t.name, name); /* length checked above */
    t.n_bytes = n_bytes;
    w->tensors[w->n_tensors++] = t;
    return LORA4J_OK;
}
