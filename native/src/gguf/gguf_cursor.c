/* Bounds-checked little-endian cursor over the mapped file. Nothing is read before its length
 * has been checked against the bytes that remain, so a hostile length can neither read past
 * the mapping nor make the caller allocate more than the file could hold. */
#include <string.h>

#include "core/error.h"
#include "gguf/gguf_internal.h"

lora4j_status_t l4_cursor_bytes(l4_cursor *c, uint64_t n, const char *what, const uint8_t **out) {
    uint64_t left = l4_cursor_remaining(c);
    if (n > left) {
        return l4_fail(LORA4J_ERR_FORMAT,
                       "truncated: %s needs %llu bytes at file offset %llu, only %llu remain", what,
                       (unsigned long long)n, (unsigned long long)c->pos, (unsigned long long)left);
    }
    *out = c->base + c->pos;
    c->pos += n;
    return LORA4J_OK;
}

static uint64_t load_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

lora4j_status_t l4_cursor_u8(l4_cursor *c, const char *what, uint8_t *out) {
    const uint8_t *p = NULL;
    lora4j_status_t st = l4_cursor_bytes(c, 1, what, &p);
    if (st == LORA4J_OK) *out = p[0];
    return st;
}

lora4j_status_t l4_cursor_u32(l4_cursor *c, const char *what, uint32_t *out) {
    const uint8_t *p = NULL;
    lora4j_status_t st = l4_cursor_bytes(c, 4, what, &p);
    if (st == LORA4J_OK) *out = (uint32_t)load_le(p, 4);
    return st;
}

lora4j_status_t l4_cursor_u64(l4_cursor *c, const char *what, uint64_t *out) {
    const uint8_t *p = NULL;
    lora4j_status_t st = l4_cursor_bytes(c, 8, what, &p);
    if (st == LORA4J_OK) *out = load_le(p, 8);
    return st;
}

lora4j_status_t l4_cursor_i64(l4_cursor *c, const char *what, int64_t *out) {
    uint64_t u;
    lora4j_status_t st = l4_cursor_u64(c, what, &u);
    if (st == LORA4J_OK) memcpy(out, &u, sizeof u);
    return st;
}

lora4j_status_t l4_cursor_string(l4_cursor *c, const char *what, const uint8_t **out,
                                 uint64_t *out_len) {
    uint64_t at = c->pos, n;
    lora4j_status_t st = l4_cursor_u64(c, what, &n);
    if (st != LORA4J_OK) return st;
    uint64_t left = l4_cursor_remaining(c);
    if (n > left) {
        return l4_fail(LORA4J_ERR_FORMAT,
                       "%s: string length %llu at file offset %llu exceeds remaining %llu bytes",
                       what, (unsigned long long)n, (unsigned long long)at,
                       (unsigned long long)left);
    }
    *out_len = n;
    return l4_cursor_bytes(c, n, what, out);
}

void l4_le_copy(void *dst, const uint8_t *src, uint64_t n, uint64_t elem_size) {
    uint64_t bytes = n * elem_size; /* callers bounded n * elem_size by the file size */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (bytes) memcpy(dst, src, bytes);
#else
    uint8_t *d = dst;
    for (uint64_t i = 0; i < n; i++) {
        for (uint64_t b = 0; b < elem_size; b++)
            d[i * elem_size + b] = src[i * elem_size + elem_size - 1 - b];
    }
    (void)bytes;
#endif
}
