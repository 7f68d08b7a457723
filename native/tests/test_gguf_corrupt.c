/* Hostile and broken GGUF files: every defect must be a clean LORA4J_ERR_FORMAT (or IO) with a
 * message naming what and where, never a crash, hang or huge allocation. Covers hand-made
 * defects, truncation at every byte of a valid file, and seeded random corruption. */
#include <stdint.h>

#include "gguf_test.h"

/* Open the bytes as a file and expect failure with `status` and `needle` in the message, which
 * must also start with the file's path. */
static void expect_fail_status(gbuf *b, lora4j_status_t status, const char *needle, int line) {
    const char *path = tmp_path("case.gguf");
    write_bytes(path, b->p, b->n);
    lora4j_gguf *g = (lora4j_gguf *)&g; /* must be reset to NULL */
    lora4j_status_t st = lora4j_gguf_open(path, &g);
    const char *msg = lora4j_last_error();
    g_checks++;
    if (st != status || g != NULL || !strstr(msg, needle) ||
        strncmp(msg, path, strlen(path)) != 0) {
        g_failures++;
        fprintf(stderr, "line %d: open returned %d (want %d), message \"%s\" (want \"%s\")\n", line,
                st, status, msg, needle);
    }
    if (st == LORA4J_OK) lora4j_gguf_close(g);
    free(b->p);
    memset(b, 0, sizeof *b);
}
#define EXPECT_FAIL(b, needle) expect_fail_status((b), LORA4J_ERR_FORMAT, (needle), __LINE__)

static lora4j_gguf *open_bytes(gbuf *b) {
    const char *path = tmp_path("case.gguf");
    write_bytes(path, b->p, b->n);
    lora4j_gguf *g = NULL;
    CHECK_OK(lora4j_gguf_open(path, &g));
    free(b->p);
    memset(b, 0, sizeof *b);
    return g;
}

/* A header with n_kv KVs and n_tensors tensors follows; helpers to add one KV. */
static void kv_u32(gbuf *b, const char *key, uint32_t type, uint32_t v) {
    gb_str(b, key);
    gb_u32(b, type);
    gb_u32(b, v);
}

static void test_header(void) {
    gbuf b = {0};
    gb_bytes(&b, "GGUX", 4), gb_u32(&b, 3), gb_u64(&b, 0), gb_u64(&b, 0);
    EXPECT_FAIL(&b, "bad magic 47 47 55 58 at file offset 0");
    gb_header(&b, 1, 0, 0);
    EXPECT_FAIL(&b, "GGUF version 1 at file offset 4 is not supported");
    gb_header(&b, 4, 0, 0);
    EXPECT_FAIL(&b, "GGUF version 4 at file offset 4 is not supported");
    gb_header(&b, 0, 0, 0);
    EXPECT_FAIL(&b, "GGUF version 0");
    gb_header(&b, 0x03000000, 0, 0);
    EXPECT_FAIL(&b, "byte order");
    gb_header(&b, 2, 0, 0); /* version 2 is read like 3 */
    lora4j_gguf *g = open_bytes(&b);
    CHECK(g && lora4j_gguf_version(g) == 2 && lora4j_gguf_n_kv(g) == 0 &&
          lora4j_gguf_n_tensors(g) == 0);
    lora4j_gguf_close(g);

    write_bytes(tmp_path("empty.gguf"), "", 0);
    lora4j_gguf *e = NULL;
    CHECK_FAIL(lora4j_gguf_open(tmp_path("empty.gguf"), &e), LORA4J_ERR_FORMAT, "empty file");
    gb_bytes(&b, "GGU", 3);
    EXPECT_FAIL(&b, "truncated: magic needs 4 bytes at file offset 0, only 3 remain");
    gb_bytes(&b, "GGUF", 4), gb_u32(&b, 3), gb_u32(&b, 0);
    EXPECT_FAIL(&b, "truncated: n_tensors needs 8 bytes at file offset 8, only 4 remain");

    gb_header(&b, 3, (uint64_t)-1, 0);
    EXPECT_FAIL(&b, "n_tensors = -1 at file offset 8 is impossible");
    gb_header(&b, 3, 1ull << 40, 0);
    EXPECT_FAIL(&b, "n_tensors = 1099511627776 at file offset 8 is impossible");
    gb_header(&b, 3, 0, 1ull << 62);
    EXPECT_FAIL(&b, "n_kv = 4611686018427387904 at file offset 16 is impossible");
    gb_header(&b, 3, 0, (uint64_t)INT64_MIN);
    EXPECT_FAIL(&b, "n_kv = -9223372036854775808");
    gb_header(&b, 3, 2, 3); /* each count fits alone, both together do not */
    gb_bytes(&b, (uint8_t[80]){0}, 80);
    EXPECT_FAIL(&b, "n_kv = 3 and n_tensors = 2 need more than the 80 bytes");

    lora4j_gguf *x = NULL;
    CHECK_FAIL(lora4j_gguf_open(tmp_path("does-not-exist.gguf"), &x), LORA4J_ERR_IO, "cannot open");
    CHECK(x == NULL);
    CHECK_FAIL(lora4j_gguf_open(g_tmpdir, &x), LORA4J_ERR_IO, "not a regular file");
    CHECK_FAIL(lora4j_gguf_open(NULL, &x), LORA4J_ERR_INVALID_ARGUMENT, "path is NULL");
    CHECK_FAIL(lora4j_gguf_open("x", NULL), LORA4J_ERR_INVALID_ARGUMENT, "out is NULL");
    lora4j_gguf_close(NULL);
}

static void test_kvs(void) {
    gbuf b = {0};
    gb_header(&b, 3, 0, 1);
    gb_u64(&b, 1000000000000ull);
    gb_bytes(&b, "tokenizer.ggml.tokens", 21);
    EXPECT_FAIL(
        &b, "kv 0: key: string length 1000000000000 at file offset 24 exceeds remaining 21 bytes");

    gb_header(&b, 3, 0, 1);
    gb_str(&b, "");
    gb_u32(&b, LORA4J_GGUF_UINT32), gb_u32(&b, 1);
    EXPECT_FAIL(&b, "kv 0: empty key at file offset 24");

    gb_header(&b, 3, 0, 1);
    gb_u64(&b, 3), gb_bytes(&b, "a\0b", 3);
    gb_u32(&b, LORA4J_GGUF_UINT32), gb_u32(&b, 1);
    EXPECT_FAIL(&b, "contains a NUL byte");

    gb_header(&b, 3, 0, 2);
    kv_u32(&b, "general.x", LORA4J_GGUF_UINT32, 1);
    kv_u32(&b, "general.x", LORA4J_GGUF_UINT32, 2);
    EXPECT_FAIL(&b, "kv 1 'general.x': duplicate key (first defined by kv 0)");

    gb_header(&b, 3, 0, 1);
    kv_u32(&b, "k", 13, 0);
    EXPECT_FAIL(&b, "kv 0 'k': unknown value type 13 at file offset 33");
    gb_header(&b, 3, 0, 1);
    kv_u32(&b, "k", 0xFFFFFFFFu, 0);
    EXPECT_FAIL(&b, "unknown value type 4294967295");

    gb_header(&b, 3, 0, 1);
    gb_str(&b, "k"), gb_u32(&b, LORA4J_GGUF_ARRAY), gb_u32(&b, LORA4J_GGUF_ARRAY), gb_u64(&b, 1);
    gb_u32(&b, LORA4J_GGUF_UINT8), gb_u64(&b, 1), gb_u8(&b, 0);
    EXPECT_FAIL(&b, "kv 0 'k': array of arrays at file offset 37");

    gb_header(&b, 3, 0, 1);
    gb_str(&b, "k"), gb_u32(&b, LORA4J_GGUF_ARRAY), gb_u32(&b, 99), gb_u64(&b, 0);
    EXPECT_FAIL(&b, "unknown array element type 99");

    gb_header(&b, 3, 0, 1);
    gb_str(&b, "k"), gb_u32(&b, LORA4J_GGUF_ARRAY), gb_u32(&b, LORA4J_GGUF_UINT32),
        gb_u64(&b, 1ull << 60);
    gb_u32(&b, 7);
    EXPECT_FAIL(
        &b,
        "1152921504606846976 UINT32 values (array) at file offset 49 exceed the remaining 4 bytes");

    gb_header(&b, 3, 0, 1);
    gb_str(&b, "tokens"), gb_u32(&b, LORA4J_GGUF_ARRAY), gb_u32(&b, LORA4J_GGUF_STRING),
        gb_u64(&b, UINT64_MAX);
    gb_str(&b, "a");
    EXPECT_FAIL(&b, "18446744073709551615 strings (array) at file offset 54 need at least 8 bytes "
                    "each, only 9 bytes remain");

    gb_header(&b, 3, 0, 1);
    gb_str(&b, "tokens"), gb_u32(&b, LORA4J_GGUF_ARRAY), gb_u32(&b, LORA4J_GGUF_STRING),
        gb_u64(&b, 2);
    gb_str(&b, "a"), gb_u64(&b, 1000), gb_bytes(&b, "bc", 2);
    EXPECT_FAIL(&b, "kv 0 'tokens': element 1: array string: string length 1000 at file offset 63 "
                    "exceeds remaining 2 bytes");

    gb_header(&b, 3, 0, 1);
    gb_str(&b, "flag"), gb_u32(&b, LORA4J_GGUF_BOOL), gb_u8(&b, 2);
    EXPECT_FAIL(&b, "kv 0 'flag': BOOL value 2 at file offset 40 is not 0 or 1");
    gb_header(&b, 3, 0, 1);
    gb_str(&b, "flags"), gb_u32(&b, LORA4J_GGUF_ARRAY), gb_u32(&b, LORA4J_GGUF_BOOL), gb_u64(&b, 3);
    gb_u8(&b, 1), gb_u8(&b, 0), gb_u8(&b, 255);
    EXPECT_FAIL(&b, "BOOL value 255 at file offset 55 (array element) is not 0 or 1");

    gb_header(&b, 3, 0, 1);
    gb_str(&b, "k"), gb_u32(&b, LORA4J_GGUF_UINT64), gb_u32(&b, 0);
    EXPECT_FAIL(&b, "1 UINT64 values (scalar) at file offset 37 exceed the remaining 4 bytes");

    /* general.alignment: UINT32 power of two only */
    gb_header(&b, 3, 0, 1);
    kv_u32(&b, "general.alignment", LORA4J_GGUF_INT32, 32);
    EXPECT_FAIL(&b, "kv 0: 'general.alignment' must be a UINT32, not INT32");
    gb_header(&b, 3, 0, 1);
    kv_u32(&b, "general.alignment", LORA4J_GGUF_UINT32, 48);
    EXPECT_FAIL(&b, "'general.alignment' = 48 is not a power of two");
    gb_header(&b, 3, 0, 1);
    kv_u32(&b, "general.alignment", LORA4J_GGUF_UINT32, 0);
    EXPECT_FAIL(&b, "'general.alignment' = 0 is not a power of two");
    gb_header(&b, 3, 0, 1);
    gb_str(&b, "general.alignment"), gb_u32(&b, LORA4J_GGUF_ARRAY), gb_u32(&b, LORA4J_GGUF_UINT32),
        gb_u64(&b, 1);
    gb_u32(&b, 32);
    EXPECT_FAIL(&b, "must be a UINT32, not an ARRAY of UINT32");
}

/* A file with one KV (general.alignment = align) and the given tensor infos; data follows. */
static void start_tensors(gbuf *b, uint64_t n_tensors, uint32_t align) {
    gb_header(b, 3, n_tensors, 1);
    kv_u32(b, "general.alignment", LORA4J_GGUF_UINT32, align);
}

static void test_tensor_infos(void) {
    static const int64_t ne1[1] = {8};
    gbuf b = {0};
    start_tensors(&b, 1, 32);
    gb_tensor(&b, "a_name_of_sixty_four_bytes_is_one_too_long_0123456789_0123456789", 1, ne1, 0, 0);
    EXPECT_FAIL(&b,
                "tensor 0: name 'a_name_of_sixty_four_bytes_is_one_too_long_0123456789_0123456789' "
                "at file offset 57 is longer than 63 bytes");
    start_tensors(&b, 1, 32);
    gb_tensor(&b, "", 1, ne1, 0, 0);
    EXPECT_FAIL(&b, "tensor 0: name '' at file offset 57 is empty");
    start_tensors(&b, 1, 32);
    gb_u64(&b, 3), gb_bytes(&b, "a\0b", 3), gb_u32(&b, 1), gb_u64(&b, 8), gb_u32(&b, 0),
        gb_u64(&b, 0);
    EXPECT_FAIL(&b, "holding a NUL byte");
    start_tensors(&b, 2, 32);
    gb_tensor(&b, "w", 1, ne1, 0, 0);
    gb_tensor(&b, "w", 1, ne1, 0, 32);
    gb_pad(&b, 32), gb_bytes(&b, (uint8_t[64]){0}, 64);
    EXPECT_FAIL(&b, "tensor 1 'w': duplicate name (first used by tensor 0)");

    start_tensors(&b, 1, 32);
    gb_tensor(&b, "w", 0, ne1, 0, 0);
    gb_bytes(&b, (uint8_t[64]){0}, 64);
    EXPECT_FAIL(&b, "tensor 0 'w': n_dims = 0 (must be 1..4)");
    start_tensors(&b, 1, 32);
    gb_str(&b, "w"), gb_u32(&b, 5);
    gb_bytes(&b, (uint8_t[64]){0}, 64);
    EXPECT_FAIL(&b, "tensor 0 'w': n_dims = 5 (must be 1..4)");
    const int64_t ne_zero[2] = {8, 0}, ne_neg[2] = {-8, 1}, ne_big[2] = {1ll << 32, 1ll << 32},
                  ne_bytes[1] = {1ll << 62}, ne_q[1] = {33};
    start_tensors(&b, 1, 32);
    gb_tensor(&b, "w", 2, ne_zero, 0, 0);
    gb_bytes(&b, (uint8_t[64]){0}, 64);
    EXPECT_FAIL(&b, "tensor 0 'w': ne[1] = 0 (must be positive)");
    start_tensors(&b, 1, 32);
    gb_tensor(&b, "w", 2, ne_neg, 0, 0);
    gb_bytes(&b, (uint8_t[64]){0}, 64);
    EXPECT_FAIL(&b, "ne[0] = -8 (must be positive)");
    start_tensors(&b, 1, 32);
    gb_tensor(&b, "w", 2, ne_big, 0, 0);
    gb_bytes(&b, (uint8_t[64]){0}, 64);
    EXPECT_FAIL(&b, "element count of shape [4294967296, 4294967296, 1, 1] overflows int64");
    start_tensors(&b, 1, 32);
    gb_tensor(&b, "w", 1, ne_bytes, 0, 0);
    gb_bytes(&b, (uint8_t[64]){0}, 64);
    EXPECT_FAIL(&b, "byte size of 4611686018427387904 f32 elements overflows");
    start_tensors(&b, 1, 32);
    gb_tensor(&b, "w", 1, ne_q, LORA4J_TYPE_Q4_0, 0);
    gb_bytes(&b, (uint8_t[64]){0}, 64);
    EXPECT_FAIL(&b, "ne[0] = 33 is not a multiple of the q4_0 block size 32");
    static const uint32_t bad_types[] = {4, 31, 43, 0xFFFFFFFFu};
    static const char *const bad_msgs[] = {"unknown ggml type id 4", "unknown ggml type id 31",
                                           "unknown ggml type id 43",
                                           "unknown ggml type id 4294967295"};
    for (int k = 0; k < 4; k++) {
        start_tensors(&b, 1, 32);
        gb_tensor(&b, "w", 1, ne1, bad_types[k], 0);
        gb_bytes(&b, (uint8_t[64]){0}, 64);
        EXPECT_FAIL(&b, bad_msgs[k]);
    }
    start_tensors(&b, 1, 32);
    gb_str(&b, "w"), gb_u32(&b, 2), gb_u64(&b, 8);
    EXPECT_FAIL(&b, "tensor 0 'w': truncated: ne needs 8 bytes");
}

static void test_tensor_data(void) {
    static const int64_t ne1[1] = {8}; /* f32: 32 bytes */
    gbuf b = {0};
    start_tensors(&b, 1, 32);
    gb_tensor(&b, "w", 1, ne1, 0, 16);
    gb_pad(&b, 32), gb_bytes(&b, (uint8_t[64]){0}, 64);
    EXPECT_FAIL(&b, "tensor 0 'w': data offset 16 is not a multiple of the alignment 32");
    start_tensors(&b, 2, 32);
    gb_tensor(&b, "a", 1, ne1, 0, 0);
    gb_tensor(&b, "b", 1, ne1, 0, 0);
    gb_pad(&b, 32), gb_bytes(&b, (uint8_t[64]){0}, 64);
    EXPECT_FAIL(&b,
                "tensor 1 'b': data offset 0 overlaps tensor 0 'a' (its padded data ends at 32)");
    start_tensors(&b, 2, 32);
    gb_tensor(&b, "a", 1, ne1, 0, 32); /* out of order */
    gb_tensor(&b, "b", 1, ne1, 0, 0);
    gb_pad(&b, 32), gb_bytes(&b, (uint8_t[64]){0}, 64);
    EXPECT_FAIL(&b, "tensor 0 'a': data offset 32, expected 0");
    start_tensors(&b, 2, 32);
    gb_tensor(&b, "a", 1, ne1, 0, 0);
    gb_tensor(&b, "b", 1, ne1, 0, 64); /* gap */
    gb_pad(&b, 32), gb_bytes(&b, (uint8_t[128]){0}, 128);
    EXPECT_FAIL(&b, "tensor 1 'b': data offset 64, expected 32");
    start_tensors(&b, 2, 32);
    gb_tensor(&b, "a", 1, ne1, 0, 0);
    gb_tensor(&b, "b", 1, ne1, 0, 32);
    gb_pad(&b, 32); /* data section at 128: b at 160 */
    gb_bytes(&b, (uint8_t[60]){0}, 60);
    EXPECT_FAIL(
        &b, "tensor 1 'b': data [file offset 160, 32 bytes) extends past end of file (188 bytes)");
    start_tensors(&b, 1, 32);
    gb_tensor(&b, "a", 1, ne1, 0, UINT64_MAX - 31);
    gb_pad(&b, 32), gb_bytes(&b, (uint8_t[32]){0}, 32);
    EXPECT_FAIL(&b, "tensor 0 'a': data offset 18446744073709551584, expected 0");

    /* alignment 64 with the last tensor's padding cut: valid, as for llama.cpp */
    start_tensors(&b, 2, 64);
    gb_tensor(&b, "a", 1, ne1, 0, 0);
    gb_tensor(&b, "b", 1, ne1, 0, 64);
    gb_pad(&b, 64);
    uint64_t data_off = b.n;
    gb_bytes(&b, (uint8_t[96]){0}, 96);
    lora4j_gguf *g = open_bytes(&b);
    lora4j_tensor_info ti;
    CHECK(g && lora4j_gguf_alignment(g) == 64 && lora4j_gguf_data_offset(g) == data_off);
    CHECK(g && lora4j_gguf_tensor_info(g, 1, &ti) == LORA4J_OK && ti.offset == 64 &&
          ti.n_bytes == 32);
    lora4j_gguf_close(g);
}

/* ---- the valid base file for truncation and fuzzing ------------------------------------------ */

static uint8_t *make_base(size_t *n, uint64_t *required) {
    lora4j_gguf_writer *w = NULL;
    CHECK_OK(lora4j_gguf_writer_new(&w));
    uint32_t align = 32, u = 7;
    uint8_t t = 1;
    float f[5] = {1, 2, 3, 4, 5};
    const char *strs[] = {"alpha", "", "\xc3\xa9t\xc3\xa9"};
    CHECK_OK(lora4j_gguf_writer_set_scalar(w, "general.alignment", LORA4J_GGUF_UINT32, &align));
    CHECK_OK(lora4j_gguf_writer_set_string(w, "general.architecture", "llama", 5));
    CHECK_OK(lora4j_gguf_writer_set_scalar(w, "llama.block_count", LORA4J_GGUF_UINT32, &u));
    CHECK_OK(
        lora4j_gguf_writer_set_scalar(w, "tokenizer.ggml.add_bos_token", LORA4J_GGUF_BOOL, &t));
    CHECK_OK(lora4j_gguf_writer_set_array(w, "tokenizer.ggml.scores", LORA4J_GGUF_FLOAT32, f, 5));
    CHECK_OK(lora4j_gguf_writer_set_string_array(w, "tokenizer.ggml.tokens", strs, NULL, 3));
    uint8_t data[64];
    for (int j = 0; j < 64; j++) data[j] = (uint8_t)(j * 13 + 5);
    const int64_t ne_f[1] = {5}, ne_q[2] = {32, 2}, ne_i[1] = {3};
    CHECK_OK(
        lora4j_gguf_writer_add_tensor(w, "output_norm.weight", LORA4J_TYPE_F32, 1, ne_f, data, 20));
    CHECK_OK(lora4j_gguf_writer_add_tensor(w, "blk.0.attn_q.weight", LORA4J_TYPE_Q4_0, 2, ne_q,
                                           data, 36));
    CHECK_OK(lora4j_gguf_writer_add_tensor(w, "i8", LORA4J_TYPE_I8, 1, ne_i, data, 3));
    CHECK_OK(lora4j_gguf_writer_write(w, tmp_path("base.gguf")));
    lora4j_gguf_writer_free(w);
    lora4j_gguf *g = NULL;
    CHECK_OK(lora4j_gguf_open(tmp_path("base.gguf"), &g));
    lora4j_tensor_info ti = {0};
    CHECK_OK(lora4j_gguf_tensor_info(g, 2, &ti));
    *required = lora4j_gguf_data_offset(g) + ti.offset + ti.n_bytes;
    lora4j_gguf_close(g);
    return read_all(tmp_path("base.gguf"), n);
}

/* Every prefix shorter than the end of the last tensor's bytes fails cleanly; longer prefixes
 * only cut the final padding and stay valid. */
static void test_truncation(const uint8_t *base, size_t n, uint64_t required) {
    const char *path = tmp_path("trunc.gguf");
    int wrong = 0, failed = 0;
    for (size_t len = 0; len < n; len++) {
        write_bytes(path, base, len);
        lora4j_gguf *g = NULL;
        lora4j_status_t st = lora4j_gguf_open(path, &g);
        int want_ok = len >= required;
        if ((st == LORA4J_OK) != want_ok ||
            (st != LORA4J_OK && (st != LORA4J_ERR_FORMAT || g != NULL ||
                                 strncmp(lora4j_last_error(), path, strlen(path)) != 0))) {
            if (wrong++ < 5)
                fprintf(stderr, "truncated to %zu bytes: status %d, \"%s\"\n", len, st,
                        lora4j_last_error());
        }
        failed += st != LORA4J_OK;
        lora4j_gguf_close(g);
    }
    CHECK(wrong == 0);
    CHECK(failed == (int)required);
    printf("truncation: %zu prefixes, %d rejected\n", n, failed);
}

/* Walk everything an opened file exposes, touching every byte the accessors hand out. */
static uint64_t touch_all(const lora4j_gguf *g) {
    uint64_t sum = 0;
    for (int64_t i = 0; i < lora4j_gguf_n_kv(g); i++) {
        int32_t type = lora4j_gguf_kv_type(g, i), et;
        const char *s;
        uint64_t len, n;
        int64_t iv;
        double fv;
        sum += strlen(lora4j_gguf_key(g, i));
        if (type == LORA4J_GGUF_STRING) {
            if (lora4j_gguf_get_string(g, i, &s, &len) == LORA4J_OK) sum += len + (uint8_t)s[len];
        } else if (type == LORA4J_GGUF_ARRAY) {
            if (lora4j_gguf_get_array_info(g, i, &et, &n) != LORA4J_OK) continue;
            for (uint64_t j = 0; et == LORA4J_GGUF_STRING && j < n; j++) {
                if (lora4j_gguf_get_array_string(g, i, j, &s, &len) == LORA4J_OK)
                    sum += len + (uint8_t)s[len];
            }
            const void *d;
            if (et != LORA4J_GGUF_STRING && lora4j_gguf_get_array_data(g, i, &d) == LORA4J_OK &&
                n) {
                sum += ((const uint8_t *)d)[0];
            }
        } else if (lora4j_gguf_get_scalar(g, i, &iv, &fv) == LORA4J_OK) {
            sum++;
        }
    }
    for (int64_t i = 0; i < lora4j_gguf_n_tensors(g); i++) {
        lora4j_tensor_info ti;
        if (lora4j_gguf_tensor_info(g, i, &ti) != LORA4J_OK) continue;
        const uint8_t *d = ti.data;
        for (uint64_t j = 0; j < ti.n_bytes; j++) sum += d[j];
        sum += lora4j_gguf_find_tensor(g, ti.name) == i;
    }
    return sum;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void) { /* xorshift64*: fixed seed, reproducible */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static void test_fuzz(const uint8_t *base, size_t n, int iterations) {
    static const uint64_t interesting[] = {0,
                                           1,
                                           0x7F,
                                           0xFF,
                                           0xFFFF,
                                           0xFFFFFFFFu,
                                           0x80000000u,
                                           (uint64_t)INT64_MAX,
                                           (uint64_t)INT64_MIN,
                                           UINT64_MAX,
                                           1ull << 32,
                                           64,
                                           4096};
    const char *path = tmp_path("fuzz.gguf");
    uint8_t *buf = malloc(n + 64);
    int opened = 0, rejected = 0, bad = 0;
    uint64_t sum = 0;
    for (int it = 0; it < iterations; it++) {
        memcpy(buf, base, n);
        size_t len = n;
        int edits = 1 + (int)(rng() % 4);
        for (int e = 0; e < edits; e++) {
            size_t pos = (size_t)(rng() % n);
            switch (rng() % 4) {
            case 0: buf[pos] ^= (uint8_t)(1u << (rng() % 8)); break; /* bit flip */
            case 1: buf[pos] = (uint8_t)rng(); break;                /* random byte */
            case 2: /* interesting 8/4-byte field */
                if (pos + 8 <= n) {
                    uint64_t v = interesting[rng() % (sizeof interesting / sizeof interesting[0])];
                    memcpy(buf + pos, &v, rng() % 2 ? 8 : 4);
                }
                break;
            default: len = (size_t)(rng() % n); break; /* truncate */
            }
        }
        write_bytes(path, buf, len);
        lora4j_gguf *g = NULL;
        lora4j_status_t st = lora4j_gguf_open(path, &g);
        if (st == LORA4J_OK) {
            opened++;
            sum += touch_all(g);
            lora4j_gguf_close(g);
        } else {
            rejected++;
            bad +=
                st != LORA4J_ERR_FORMAT || g != NULL || strlen(lora4j_last_error()) <= strlen(path);
        }
    }
    free(buf);
    CHECK(bad == 0);
    CHECK(opened + rejected == iterations && rejected > iterations / 2);
    printf("fuzz: %d iterations, %d opened (checksum %llu), %d rejected\n", iterations, opened,
           (unsigned long long)sum, rejected);
}

int main(void) {
    tmpdir_make();
    test_header();
    test_kvs();
    test_tensor_infos();
    test_tensor_data();
    size_t n = 0;
    uint64_t required = 0;
    uint8_t *base = make_base(&n, &required);
    CHECK(base != NULL && required < n); /* the last tensor has padding that may be cut */
    if (base) {
        test_truncation(base, n, required);
        test_fuzz(base, n, 4000);
    }
    free(base);
    tmpdir_remove();
    return test_summary("test_gguf_corrupt");
}
