/* The metadata value model: type table, construction, copy and release of one KV entry. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "gguf/gguf_internal.h"

uint64_t l4_gguf_type_size(int32_t type) {
    switch (type) {
    case LORA4J_GGUF_UINT8:
    case LORA4J_GGUF_INT8:
    case LORA4J_GGUF_BOOL: return 1;
    case LORA4J_GGUF_UINT16:
    case LORA4J_GGUF_INT16: return 2;
    case LORA4J_GGUF_UINT32:
    case LORA4J_GGUF_INT32:
    case LORA4J_GGUF_FLOAT32: return 4;
    case LORA4J_GGUF_UINT64:
    case LORA4J_GGUF_INT64:
    case LORA4J_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

const char *l4_gguf_type_name(int32_t type) {
    static const char *const names[] = {"UINT8",  "INT8",    "UINT16", "INT16",  "UINT32",
                                        "INT32",  "FLOAT32", "BOOL",   "STRING", "ARRAY",
                                        "UINT64", "INT64",   "FLOAT64"};
    if (type < 0 || type > LORA4J_GGUF_FLOAT64) return "unknown";
    return names[type];
}

void l4_gguf_kv_free(l4_gguf_kv *kv) {
    if (!kv) return;
    free(kv->key);
    free(kv->data);
    free(kv->blob);
    free(kv->str_off);
    free(kv->str_len);
    memset(kv, 0, sizeof *kv);
}

static lora4j_status_t set_key(l4_gguf_kv *kv, const char *key, uint64_t key_len) {
    kv->key = key_len < SIZE_MAX ? malloc(key_len + 1) : NULL;
    if (!kv->key) {
        return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "out of memory copying a key of %llu bytes",
                       (unsigned long long)key_len);
    }
    memcpy(kv->key, key, key_len);
    kv->key[key_len] = '\0';
    return LORA4J_OK;
}

/* Allocate the string storage of an entry of n strings holding `bytes` bytes in total. */
static lora4j_status_t alloc_strings(l4_gguf_kv *kv, uint64_t n, uint64_t bytes) {
    uint64_t blob_bytes;
    if (!l4_add_u64(bytes, n, &blob_bytes) || blob_bytes == UINT64_MAX || n > SIZE_MAX / 8) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "string sizes overflow");
    }
    kv->blob = malloc(blob_bytes + 1);
    kv->str_off = malloc((n ? n : 1) * sizeof(uint64_t));
    kv->str_len = malloc((n ? n : 1) * sizeof(uint64_t));
    if (!kv->blob || !kv->str_off || !kv->str_len) {
        return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "out of memory for %llu strings (%llu bytes)",
                       (unsigned long long)n, (unsigned long long)bytes);
    }
    kv->blob[0] = '\0';
    return LORA4J_OK;
}

lora4j_status_t l4_gguf_kv_alloc(l4_gguf_kv *kv, const char *key, uint64_t key_len,
                                 int32_t elem_type, int is_array, uint64_t n,
                                 uint64_t string_bytes) {
    memset(kv, 0, sizeof *kv);
    kv->type = is_array ? LORA4J_GGUF_ARRAY : elem_type;
    kv->elem_type = elem_type;
    kv->n = n;
    lora4j_status_t st = set_key(kv, key, key_len);
    if (st != LORA4J_OK) return st;
    if (elem_type == LORA4J_GGUF_STRING) return alloc_strings(kv, n, string_bytes);
    uint64_t bytes;
    if (!l4_mul_u64(n, l4_gguf_type_size(elem_type), &bytes) || bytes > SIZE_MAX - 1) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%llu elements of %s overflow",
                       (unsigned long long)n, l4_gguf_type_name(elem_type));
    }
    kv->data = malloc(bytes ? bytes : 1); /* never NULL, even for an empty array */
    if (!kv->data) {
        return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "out of memory for %llu bytes of %s values",
                       (unsigned long long)bytes, l4_gguf_type_name(elem_type));
    }
    return LORA4J_OK;
}

lora4j_status_t l4_gguf_kv_init_numeric(l4_gguf_kv *kv, const char *key, int32_t elem_type,
                                        int is_array, const void *data, uint64_t n) {
    lora4j_status_t st = l4_gguf_kv_alloc(kv, key, strlen(key), elem_type, is_array, n, 0);
    if (st != LORA4J_OK) {
        l4_gguf_kv_free(kv);
        return st;
    }
    if (n) memcpy(kv->data, data, n * l4_gguf_type_size(elem_type));
    return LORA4J_OK;
}

lora4j_status_t l4_gguf_kv_init_strings(l4_gguf_kv *kv, const char *key, int is_array,
                                        const char *const *strs, const uint64_t *lens, uint64_t n) {
    uint64_t total = 0;
    for (uint64_t j = 0; j < n; j++) {
        uint64_t len = lens ? lens[j] : strlen(strs[j]);
        if (!l4_add_u64(total, len, &total)) {
            memset(kv, 0, sizeof *kv);
            return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "string lengths overflow at element %llu",
                           (unsigned long long)j);
        }
    }
    lora4j_status_t st =
        l4_gguf_kv_alloc(kv, key, strlen(key), LORA4J_GGUF_STRING, is_array, n, total);
    if (st != LORA4J_OK) {
        l4_gguf_kv_free(kv);
        return st;
    }
    uint64_t at = 0;
    for (uint64_t j = 0; j < n; j++) {
        uint64_t len = lens ? lens[j] : strlen(strs[j]);
        if (len) memcpy(kv->blob + at, strs[j], len);
        kv->blob[at + len] = '\0';
        kv->str_off[j] = at;
        kv->str_len[j] = len;
        at += len + 1;
    }
    return LORA4J_OK;
}

lora4j_status_t l4_gguf_kv_clone(l4_gguf_kv *dst, const l4_gguf_kv *src) {
    lora4j_status_t st;
    if (src->elem_type == LORA4J_GGUF_STRING) {
        /* The blob already holds every element followed by its NUL: copy it whole. */
        uint64_t total = 0;
        for (uint64_t j = 0; j < src->n; j++) total += src->str_len[j];
        st = l4_gguf_kv_alloc(dst, src->key, strlen(src->key), LORA4J_GGUF_STRING,
                              src->type == LORA4J_GGUF_ARRAY, src->n, total);
        if (st == LORA4J_OK) {
            memcpy(dst->blob, src->blob, total + src->n);
            if (src->n) {
                memcpy(dst->str_off, src->str_off, src->n * sizeof(uint64_t));
                memcpy(dst->str_len, src->str_len, src->n * sizeof(uint64_t));
            }
        }
    } else {
        st = l4_gguf_kv_alloc(dst, src->key, strlen(src->key), src->elem_type,
                              src->type == LORA4J_GGUF_ARRAY, src->n, 0);
        if (st == LORA4J_OK && src->n) {
            memcpy(dst->data, src->data, src->n * l4_gguf_type_size(src->elem_type));
        }
    }
    if (st != LORA4J_OK) l4_gguf_kv_free(dst);
    return st;
}

lora4j_status_t l4_gguf_check_alignment_kv(lora4j_status_t status, const l4_gguf_kv *kv,
                                           uint32_t *out) {
    if (kv->type != LORA4J_GGUF_UINT32) {
        return l4_fail(status, "'%s' must be a UINT32, not %s%s", L4_GGUF_ALIGNMENT_KEY,
                       kv->type == LORA4J_GGUF_ARRAY ? "an ARRAY of " : "",
                       l4_gguf_type_name(kv->elem_type));
    }
    uint32_t a;
    memcpy(&a, kv->data, sizeof a);
    if (a == 0 || (a & (a - 1)) != 0) {
        return l4_fail(status, "'%s' = %u is not a power of two", L4_GGUF_ALIGNMENT_KEY, a);
    }
    *out = a;
    return LORA4J_OK;
}
