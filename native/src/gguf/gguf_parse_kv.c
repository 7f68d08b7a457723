/* Parsing of one metadata KV pair from the mapped file into owned memory. Every count and
 * length is checked against the bytes that remain before anything is allocated. */
#include <string.h>

#include "core/error.h"
#include "gguf/gguf_internal.h"

/* Strings of one entry: check every length first (nothing allocated yet), then copy. */
static lora4j_status_t parse_strings(l4_cursor *c, const uint8_t *key, uint64_t key_len,
                                     int is_array, uint64_t n, l4_gguf_kv *kv) {
    if (is_array && n > l4_cursor_remaining(c) / 8) {
        return l4_fail(LORA4J_ERR_FORMAT,
                       "%llu strings (array) at file offset %llu need at least 8 bytes each, only "
                       "%llu bytes remain",
                       (unsigned long long)n, (unsigned long long)c->pos,
                       (unsigned long long)l4_cursor_remaining(c));
    }
    l4_cursor scan = *c;
    uint64_t total = 0;
    for (uint64_t j = 0; j < n; j++) {
        const uint8_t *s;
        uint64_t len;
        lora4j_status_t st =
            l4_cursor_string(&scan, is_array ? "array string" : "string", &s, &len);
        if (st != LORA4J_OK) {
            return is_array ? l4_fail_context(st, "element %llu", (unsigned long long)j) : st;
        }
        total += len; /* bounded by the file size */
    }
    lora4j_status_t st =
        l4_gguf_kv_alloc(kv, (const char *)key, key_len, LORA4J_GGUF_STRING, is_array, n, total);
    if (st != LORA4J_OK) return st;
    uint64_t at = 0;
    for (uint64_t j = 0; j < n; j++) {
        const uint8_t *s;
        uint64_t len;
        l4_cursor_string(c, "string", &s, &len); /* cannot fail: scanned above */
        if (len) memcpy(kv->blob + at, s, len);
        kv->blob[at + len] = '\0';
        kv->str_off[j] = at;
        kv->str_len[j] = len;
        at += len + 1;
    }
    return LORA4J_OK;
}

static lora4j_status_t parse_numeric(l4_cursor *c, const uint8_t *key, uint64_t key_len,
                                     int32_t elem_type, int is_array, uint64_t n, l4_gguf_kv *kv) {
    uint64_t size = l4_gguf_type_size(elem_type);
    uint64_t at = c->pos;
    if (n > l4_cursor_remaining(c) / size) {
        return l4_fail(LORA4J_ERR_FORMAT,
                       "%llu %s values (%s) at file offset %llu exceed the remaining %llu bytes",
                       (unsigned long long)n, l4_gguf_type_name(elem_type),
                       is_array ? "array" : "scalar", (unsigned long long)at,
                       (unsigned long long)l4_cursor_remaining(c));
    }
    const uint8_t *src;
    lora4j_status_t st = l4_cursor_bytes(c, n * size, "values", &src);
    if (st != LORA4J_OK) return st;
    if (elem_type == LORA4J_GGUF_BOOL) {
        for (uint64_t j = 0; j < n; j++) {
            if (src[j] > 1) {
                return l4_fail(LORA4J_ERR_FORMAT,
                               "BOOL value %u at file offset %llu%s is not 0 or 1", src[j],
                               (unsigned long long)(at + j), is_array ? " (array element)" : "");
            }
        }
    }
    st = l4_gguf_kv_alloc(kv, (const char *)key, key_len, elem_type, is_array, n, 0);
    if (st != LORA4J_OK) return st;
    l4_le_copy(kv->data, src, n, size);
    return LORA4J_OK;
}

static int known_value_type(uint32_t t) { return t <= LORA4J_GGUF_FLOAT64; }

static lora4j_status_t parse_value(l4_cursor *c, const uint8_t *key, uint64_t key_len,
                                   l4_gguf_kv *kv) {
    uint64_t at = c->pos;
    uint32_t type, elem_type;
    uint64_t n = 1;
    lora4j_status_t st = l4_cursor_u32(c, "value type", &type);
    if (st != LORA4J_OK) return st;
    if (!known_value_type(type)) {
        return l4_fail(LORA4J_ERR_FORMAT, "unknown value type %u at file offset %llu", type,
                       (unsigned long long)at);
    }
    int is_array = type == LORA4J_GGUF_ARRAY;
    elem_type = type;
    if (is_array) {
        at = c->pos;
        if ((st = l4_cursor_u32(c, "array element type", &elem_type)) != LORA4J_OK) return st;
        if (elem_type == LORA4J_GGUF_ARRAY) {
            return l4_fail(LORA4J_ERR_FORMAT,
                           "array of arrays at file offset %llu (not supported by GGUF readers)",
                           (unsigned long long)at);
        }
        if (!known_value_type(elem_type)) {
            return l4_fail(LORA4J_ERR_FORMAT, "unknown array element type %u at file offset %llu",
                           elem_type, (unsigned long long)at);
        }
        if ((st = l4_cursor_u64(c, "array count", &n)) != LORA4J_OK) return st;
    }
    if (elem_type == LORA4J_GGUF_STRING) return parse_strings(c, key, key_len, is_array, n, kv);
    return parse_numeric(c, key, key_len, (int32_t)elem_type, is_array, n, kv);
}

lora4j_status_t l4_gguf_parse_kv(l4_cursor *c, int64_t i, l4_gguf_kv *kv) {
    memset(kv, 0, sizeof *kv);
    uint64_t at = c->pos;
    const uint8_t *key;
    uint64_t key_len;
    lora4j_status_t st = l4_cursor_string(c, "key", &key, &key_len);
    if (st != LORA4J_OK) return l4_fail_context(st, "kv %lld", (long long)i);
    if (key_len == 0) {
        return l4_fail(LORA4J_ERR_FORMAT, "kv %lld: empty key at file offset %llu", (long long)i,
                       (unsigned long long)at);
    }
    int shown = key_len > 64 ? 64 : (int)key_len; /* keys are echoed, truncated, in messages */
    if (memchr(key, 0, key_len)) {
        return l4_fail(LORA4J_ERR_FORMAT,
                       "kv %lld '%.*s': key at file offset %llu contains a NUL byte", (long long)i,
                       shown, (const char *)key, (unsigned long long)at);
    }
    st = parse_value(c, key, key_len, kv);
    if (st != LORA4J_OK) {
        l4_gguf_kv_free(kv);
        return l4_fail_context(st, "kv %lld '%.*s'", (long long)i, shown, (const char *)key);
    }
    return LORA4J_OK;
}
