/* Opening a GGUF file: map it read-only, then validate header, metadata, tensor infos and the
 * data layout before anything is handed out. The layout rule is the one llama.cpp's reader
 * enforces: tensor i starts at sum_{j<i} align_up(nbytes_j, alignment) within the data
 * section; only each tensor's own bytes must lie inside the file (trailing padding may be cut). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "gguf/gguf_internal.h"

/* Smallest possible encodings, used to reject absurd counts before allocating:
 * KV = key length (8) + key (>= 1) + value type (4) + value (>= 1);
 * tensor info = name length (8) + name (>= 1) + n_dims (4) + ne[0] (8) + type (4) + offset (8). */
#define MIN_KV_BYTES 14
#define MIN_TENSOR_INFO_BYTES 33

static lora4j_status_t map_file(lora4j_gguf *g) {
    int fd =
        open(g->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* O_NONBLOCK: never hang on a FIFO */
    if (fd < 0) return l4_fail(LORA4J_ERR_IO, "cannot open: %s", strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return l4_fail(LORA4J_ERR_IO, "cannot stat: %s", strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return l4_fail(LORA4J_ERR_IO, "not a regular file");
    }
    if (sb.st_size == 0) {
        close(fd);
        return l4_fail(LORA4J_ERR_FORMAT, "empty file (a GGUF header needs 24 bytes)");
    }
    void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd); /* the mapping keeps the file alive */
    if (map == MAP_FAILED)
        return l4_fail(LORA4J_ERR_IO, "cannot mmap %lld bytes: %s", (long long)sb.st_size,
                       strerror(e));
    g->map = map;
    g->file_size = (uint64_t)sb.st_size;
    return LORA4J_OK;
}

static lora4j_status_t parse_header(lora4j_gguf *g, l4_cursor *c, int64_t *n_tensors,
                                    int64_t *n_kv) {
    const uint8_t *m;
    lora4j_status_t st = l4_cursor_bytes(c, 4, "magic", &m);
    if (st != LORA4J_OK) return st;
    if (memcmp(m, L4_GGUF_MAGIC, 4) != 0) {
        return l4_fail(
            LORA4J_ERR_FORMAT,
            "bad magic %02x %02x %02x %02x at file offset 0 (expected 'GGUF' = 47 47 55 46)", m[0],
            m[1], m[2], m[3]);
    }
    if ((st = l4_cursor_u32(c, "version", &g->version)) != LORA4J_OK) return st;
    if (g->version != 0 && (g->version & 0xFFFF) == 0) {
        return l4_fail(LORA4J_ERR_FORMAT,
                       "version 0x%08x at file offset 4: the file's byte order does not match this "
                       "machine (big-endian GGUF?)",
                       g->version);
    }
    if (g->version < 2 || g->version > L4_GGUF_VERSION) {
        return l4_fail(LORA4J_ERR_FORMAT,
                       "GGUF version %u at file offset 4 is not supported (2 and 3 are)",
                       g->version);
    }
    if ((st = l4_cursor_i64(c, "n_tensors", n_tensors)) != LORA4J_OK) return st;
    if ((st = l4_cursor_i64(c, "n_kv", n_kv)) != LORA4J_OK) return st;
    uint64_t left = l4_cursor_remaining(c);
    if (*n_tensors < 0 || (uint64_t)*n_tensors > left / MIN_TENSOR_INFO_BYTES) {
        return l4_fail(LORA4J_ERR_FORMAT,
                       "n_tensors = %lld at file offset 8 is impossible: each tensor info needs at "
                       "least %d bytes and only %llu bytes follow the header",
                       (long long)*n_tensors, MIN_TENSOR_INFO_BYTES, (unsigned long long)left);
    }
    if (*n_kv < 0 || (uint64_t)*n_kv > left / MIN_KV_BYTES) {
        return l4_fail(
            LORA4J_ERR_FORMAT,
            "n_kv = %lld at file offset 16 is impossible: each KV pair needs at least %d "
            "bytes and only %llu bytes follow the header",
            (long long)*n_kv, MIN_KV_BYTES, (unsigned long long)left);
    }
    /* Both bounded by left / 14 above, so this cannot overflow. */
    if ((uint64_t)*n_tensors * MIN_TENSOR_INFO_BYTES + (uint64_t)*n_kv * MIN_KV_BYTES > left) {
        return l4_fail(LORA4J_ERR_FORMAT,
                       "n_kv = %lld and n_tensors = %lld need more than the %llu bytes that follow "
                       "the header",
                       (long long)*n_kv, (long long)*n_tensors, (unsigned long long)left);
    }
    return LORA4J_OK;
}

static lora4j_status_t parse_kvs(lora4j_gguf *g, l4_cursor *c, int64_t n_kv) {
    g->kv = calloc(n_kv ? (size_t)n_kv : 1, sizeof *g->kv);
    if (!g->kv)
        return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "out of memory for %lld KV pairs",
                       (long long)n_kv);
    lora4j_status_t st = l4_name_index_init(&g->kv_index, n_kv);
    if (st != LORA4J_OK) return st;
    for (int64_t i = 0; i < n_kv; i++) {
        if ((st = l4_gguf_parse_kv(c, i, &g->kv[i])) != LORA4J_OK) return st;
        g->n_kv = i + 1;
        int64_t dup;
        l4_name_index_insert(&g->kv_index, g->kv[i].key, i, &dup);
        if (dup >= 0) {
            return l4_fail(LORA4J_ERR_FORMAT,
                           "kv %lld '%.64s': duplicate key (first defined by kv %lld)",
                           (long long)i, g->kv[i].key, (long long)dup);
        }
    }
    g->alignment = L4_GGUF_DEFAULT_ALIGNMENT;
    int64_t a = l4_name_index_find(&g->kv_index, L4_GGUF_ALIGNMENT_KEY);
    if (a >= 0 && (st = l4_gguf_check_alignment_kv(LORA4J_ERR_FORMAT, &g->kv[a], &g->alignment)) !=
                      LORA4J_OK) {
        return l4_fail_context(st, "kv %lld", (long long)a);
    }
    return LORA4J_OK;
}

static lora4j_status_t parse_tensor_info(lora4j_gguf *g, l4_cursor *c, int64_t i) {
    l4_gguf_tensor *t = &g->tensors[i];
    uint64_t at = c->pos, len;
    const uint8_t *name;
    lora4j_status_t st = l4_cursor_string(c, "tensor name", &name, &len);
    if (st != LORA4J_OK) return l4_fail_context(st, "tensor %lld", (long long)i);
    if (len == 0 || len > L4_GGUF_MAX_NAME || memchr(name, 0, len)) {
        return l4_fail(LORA4J_ERR_FORMAT, "tensor %lld: name '%.*s' at file offset %llu is %s",
                       (long long)i, len > 64 ? 64 : (int)len, (const char *)name,
                       (unsigned long long)at,
                       len == 0                 ? "empty"
                       : len > L4_GGUF_MAX_NAME ? "longer than 63 bytes"
                                                : "holding a NUL byte");
    }
    memcpy(t->name, name, len);
    t->name[len] = '\0';
    t->info.name = t->name;
    int64_t dup;
    l4_name_index_insert(&g->tensor_index, t->name, i, &dup);
    if (dup >= 0) {
        return l4_fail(LORA4J_ERR_FORMAT,
                       "tensor %lld '%s': duplicate name (first used by tensor %lld)", (long long)i,
                       t->name, (long long)dup);
    }
    uint32_t n_dims = 0, type = 0;
    int64_t ne[L4_GGUF_MAX_DIMS] = {1, 1, 1, 1};
    st = l4_cursor_u32(c, "n_dims", &n_dims);
    int dims_ok = n_dims >= 1 && n_dims <= L4_GGUF_MAX_DIMS; /* else the shape check reports it */
    for (uint32_t d = 0; st == LORA4J_OK && dims_ok && d < n_dims; d++)
        st = l4_cursor_i64(c, "ne", &ne[d]);
    if (st == LORA4J_OK && dims_ok) st = l4_cursor_u32(c, "type", &type);
    if (st == LORA4J_OK && dims_ok) st = l4_cursor_u64(c, "offset", &t->info.offset);
    if (st == LORA4J_OK && type > INT32_MAX)
        st = l4_fail(LORA4J_ERR_FORMAT, "unknown ggml type id %u", type);
    if (st == LORA4J_OK) {
        st = l4_gguf_tensor_shape(LORA4J_ERR_FORMAT, (int32_t)type, n_dims, ne, t->info.ne,
                                  &t->info.n_bytes);
    }
    if (st != LORA4J_OK) return l4_fail_context(st, "tensor %lld '%s'", (long long)i, t->name);
    t->info.type = (int32_t)type;
    t->info.n_dims = (int32_t)n_dims;
    return LORA4J_OK;
}

static lora4j_status_t check_layout(lora4j_gguf *g) {
    uint64_t expected = 0, a = g->alignment;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        lora4j_tensor_info *ti = &g->tensors[i].info;
        const char *name = g->tensors[i].name;
        if (ti->offset % a != 0) {
            return l4_fail(
                LORA4J_ERR_FORMAT,
                "tensor %lld '%s': data offset %llu is not a multiple of the alignment %llu",
                (long long)i, name, (unsigned long long)ti->offset, (unsigned long long)a);
        }
        if (ti->offset < expected) {
            return l4_fail(
                LORA4J_ERR_FORMAT,
                "tensor %lld '%s': data offset %llu overlaps tensor %lld '%s' (its padded data "
                "ends at %llu)",
                (long long)i, name, (unsigned long long)ti->offset, (long long)i - 1,
                g->tensors[i - 1].name, (unsigned long long)expected);
        }
        if (ti->offset > expected) {
            return l4_fail(
                LORA4J_ERR_FORMAT,
                "tensor %lld '%s': data offset %llu, expected %llu (tensor data must follow "
                "the info order, each tensor padded to %llu bytes)",
                (long long)i, name, (unsigned long long)ti->offset, (unsigned long long)expected,
                (unsigned long long)a);
        }
        uint64_t start, end;
        if (!l4_add_u64(g->data_offset, ti->offset, &start) ||
            !l4_add_u64(start, ti->n_bytes, &end) || end > g->file_size) {
            return l4_fail(
                LORA4J_ERR_FORMAT,
                "tensor %lld '%s': data [file offset %llu, %llu bytes) extends past end of file "
                "(%llu bytes)",
                (long long)i, name, (unsigned long long)(g->data_offset + ti->offset),
                (unsigned long long)ti->n_bytes, (unsigned long long)g->file_size);
        }
        ti->data = g->map + start;
        uint64_t padded;
        if (!l4_align_up_u64(ti->n_bytes, a, &padded) || !l4_add_u64(expected, padded, &expected)) {
            return l4_fail(LORA4J_ERR_FORMAT, "tensor %lld '%s': data section size overflows",
                           (long long)i, name);
        }
    }
    return LORA4J_OK;
}

static lora4j_status_t parse(lora4j_gguf *g) {
    l4_cursor c = {g->map, g->file_size, 0};
    int64_t n_tensors, n_kv;
    lora4j_status_t st = parse_header(g, &c, &n_tensors, &n_kv);
    if (st == LORA4J_OK) st = parse_kvs(g, &c, n_kv);
    if (st != LORA4J_OK) return st;
    g->tensors = calloc(n_tensors ? (size_t)n_tensors : 1, sizeof *g->tensors);
    if (!g->tensors)
        return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "out of memory for %lld tensor infos",
                       (long long)n_tensors);
    if ((st = l4_name_index_init(&g->tensor_index, n_tensors)) != LORA4J_OK) return st;
    for (int64_t i = 0; i < n_tensors; i++) {
        g->n_tensors = i + 1;
        if ((st = parse_tensor_info(g, &c, i)) != LORA4J_OK) return st;
    }
    /* The data section starts at the next multiple of the alignment; the padding up to it may be
     * absent in a file without tensors (metadata-only writers stop right after the infos). */
    l4_align_up_u64(c.pos, g->alignment, &g->data_offset); /* pos < 2^63, alignment < 2^32 */
    return check_layout(g);
}

LORA4J_API lora4j_status_t lora4j_gguf_open(const char *path, lora4j_gguf **out) {
    l4_clear_error();
    if (!out) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "lora4j_gguf_open: out is NULL");
    *out = NULL;
    if (!path) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "lora4j_gguf_open: path is NULL");
    lora4j_gguf *g = calloc(1, sizeof *g);
    if (!g || !(g->path = strdup(path))) {
        free(g);
        return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
    }
    lora4j_status_t st = map_file(g);
    if (st == LORA4J_OK) st = parse(g);
    if (st != LORA4J_OK) {
        lora4j_gguf_close(g);
        return l4_fail_context(st, "%s", path);
    }
    *out = g;
    return LORA4J_OK;
}

LORA4J_API void lora4j_gguf_close(lora4j_gguf *g) {
    if (!g) return;
    for (int64_t i = 0; i < g->n_kv; i++) l4_gguf_kv_free(&g->kv[i]);
    free(g->kv);
    free(g->tensors);
    l4_name_index_free(&g->kv_index);
    l4_name_index_free(&g->tensor_index);
    if (g->map) munmap((void *)g->map, (size_t)g->file_size);
    free(g->path);
    free(g);
}
