/* Serializing a writer to disk, atomically: the bytes go to a fresh temporary file beside the
 * target, which is fsynced and renamed over it. A failure at any step removes the temporary file
 * and leaves an existing target untouched.
 *
 * Layout (what llama.cpp's reader accepts): header, KVs in insertion order, tensor infos, and,
 * when there are tensors, zero padding to the alignment followed by each tensor's data, each
 * zero-padded to the alignment. Offsets are sum_{j<i} align_up(nbytes_j, alignment). */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "gguf/gguf_internal.h"

#define OUT_BUFFER_BYTES (1u << 20)

/* A buffered output file; `written` counts bytes emitted so far, for padding. */
typedef struct out_file {
    int fd;
    uint8_t *buf;
    size_t used;
    uint64_t written;
} out_file;

static lora4j_status_t out_flush(out_file *o) {
    size_t done = 0;
    while (done < o->used) {
        ssize_t r = write(o->fd, o->buf + done, o->used - done);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0)
            return l4_fail(LORA4J_ERR_IO, "write failed after %llu bytes: %s",
                           (unsigned long long)(o->written - o->used + done), strerror(errno));
        done += (size_t)r;
    }
    o->used = 0;
    return LORA4J_OK;
}

static lora4j_status_t out_bytes(out_file *o, const void *src, uint64_t n) {
    const uint8_t *p = src;
    while (n) {
        size_t room = OUT_BUFFER_BYTES - o->used;
        size_t take = n < room ? (size_t)n : room;
        memcpy(o->buf + o->used, p, take);
        o->used += take;
        o->written += take;
        p += take;
        n -= take;
        if (o->used == OUT_BUFFER_BYTES) {
            lora4j_status_t st = out_flush(o);
            if (st != LORA4J_OK) return st;
        }
    }
    return LORA4J_OK;
}

/* n elements of `size` bytes, in native order, written little-endian. */
static lora4j_status_t out_le(out_file *o, const void *src, uint64_t n, uint64_t size) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return out_bytes(o, src, n * size);
#else
    for (uint64_t j = 0; j < n; j++) {
        uint8_t tmp[8];
        l4_le_copy(tmp, (const uint8_t *)src + j * size, 1, size);
        lora4j_status_t st = out_bytes(o, tmp, size);
        if (st != LORA4J_OK) return st;
    }
    return LORA4J_OK;
#endif
}

static lora4j_status_t out_u32(out_file *o, uint32_t v) { return out_le(o, &v, 1, 4); }
static lora4j_status_t out_u64(out_file *o, uint64_t v) { return out_le(o, &v, 1, 8); }

static lora4j_status_t out_string(out_file *o, const char *s, uint64_t len) {
    lora4j_status_t st = out_u64(o, len);
    return st == LORA4J_OK ? out_bytes(o, s, len) : st;
}

static lora4j_status_t out_pad(out_file *o, uint64_t alignment) {
    static const uint8_t zeros[256];
    while (o->written % alignment != 0) {
        uint64_t n = alignment - o->written % alignment;
        lora4j_status_t st = out_bytes(o, zeros, n < sizeof zeros ? n : sizeof zeros);
        if (st != LORA4J_OK) return st;
    }
    return LORA4J_OK;
}

static lora4j_status_t out_kv(out_file *o, const l4_gguf_kv *kv) {
    lora4j_status_t st = out_string(o, kv->key, strlen(kv->key));
    if (st == LORA4J_OK) st = out_u32(o, (uint32_t)kv->type);
    if (st == LORA4J_OK && kv->type == LORA4J_GGUF_ARRAY) {
        st = out_u32(o, (uint32_t)kv->elem_type);
        if (st == LORA4J_OK) st = out_u64(o, kv->n);
    }
    if (kv->elem_type != LORA4J_GGUF_STRING) {
        return st == LORA4J_OK ? out_le(o, kv->data, kv->n, l4_gguf_type_size(kv->elem_type)) : st;
    }
    for (uint64_t j = 0; st == LORA4J_OK && j < kv->n; j++) {
        st = out_string(o, kv->blob + kv->str_off[j], kv->str_len[j]);
    }
    return st;
}

static lora4j_status_t out_all(out_file *o, const lora4j_gguf_writer *w, uint32_t alignment) {
    lora4j_status_t st = out_bytes(o, L4_GGUF_MAGIC, 4);
    if (st == LORA4J_OK) st = out_u32(o, L4_GGUF_VERSION);
    if (st == LORA4J_OK) st = out_u64(o, (uint64_t)w->n_tensors);
    if (st == LORA4J_OK) st = out_u64(o, (uint64_t)w->n_kv);
    for (int64_t i = 0; st == LORA4J_OK && i < w->n_kv; i++) st = out_kv(o, &w->kv[i]);
    uint64_t offset = 0;
    for (int64_t i = 0; st == LORA4J_OK && i < w->n_tensors; i++) {
        const l4_writer_tensor *t = &w->tensors[i];
        st = out_string(o, t->name, strlen(t->name));
        if (st == LORA4J_OK) st = out_u32(o, t->n_dims);
        if (st == LORA4J_OK) st = out_le(o, t->ne, t->n_dims, 8);
        if (st == LORA4J_OK) st = out_u32(o, (uint32_t)t->type);
        if (st == LORA4J_OK) st = out_u64(o, offset);
        uint64_t padded;
        if (st == LORA4J_OK && (!l4_align_up_u64(t->n_bytes, alignment, &padded) ||
                                !l4_add_u64(offset, padded, &offset))) {
            st = l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "tensor data exceeds 2^64 bytes");
        }
    }
    if (w->n_tensors == 0) return st; /* metadata-only file: no data section, no padding */
    if (st == LORA4J_OK) st = out_pad(o, alignment);
    for (int64_t i = 0; st == LORA4J_OK && i < w->n_tensors; i++) {
        st = out_bytes(o, w->tensors[i].data, w->tensors[i].n_bytes);
        if (st == LORA4J_OK) st = out_pad(o, alignment);
    }
    return st;
}

/* Create path + ".tmp.<pid>.<random>" exclusively. */
static int create_temp(const char *path, char **out_tmp) {
    static atomic_uint counter;
    size_t n = strlen(path) + 64;
    char *tmp = malloc(n);
    if (!tmp) {
        errno = ENOMEM;
        return -1;
    }
    for (int attempt = 0; attempt < 16; attempt++) {
        uint64_t r;
        if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            r = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)ts.tv_sec;
        }
        r ^= atomic_fetch_add(&counter, 1);
        snprintf(tmp, n, "%s.tmp.%ld.%016llx", path, (long)getpid(), (unsigned long long)r);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) {
            *out_tmp = tmp;
            return fd;
        }
    }
    free(tmp);
    return -1;
}

/* Make the rename durable. Best effort: the file is already in place, and some file systems
 * cannot fsync a directory, so a failure here is not reported. */
static void sync_parent_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir) return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

LORA4J_API lora4j_status_t lora4j_gguf_writer_write(lora4j_gguf_writer *w, const char *path) {
    l4_clear_error();
    if (!w || !path || !path[0]) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT,
                       "lora4j_gguf_writer_write: NULL writer or empty path");
    }
    uint32_t alignment = L4_GGUF_DEFAULT_ALIGNMENT;
    for (int64_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kv[i].key, L4_GGUF_ALIGNMENT_KEY) == 0) memcpy(&alignment, w->kv[i].data, 4);
    }
    out_file o = {.fd = -1, .buf = malloc(OUT_BUFFER_BYTES)};
    if (!o.buf)
        return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "%s: out of memory for the write buffer", path);
    char *tmp = NULL;
    o.fd = create_temp(path, &tmp);
    lora4j_status_t st = LORA4J_OK;
    if (o.fd < 0) {
        st =
            l4_fail(LORA4J_ERR_IO, "cannot create a temporary file beside it: %s", strerror(errno));
    }
    if (st == LORA4J_OK) st = out_all(&o, w, alignment);
    if (st == LORA4J_OK) st = out_flush(&o);
    if (st == LORA4J_OK && fsync(o.fd) != 0)
        st = l4_fail(LORA4J_ERR_IO, "fsync failed: %s", strerror(errno));
    if (o.fd >= 0 && close(o.fd) != 0 && st == LORA4J_OK) {
        st = l4_fail(LORA4J_ERR_IO, "close failed: %s", strerror(errno));
    }
    if (st == LORA4J_OK && rename(tmp, path) != 0) {
        st = l4_fail(LORA4J_ERR_IO, "cannot rename the temporary file into place: %s",
                     strerror(errno));
    }
    if (st == LORA4J_OK) {
        sync_parent_dir(path);
    } else if (o.fd >= 0) {
        unlink(tmp);
    }
    free(tmp);
    free(o.buf);
    return st == LORA4J_OK ? st : l4_fail_context(st, "%s", path);
}
