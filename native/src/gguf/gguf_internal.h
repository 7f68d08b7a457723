/* Internal contract of the GGUF layer: the metadata value model shared by reader and writer,
 * the bounds-checked file cursor, and the name index used for O(1) lookups. */
#ifndef LORA4J_GGUF_INTERNAL_H
#define LORA4J_GGUF_INTERNAL_H

#include <stdint.h>

#include "lora4j.h"

#define L4_GGUF_MAGIC "GGUF"
#define L4_GGUF_VERSION 3
#define L4_GGUF_DEFAULT_ALIGNMENT 32
#define L4_GGUF_ALIGNMENT_KEY "general.alignment"
#define L4_GGUF_MAX_DIMS 4
#define L4_GGUF_MAX_NAME 63 /* bytes, without the NUL (ggml's GGML_MAX_NAME is 64) */

/* One metadata entry. Scalars are arrays of one element with type == elem_type, so reader,
 * writer and accessors handle a single shape. */
typedef struct l4_gguf_kv {
    char *key;         /* NUL-terminated, non-empty, no interior NUL */
    int32_t type;      /* lora4j_gguf_type of the entry: LORA4J_GGUF_ARRAY for arrays */
    int32_t elem_type; /* type of the elements (== type for scalars); never ARRAY */
    uint64_t n;        /* number of elements (1 for scalars) */
    void *data;        /* numeric/BOOL: n packed elements, native byte order, never NULL */
    char *blob;        /* STRING: all elements back to back, each followed by a NUL */
    uint64_t *str_off; /* STRING: start of element j within blob */
    uint64_t *str_len; /* STRING: byte length of element j */
} l4_gguf_kv;

/* Size in bytes of one element of a numeric/BOOL gguf type; 0 for STRING, ARRAY and unknown ids. */
uint64_t l4_gguf_type_size(int32_t type);
/* "UINT32", "STRING", …, or "unknown" for an id outside the enum. */
const char *l4_gguf_type_name(int32_t type);

void l4_gguf_kv_free(l4_gguf_kv *kv);
/* Zero kv, copy the key (key_len bytes, no NUL needed) and allocate storage for n elements of
 * elem_type (string_bytes: total bytes of all strings for STRING), without filling it. On failure
 * kv may hold partial storage: release it with l4_gguf_kv_free. */
lora4j_status_t l4_gguf_kv_alloc(l4_gguf_kv *kv, const char *key, uint64_t key_len,
                                 int32_t elem_type, int is_array, uint64_t n,
                                 uint64_t string_bytes);
/* Build an entry owning copies of key and values: n packed numeric/BOOL elements, or n strings
 * (lens NULL: NUL-terminated). is_array selects ARRAY vs scalar (n == 1). Values are not
 * validated here; on failure kv is left empty. */
lora4j_status_t l4_gguf_kv_init_numeric(l4_gguf_kv *kv, const char *key, int32_t elem_type,
                                        int is_array, const void *data, uint64_t n);
lora4j_status_t l4_gguf_kv_init_strings(l4_gguf_kv *kv, const char *key, int is_array,
                                        const char *const *strs, const uint64_t *lens, uint64_t n);
/* Deep copy of src into dst. */
lora4j_status_t l4_gguf_kv_clone(l4_gguf_kv *dst, const l4_gguf_kv *src);
/* Check a general.alignment entry: UINT32 scalar, non-zero power of two. On success stores the
 * value in *out; on failure returns `status` with a message naming the key. */
lora4j_status_t l4_gguf_check_alignment_kv(lora4j_status_t status, const l4_gguf_kv *kv,
                                           uint32_t *out);

/* Bounds-checked little-endian reader over a byte range (the mapped file). Every failure
 * names what was being read, the file offset, and how many bytes remained. */
typedef struct l4_cursor {
    const uint8_t *base;
    uint64_t size;
    uint64_t pos;
} l4_cursor;

static inline uint64_t l4_cursor_remaining(const l4_cursor *c) { return c->size - c->pos; }
lora4j_status_t l4_cursor_bytes(l4_cursor *c, uint64_t n, const char *what, const uint8_t **out);
lora4j_status_t l4_cursor_u8(l4_cursor *c, const char *what, uint8_t *out);
lora4j_status_t l4_cursor_u32(l4_cursor *c, const char *what, uint32_t *out);
lora4j_status_t l4_cursor_u64(l4_cursor *c, const char *what, uint64_t *out);
lora4j_status_t l4_cursor_i64(l4_cursor *c, const char *what, int64_t *out);
/* A GGUF string (uint64 length + bytes): points into the mapping, not NUL-terminated. */
lora4j_status_t l4_cursor_string(l4_cursor *c, const char *what, const uint8_t **out,
                                 uint64_t *out_len);
/* Copy n little-endian elements of elem_size bytes to dst in native byte order. */
void l4_le_copy(void *dst, const uint8_t *src, uint64_t n, uint64_t elem_size);

/* Parse one KV pair at the cursor into kv (index i is for messages). Validates the key, the
 * value type, every length and count against the bytes that remain, and BOOL values. */
lora4j_status_t l4_gguf_parse_kv(l4_cursor *c, int64_t i, l4_gguf_kv *kv);

/* Open-addressing hash index from NUL-terminated names to indices (names are borrowed). */
typedef struct l4_name_index {
    uint64_t cap; /* power of two, >= 2 * entries */
    const char **names;
    int64_t *ids;
} l4_name_index;

lora4j_status_t l4_name_index_init(l4_name_index *ix, int64_t n_max);
void l4_name_index_free(l4_name_index *ix);
/* Insert name -> id; if the name is present already, leaves it and returns its id in *dup
 * (else *dup = -1). */
void l4_name_index_insert(l4_name_index *ix, const char *name, int64_t id, int64_t *dup);
int64_t l4_name_index_find(const l4_name_index *ix, const char *name);

/* One tensor of an open file: the public info plus storage for its name. */
typedef struct l4_gguf_tensor {
    char name[L4_GGUF_MAX_NAME + 1];
    lora4j_tensor_info info;
} l4_gguf_tensor;

struct lora4j_gguf {
    char *path;
    const uint8_t *map; /* read-only mapping of the whole file */
    uint64_t file_size;
    uint32_t version;
    uint32_t alignment;
    uint64_t data_offset;
    int64_t n_kv;
    l4_gguf_kv *kv;
    int64_t n_tensors;
    l4_gguf_tensor *tensors;
    l4_name_index kv_index;
    l4_name_index tensor_index;
};

/* One tensor queued in a writer, with its own copy of the data. */
typedef struct l4_writer_tensor {
    char name[L4_GGUF_MAX_NAME + 1];
    int32_t type;
    uint32_t n_dims;
    int64_t ne[L4_GGUF_MAX_DIMS];
    uint64_t n_bytes;
    void *data;
} l4_writer_tensor;

struct lora4j_gguf_writer {
    int64_t n_kv, cap_kv;
    l4_gguf_kv *kv; /* insertion order = file order */
    int64_t n_tensors, cap_tensors;
    l4_writer_tensor *tensors;
};

/* Overflow-checked helpers: return 0 on overflow. */
static inline int l4_add_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_add_overflow(a, b, out);
}
static inline int l4_mul_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}
/* align_up(x, a) for a power of two a; 0 on overflow. */
static inline int l4_align_up_u64(uint64_t x, uint64_t a, uint64_t *out) {
    uint64_t t;
    if (!l4_add_u64(x, a - 1, &t)) return 0;
    *out = t & ~(a - 1);
    return 1;
}

/* Validate a tensor's type and shape (n_dims in 1..4, every ne positive, element count and
 * byte size without overflow, ne[0] a multiple of the block size); fills ne_out (missing dims 1)
 * and *nbytes. Fails with `status` and a message that names the offending field only, so the
 * caller prefixes which tensor. */
lora4j_status_t l4_gguf_tensor_shape(lora4j_status_t status, int32_t type, uint32_t n_dims,
                                     const int64_t *ne, int64_t ne_out[4], uint64_t *nbytes);

#endif
