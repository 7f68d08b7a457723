/* GGUF writer -> reader round trips: every value and array type, replacement/removal/copy of
 * keys, tensors of several types and shapes under default and custom alignment, the exact byte
 * layout, and the writer's argument validation. */
#include <float.h>
#include <math.h>

#include "gguf_test.h"

static const char *write_and_open(lora4j_gguf_writer *w, const char *name, lora4j_gguf **g) {
    const char *path = tmp_path(name);
    *g = NULL;
    CHECK_OK(lora4j_gguf_writer_write(w, path));
    CHECK_OK(lora4j_gguf_open(path, g));
    return path;
}

/* Sample values of every numeric/BOOL type, with extremes. */
static const uint8_t v_u8 = 255;
static const int8_t v_i8 = -128;
static const uint16_t v_u16 = 65535;
static const int16_t v_i16 = -32768;
static const uint32_t v_u32 = 4000000000u;
static const int32_t v_i32 = INT32_MIN;
static const float v_f32 = -0.0f;
static const uint8_t v_bool = 1;
static const uint64_t v_u64 = UINT64_MAX;
static const int64_t v_i64 = INT64_MIN;
static const double v_f64 = 3.141592653589793;

static const char *k_unicode =
    "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";

static void fill_values(lora4j_gguf_writer *w) {
    CHECK_OK(lora4j_gguf_writer_set_scalar(w, "t.u8", LORA4J_GGUF_UINT8, &v_u8));
    CHECK_OK(lora4j_gguf_writer_set_scalar(w, "t.i8", LORA4J_GGUF_INT8, &v_i8));
    CHECK_OK(lora4j_gguf_writer_set_scalar(w, "t.u16", LORA4J_GGUF_UINT16, &v_u16));
    CHECK_OK(lora4j_gguf_writer_set_scalar(w, "t.i16", LORA4J_GGUF_INT16, &v_i16));
    CHECK_OK(lora4j_gguf_writer_set_scalar(w, "t.u32", LORA4J_GGUF_UINT32, &v_u32));
    CHECK_OK(lora4j_gguf_writer_set_scalar(w, "t.i32", LORA4J_GGUF_INT32, &v_i32));
    CHECK_OK(lora4j_gguf_writer_set_scalar(w, "t.f32", LORA4J_GGUF_FLOAT32, &v_f32));
    CHECK_OK(lora4j_gguf_writer_set_scalar(w, "t.bool", LORA4J_GGUF_BOOL, &v_bool));
    CHECK_OK(lora4j_gguf_writer_set_scalar(w, "t.u64", LORA4J_GGUF_UINT64, &v_u64));
    CHECK_OK(lora4j_gguf_writer_set_scalar(w, "t.i64", LORA4J_GGUF_INT64, &v_i64));
    CHECK_OK(lora4j_gguf_writer_set_scalar(w, "t.f64", LORA4J_GGUF_FLOAT64, &v_f64));
    CHECK_OK(lora4j_gguf_writer_set_string(w, "s.unicode", k_unicode, strlen(k_unicode)));
    CHECK_OK(lora4j_gguf_writer_set_string(w, "s.empty", NULL, 0));
    CHECK_OK(lora4j_gguf_writer_set_string(w, "s.nul", "a\0b", 3));

    static const uint8_t a_u8[] = {0, 1, 255};
    static const int8_t a_i8[] = {-1, 0, 127};
    static const uint16_t a_u16[] = {1, 65535};
    static const int16_t a_i16[] = {-2, 2};
    static const uint32_t a_u32[] = {1, 2, 3, 4};
    static const int32_t a_i32[] = {-5, 6, INT32_MAX};
    static const float a_f32[] = {1.5f, -FLT_MAX, FLT_MIN};
    static const uint8_t a_bool[] = {0, 1, 1, 0};
    static const uint64_t a_u64[] = {UINT64_MAX, 0};
    static const int64_t a_i64[] = {INT64_MIN, INT64_MAX, 0};
    static const double a_f64[] = {-DBL_MAX, 1e-300};
    CHECK_OK(lora4j_gguf_writer_set_array(w, "a.u8", LORA4J_GGUF_UINT8, a_u8, 3));
    CHECK_OK(lora4j_gguf_writer_set_array(w, "a.i8", LORA4J_GGUF_INT8, a_i8, 3));
    CHECK_OK(lora4j_gguf_writer_set_array(w, "a.u16", LORA4J_GGUF_UINT16, a_u16, 2));
    CHECK_OK(lora4j_gguf_writer_set_array(w, "a.i16", LORA4J_GGUF_INT16, a_i16, 2));
    CHECK_OK(lora4j_gguf_writer_set_array(w, "a.u32", LORA4J_GGUF_UINT32, a_u32, 4));
    CHECK_OK(lora4j_gguf_writer_set_array(w, "a.i32", LORA4J_GGUF_INT32, a_i32, 3));
    CHECK_OK(lora4j_gguf_writer_set_array(w, "a.f32", LORA4J_GGUF_FLOAT32, a_f32, 3));
    CHECK_OK(lora4j_gguf_writer_set_array(w, "a.bool", LORA4J_GGUF_BOOL, a_bool, 4));
    CHECK_OK(lora4j_gguf_writer_set_array(w, "a.u64", LORA4J_GGUF_UINT64, a_u64, 2));
    CHECK_OK(lora4j_gguf_writer_set_array(w, "a.i64", LORA4J_GGUF_INT64, a_i64, 3));
    CHECK_OK(lora4j_gguf_writer_set_array(w, "a.f64", LORA4J_GGUF_FLOAT64, a_f64, 2));
    CHECK_OK(lora4j_gguf_writer_set_array(w, "a.empty", LORA4J_GGUF_INT32, NULL, 0));
    const char *strs[] = {"a", "", k_unicode, "x y"};
    const uint64_t lens[] = {1, 0, strlen(k_unicode), 3};
    CHECK_OK(lora4j_gguf_writer_set_string_array(w, "a.str", strs, lens, 4));
    CHECK_OK(lora4j_gguf_writer_set_string_array(w, "a.str_nul_terminated", strs, NULL, 4));
    CHECK_OK(lora4j_gguf_writer_set_string_array(w, "a.str_empty", NULL, NULL, 0));
}

static void check_scalar_i(const lora4j_gguf *g, const char *key, int32_t type, int64_t want) {
    int64_t i = lora4j_gguf_find_key(g, key), v = 0;
    CHECK(i >= 0);
    CHECK(lora4j_gguf_kv_type(g, i) == type);
    CHECK_OK(lora4j_gguf_get_scalar(g, i, &v, NULL));
    CHECK(v == want);
}

static void check_scalar_f(const lora4j_gguf *g, const char *key, int32_t type, double want) {
    int64_t i = lora4j_gguf_find_key(g, key);
    double v = 1;
    CHECK(i >= 0);
    CHECK(lora4j_gguf_kv_type(g, i) == type);
    CHECK_OK(lora4j_gguf_get_scalar(g, i, NULL, &v));
    CHECK(memcmp(&v, &want, sizeof v) == 0); /* bitwise: -0.0 must stay -0.0 */
}

static void check_array(const lora4j_gguf *g, const char *key, int32_t type, const void *want,
                        uint64_t n, size_t elem) {
    int64_t i = lora4j_gguf_find_key(g, key);
    int32_t t = -1;
    uint64_t got_n = 99;
    const void *data = NULL;
    CHECK(i >= 0 && lora4j_gguf_kv_type(g, i) == LORA4J_GGUF_ARRAY);
    CHECK_OK(lora4j_gguf_get_array_info(g, i, &t, &got_n));
    CHECK(t == type && got_n == n);
    CHECK_OK(lora4j_gguf_get_array_data(g, i, &data));
    CHECK(data != NULL && (n == 0 || memcmp(data, want, n * elem) == 0));
    CHECK((uintptr_t)data % elem == 0);
}

static void check_values(const lora4j_gguf *g) {
    CHECK(lora4j_gguf_n_kv(g) == 29);
    CHECK(strcmp(lora4j_gguf_key(g, 0), "t.u8") == 0); /* insertion order */
    CHECK(strcmp(lora4j_gguf_key(g, 28), "a.str_empty") == 0);
    CHECK(lora4j_gguf_key(g, 29) == NULL && lora4j_gguf_key(g, -1) == NULL);
    CHECK(lora4j_gguf_kv_type(g, 29) == -1);
    check_scalar_i(g, "t.u8", LORA4J_GGUF_UINT8, 255);
    check_scalar_i(g, "t.i8", LORA4J_GGUF_INT8, -128);
    check_scalar_i(g, "t.u16", LORA4J_GGUF_UINT16, 65535);
    check_scalar_i(g, "t.i16", LORA4J_GGUF_INT16, -32768);
    check_scalar_i(g, "t.u32", LORA4J_GGUF_UINT32, 4000000000ll);
    check_scalar_i(g, "t.i32", LORA4J_GGUF_INT32, INT32_MIN);
    check_scalar_i(g, "t.bool", LORA4J_GGUF_BOOL, 1);
    check_scalar_i(g, "t.u64", LORA4J_GGUF_UINT64, -1); /* bit pattern of UINT64_MAX */
    check_scalar_i(g, "t.i64", LORA4J_GGUF_INT64, INT64_MIN);
    check_scalar_f(g, "t.f32", LORA4J_GGUF_FLOAT32, -0.0);
    check_scalar_f(g, "t.f64", LORA4J_GGUF_FLOAT64, v_f64);

    const char *s = NULL;
    uint64_t len = 99;
    CHECK_OK(lora4j_gguf_get_string(g, lora4j_gguf_find_key(g, "s.unicode"), &s, &len));
    CHECK(len == strlen(k_unicode) && strcmp(s, k_unicode) == 0);
    CHECK_OK(lora4j_gguf_get_string(g, lora4j_gguf_find_key(g, "s.empty"), &s, &len));
    CHECK(len == 0 && s[0] == '\0');
    CHECK_OK(lora4j_gguf_get_string(g, lora4j_gguf_find_key(g, "s.nul"), &s, &len));
    CHECK(len == 3 && memcmp(s, "a\0b", 4) == 0);

    static const uint8_t a_u8[] = {0, 1, 255};
    static const int8_t a_i8[] = {-1, 0, 127};
    static const uint16_t a_u16[] = {1, 65535};
    static const int16_t a_i16[] = {-2, 2};
    static const uint32_t a_u32[] = {1, 2, 3, 4};
    static const int32_t a_i32[] = {-5, 6, INT32_MAX};
    static const float a_f32[] = {1.5f, -FLT_MAX, FLT_MIN};
    static const uint8_t a_bool[] = {0, 1, 1, 0};
    static const uint64_t a_u64[] = {UINT64_MAX, 0};
    static const int64_t a_i64[] = {INT64_MIN, INT64_MAX, 0};
    static const double a_f64[] = {-DBL_MAX, 1e-300};
    check_array(g, "a.u8", LORA4J_GGUF_UINT8, a_u8, 3, 1);
    check_array(g, "a.i8", LORA4J_GGUF_INT8, a_i8, 3, 1);
    check_array(g, "a.u16", LORA4J_GGUF_UINT16, a_u16, 2, 2);
    check_array(g, "a.i16", LORA4J_GGUF_INT16, a_i16, 2, 2);
    check_array(g, "a.u32", LORA4J_GGUF_UINT32, a_u32, 4, 4);
    check_array(g, "a.i32", LORA4J_GGUF_INT32, a_i32, 3, 4);
    check_array(g, "a.f32", LORA4J_GGUF_FLOAT32, a_f32, 3, 4);
    check_array(g, "a.bool", LORA4J_GGUF_BOOL, a_bool, 4, 1);
    check_array(g, "a.u64", LORA4J_GGUF_UINT64, a_u64, 2, 8);
    check_array(g, "a.i64", LORA4J_GGUF_INT64, a_i64, 3, 8);
    check_array(g, "a.f64", LORA4J_GGUF_FLOAT64, a_f64, 2, 8);
    check_array(g, "a.empty", LORA4J_GGUF_INT32, NULL, 0, 4);

    const char *want[] = {"a", "", k_unicode, "x y"};
    for (int k = 0; k < 2; k++) {
        int64_t i = lora4j_gguf_find_key(g, k ? "a.str_nul_terminated" : "a.str");
        int32_t t;
        uint64_t n;
        CHECK_OK(lora4j_gguf_get_array_info(g, i, &t, &n));
        CHECK(t == LORA4J_GGUF_STRING && n == 4);
        for (uint64_t j = 0; j < 4; j++) {
            CHECK_OK(lora4j_gguf_get_array_string(g, i, j, &s, &len));
            CHECK(len == strlen(want[j]) && strcmp(s, want[j]) == 0);
        }
        CHECK_FAIL(lora4j_gguf_get_array_string(g, i, 4, &s, &len), LORA4J_ERR_INVALID_ARGUMENT,
                   "element 4 out of range");
        CHECK_FAIL(lora4j_gguf_get_array_data(g, i, NULL), LORA4J_ERR_INVALID_ARGUMENT,
                   "is an ARRAY of STRING");
    }
    int64_t e = lora4j_gguf_find_key(g, "a.str_empty");
    int32_t t;
    uint64_t n = 9;
    CHECK_OK(lora4j_gguf_get_array_info(g, e, &t, &n));
    CHECK(t == LORA4J_GGUF_STRING && n == 0);

    /* wrong-type and out-of-range accessors are errors, not crashes */
    int64_t u32 = lora4j_gguf_find_key(g, "t.u32");
    CHECK_FAIL(lora4j_gguf_get_string(g, u32, &s, &len), LORA4J_ERR_INVALID_ARGUMENT,
               "'t.u32' is UINT32, not a STRING");
    CHECK_FAIL(lora4j_gguf_get_array_info(g, u32, &t, &n), LORA4J_ERR_INVALID_ARGUMENT,
               "not an ARRAY");
    CHECK_FAIL(lora4j_gguf_get_scalar(g, lora4j_gguf_find_key(g, "a.u8"), NULL, NULL),
               LORA4J_ERR_INVALID_ARGUMENT, "is an ARRAY of UINT8");
    CHECK_FAIL(lora4j_gguf_get_scalar(g, lora4j_gguf_find_key(g, "s.empty"), NULL, NULL),
               LORA4J_ERR_INVALID_ARGUMENT, "is STRING");
    CHECK_FAIL(lora4j_gguf_get_scalar(g, 29, NULL, NULL), LORA4J_ERR_INVALID_ARGUMENT,
               "kv index 29 out of range");
    CHECK_FAIL(lora4j_gguf_get_scalar(NULL, 0, NULL, NULL), LORA4J_ERR_INVALID_ARGUMENT,
               "gguf is NULL");
    CHECK(lora4j_gguf_find_key(g, "no.such.key") == -1);
    CHECK(lora4j_gguf_find_key(g, NULL) == -1 && lora4j_gguf_find_key(NULL, "t.u8") == -1);
    CHECK(lora4j_gguf_n_tensors(g) == 0);
}

static void test_values(void) {
    lora4j_gguf_writer *w = NULL;
    CHECK_OK(lora4j_gguf_writer_new(&w));
    fill_values(w);
    lora4j_gguf *g;
    write_and_open(w, "values.gguf", &g);
    if (g) {
        CHECK(lora4j_gguf_version(g) == 3 && lora4j_gguf_alignment(g) == 32);
        check_values(g);
    }

    /* copy_kv of every entry into a fresh writer reproduces the file byte for byte */
    lora4j_gguf_writer *w2 = NULL;
    CHECK_OK(lora4j_gguf_writer_new(&w2));
    for (int64_t i = 0; g && i < lora4j_gguf_n_kv(g); i++)
        CHECK_OK(lora4j_gguf_writer_copy_kv(w2, g, i));
    CHECK_FAIL(lora4j_gguf_writer_copy_kv(w2, g, 29), LORA4J_ERR_INVALID_ARGUMENT, "out of range");
    CHECK_OK(lora4j_gguf_writer_write(w2, tmp_path("values_copy.gguf")));
    size_t n1 = 0, n2 = 0;
    uint8_t *b1 = read_all(tmp_path("values.gguf"), &n1),
            *b2 = read_all(tmp_path("values_copy.gguf"), &n2);
    CHECK(b1 && b2 && n1 == n2 && memcmp(b1, b2, n1) == 0);
    free(b1);
    free(b2);
    lora4j_gguf_close(g);
    lora4j_gguf_writer_free(w);
    lora4j_gguf_writer_free(w2);
}

static void test_replace_and_remove(void) {
    lora4j_gguf_writer *w = NULL;
    CHECK_OK(lora4j_gguf_writer_new(&w));
    uint32_t one = 1, two = 2;
    CHECK_OK(lora4j_gguf_writer_set_scalar(w, "k.a", LORA4J_GGUF_UINT32, &one));
    CHECK_OK(lora4j_gguf_writer_set_string(w, "k.b", "x", 1));
    CHECK_OK(lora4j_gguf_writer_set_scalar(w, "k.c", LORA4J_GGUF_UINT32, &two));
    CHECK_OK(lora4j_gguf_writer_set_string(w, "k.a", "now a string", 12)); /* replaced in place */
    CHECK_OK(lora4j_gguf_writer_set_scalar(w, "k.c", LORA4J_GGUF_UINT32, &one));
    CHECK_OK(lora4j_gguf_writer_remove_key(w, "k.b"));
    CHECK_FAIL(lora4j_gguf_writer_remove_key(w, "k.b"), LORA4J_ERR_NOT_FOUND, "no key 'k.b'");
    lora4j_gguf *g;
    write_and_open(w, "replace.gguf", &g);
    if (g) {
        CHECK(lora4j_gguf_n_kv(g) == 2);
        CHECK(strcmp(lora4j_gguf_key(g, 0), "k.a") == 0 &&
              strcmp(lora4j_gguf_key(g, 1), "k.c") == 0);
        const char *s;
        uint64_t len;
        CHECK_OK(lora4j_gguf_get_string(g, 0, &s, &len));
        CHECK(len == 12 && strcmp(s, "now a string") == 0);
        check_scalar_i(g, "k.c", LORA4J_GGUF_UINT32, 1);
    }
    lora4j_gguf_close(g);
    lora4j_gguf_writer_free(w);
}

typedef struct tensor_case {
    const char *name;
    int32_t type;
    int32_t n_dims;
    int64_t ne[4];
    uint64_t n_bytes;
} tensor_case;

static const tensor_case k_tensors[] = {
    {"f32.vec", LORA4J_TYPE_F32, 1, {7}, 28},
    {"f16.mat", LORA4J_TYPE_F16, 2, {5, 3}, 30},
    {"blk.0.attn_q.weight", LORA4J_TYPE_Q4_0, 2, {64, 2}, 2 * 2 * 18},
    {"q8_0.3d", LORA4J_TYPE_Q8_0, 3, {32, 3, 2}, 6 * 34},
    {"q4_K.mat", LORA4J_TYPE_Q4_K, 2, {256, 2}, 2 * 144},
    {"iq2_xxs.mat", 16, 2, {256, 1}, 66}, /* no kernels, known geometry: still readable */
    {"i32.4d", LORA4J_TYPE_I32, 4, {2, 2, 2, 2}, 64},
    {"bf16.row", LORA4J_TYPE_BF16, 1, {3}, 6},
    {"a_name_of_exactly_sixty_three_bytes_0123456789_0123456789_01234",
     LORA4J_TYPE_Q6_K,
     2,
     {256, 1},
     210},
};
#define N_TENSORS (sizeof k_tensors / sizeof k_tensors[0])

static uint8_t pattern_byte(size_t t, uint64_t j) { return (uint8_t)(t * 31 + j * 7 + 1); }

/* Write k_tensors (with general.alignment = alignment unless 0) and check everything back. */
static void test_tensors(uint32_t alignment) {
    char fname[64];
    snprintf(fname, sizeof fname, "tensors_%u.gguf", alignment);
    lora4j_gguf_writer *w = NULL;
    CHECK_OK(lora4j_gguf_writer_new(&w));
    CHECK_OK(lora4j_gguf_writer_set_string(w, "general.architecture", "llama", 5));
    if (alignment)
        CHECK_OK(
            lora4j_gguf_writer_set_scalar(w, "general.alignment", LORA4J_GGUF_UINT32, &alignment));
    uint32_t a = alignment ? alignment : 32;
    CHECK(strlen(k_tensors[N_TENSORS - 1].name) == 63);
    for (size_t t = 0; t < N_TENSORS; t++) {
        uint8_t *data = malloc(k_tensors[t].n_bytes);
        for (uint64_t j = 0; j < k_tensors[t].n_bytes; j++) data[j] = pattern_byte(t, j);
        CHECK_OK(lora4j_gguf_writer_add_tensor(w, k_tensors[t].name, k_tensors[t].type,
                                               k_tensors[t].n_dims, k_tensors[t].ne, data,
                                               k_tensors[t].n_bytes));
        free(data);
    }
    lora4j_gguf *g;
    const char *path = write_and_open(w, fname, &g);
    size_t file_n = 0;
    uint8_t *file = read_all(path, &file_n);
    if (!g || !file) {
        CHECK(0);
        lora4j_gguf_close(g);
        free(file);
        lora4j_gguf_writer_free(w);
        return;
    }
    CHECK(lora4j_gguf_alignment(g) == a);
    uint64_t data_off = lora4j_gguf_data_offset(g);
    CHECK(data_off % a == 0);
    CHECK(lora4j_gguf_n_tensors(g) == (int64_t)N_TENSORS);
    uint64_t expect_off = 0, prev_end = data_off; /* header padding: see test_exact_layout */
    for (size_t t = 0; t < N_TENSORS; t++) {
        lora4j_tensor_info ti;
        CHECK_OK(lora4j_gguf_tensor_info(g, (int64_t)t, &ti));
        CHECK(lora4j_gguf_find_tensor(g, k_tensors[t].name) == (int64_t)t);
        CHECK(strcmp(ti.name, k_tensors[t].name) == 0);
        CHECK(ti.type == k_tensors[t].type && ti.n_dims == k_tensors[t].n_dims);
        for (int d = 0; d < 4; d++)
            CHECK(ti.ne[d] == (d < k_tensors[t].n_dims ? k_tensors[t].ne[d] : 1));
        CHECK(ti.n_bytes == k_tensors[t].n_bytes);
        CHECK(ti.offset == expect_off);
        CHECK(ti.data != NULL && (uintptr_t)ti.data % a == 0); /* mappings are page-aligned */
        int same = 1;
        for (uint64_t j = 0; j < ti.n_bytes; j++)
            same &= ((const uint8_t *)ti.data)[j] == pattern_byte(t, j);
        CHECK(same);
        /* padding between the previous tensor and this one is zero in the file */
        for (uint64_t p = prev_end; p < data_off + ti.offset; p++) same &= file[p] == 0;
        CHECK(same);
        prev_end = data_off + ti.offset + ti.n_bytes;
        expect_off += (ti.n_bytes + a - 1) / a * a;
    }
    CHECK(file_n == data_off + expect_off); /* the last tensor is padded too */
    int zeros = 1;
    for (uint64_t p = prev_end; p < file_n; p++) zeros &= file[p] == 0;
    CHECK(zeros);
    CHECK(lora4j_gguf_find_tensor(g, "missing") == -1);
    lora4j_tensor_info ti;
    CHECK_FAIL(lora4j_gguf_tensor_info(g, (int64_t)N_TENSORS, &ti), LORA4J_ERR_INVALID_ARGUMENT,
               "out of range");
    free(file);
    lora4j_gguf_close(g);
    lora4j_gguf_writer_free(w);
}

/* The exact bytes of a tiny file, built independently from the format description. */
static void test_exact_layout(void) {
    lora4j_gguf_writer *w = NULL;
    CHECK_OK(lora4j_gguf_writer_new(&w));
    uint8_t seven = 7;
    CHECK_OK(lora4j_gguf_writer_set_scalar(w, "a.b", LORA4J_GGUF_UINT8, &seven));
    const char *toks[] = {"x", "yz"};
    CHECK_OK(lora4j_gguf_writer_set_string_array(w, "tok", toks, NULL, 2));
    const float vals[3] = {1, 2, 3};
    const int64_t ne[1] = {3};
    CHECK_OK(lora4j_gguf_writer_add_tensor(w, "t", LORA4J_TYPE_F32, 1, ne, vals, 12));
    CHECK_OK(lora4j_gguf_writer_add_tensor(w, "u", LORA4J_TYPE_F32, 1, ne, vals, 12));
    CHECK_OK(lora4j_gguf_writer_write(w, tmp_path("exact.gguf")));

    gbuf e = {0};
    gb_header(&e, 3, 2, 2);
    gb_str(&e, "a.b");
    gb_u32(&e, LORA4J_GGUF_UINT8);
    gb_u8(&e, 7);
    gb_str(&e, "tok");
    gb_u32(&e, LORA4J_GGUF_ARRAY);
    gb_u32(&e, LORA4J_GGUF_STRING);
    gb_u64(&e, 2);
    gb_str(&e, "x");
    gb_str(&e, "yz");
    gb_tensor(&e, "t", 1, ne, LORA4J_TYPE_F32, 0);
    gb_tensor(&e, "u", 1, ne, LORA4J_TYPE_F32, 32);
    gb_pad(&e, 32);
    gb_bytes(&e, vals, 12);
    gb_pad(&e, 32);
    gb_bytes(&e, vals, 12);
    gb_pad(&e, 32);
    size_t n = 0;
    uint8_t *got = read_all(tmp_path("exact.gguf"), &n);
    CHECK(got && n == e.n && memcmp(got, e.p, n) == 0);
    free(got);

    /* without tensors the file ends right after the metadata (no padding) */
    gbuf m = {0};
    gb_header(&m, 3, 0, 1);
    gb_str(&m, "a.b");
    gb_u32(&m, LORA4J_GGUF_UINT8);
    gb_u8(&m, 7);
    lora4j_gguf_writer *w2 = NULL;
    CHECK_OK(lora4j_gguf_writer_new(&w2));
    CHECK_OK(lora4j_gguf_writer_set_scalar(w2, "a.b", LORA4J_GGUF_UINT8, &seven));
    CHECK_OK(lora4j_gguf_writer_write(w2, tmp_path("meta_only.gguf")));
    got = read_all(tmp_path("meta_only.gguf"), &n);
    CHECK(got && n == m.n && memcmp(got, m.p, n) == 0);
    lora4j_gguf *g = NULL;
    CHECK_OK(lora4j_gguf_open(tmp_path("meta_only.gguf"), &g));
    CHECK(lora4j_gguf_data_offset(g) == 64); /* align_up(36, 32), though the file ends at 36 */
    lora4j_gguf_close(g);
    free(got);
    free(e.p);
    free(m.p);
    lora4j_gguf_writer_free(w);
    lora4j_gguf_writer_free(w2);
}

static void test_writer_validation(void) {
    lora4j_gguf_writer *w = NULL;
    CHECK_OK(lora4j_gguf_writer_new(&w));
    uint32_t u = 1;
    int32_t i32 = 32;
    uint8_t two = 2;
    CHECK_FAIL(lora4j_gguf_writer_new(NULL), LORA4J_ERR_INVALID_ARGUMENT, "out is NULL");
    CHECK_FAIL(lora4j_gguf_writer_set_scalar(w, NULL, LORA4J_GGUF_UINT32, &u),
               LORA4J_ERR_INVALID_ARGUMENT, "key is NULL or empty");
    CHECK_FAIL(lora4j_gguf_writer_set_scalar(w, "", LORA4J_GGUF_UINT32, &u),
               LORA4J_ERR_INVALID_ARGUMENT, "key is NULL or empty");
    CHECK_FAIL(lora4j_gguf_writer_set_scalar(NULL, "k", LORA4J_GGUF_UINT32, &u),
               LORA4J_ERR_INVALID_ARGUMENT, "writer is NULL");
    CHECK_FAIL(lora4j_gguf_writer_set_scalar(w, "k", LORA4J_GGUF_UINT32, NULL),
               LORA4J_ERR_INVALID_ARGUMENT, "value is NULL");
    CHECK_FAIL(lora4j_gguf_writer_set_scalar(w, "k", LORA4J_GGUF_STRING, &u),
               LORA4J_ERR_INVALID_ARGUMENT, "STRING) is not a numeric");
    CHECK_FAIL(lora4j_gguf_writer_set_scalar(w, "k", LORA4J_GGUF_ARRAY, &u),
               LORA4J_ERR_INVALID_ARGUMENT, "ARRAY) is not a numeric");
    CHECK_FAIL(lora4j_gguf_writer_set_scalar(w, "k", 13, &u), LORA4J_ERR_INVALID_ARGUMENT,
               "type 13 (unknown)");
    CHECK_FAIL(lora4j_gguf_writer_set_scalar(w, "k", -1, &u), LORA4J_ERR_INVALID_ARGUMENT,
               "type -1 (unknown)");
    CHECK_FAIL(lora4j_gguf_writer_set_scalar(w, "k", LORA4J_GGUF_BOOL, &two),
               LORA4J_ERR_INVALID_ARGUMENT, "BOOL element 0 is 2");
    const uint8_t bools[] = {1, 0, 2};
    CHECK_FAIL(lora4j_gguf_writer_set_array(w, "k", LORA4J_GGUF_BOOL, bools, 3),
               LORA4J_ERR_INVALID_ARGUMENT, "BOOL element 2 is 2");
    CHECK_FAIL(lora4j_gguf_writer_set_array(w, "k", LORA4J_GGUF_UINT32, NULL, 2),
               LORA4J_ERR_INVALID_ARGUMENT, "data is NULL");
    CHECK_FAIL(lora4j_gguf_writer_set_array(w, "k", LORA4J_GGUF_STRING, &u, 1),
               LORA4J_ERR_INVALID_ARGUMENT, "not a numeric");
    CHECK_FAIL(lora4j_gguf_writer_set_array(w, "k", LORA4J_GGUF_UINT64, &u, UINT64_MAX / 4),
               LORA4J_ERR_INVALID_ARGUMENT, "overflow");
    CHECK_FAIL(lora4j_gguf_writer_set_string(w, "k", NULL, 3), LORA4J_ERR_INVALID_ARGUMENT,
               "string 0 is NULL");
    CHECK_FAIL(lora4j_gguf_writer_set_string_array(w, "k", NULL, NULL, 2),
               LORA4J_ERR_INVALID_ARGUMENT, "strings are NULL");
    /* general.alignment must be a UINT32 power of two, however it is set */
    uint32_t a48 = 48, a0 = 0;
    CHECK_FAIL(lora4j_gguf_writer_set_scalar(w, "general.alignment", LORA4J_GGUF_INT32, &i32),
               LORA4J_ERR_INVALID_ARGUMENT, "must be a UINT32, not INT32");
    CHECK_FAIL(lora4j_gguf_writer_set_scalar(w, "general.alignment", LORA4J_GGUF_UINT32, &a48),
               LORA4J_ERR_INVALID_ARGUMENT, "48 is not a power of two");
    CHECK_FAIL(lora4j_gguf_writer_set_scalar(w, "general.alignment", LORA4J_GGUF_UINT32, &a0),
               LORA4J_ERR_INVALID_ARGUMENT, "0 is not a power of two");
    CHECK_FAIL(lora4j_gguf_writer_set_string(w, "general.alignment", "32", 2),
               LORA4J_ERR_INVALID_ARGUMENT, "not STRING");
    CHECK_FAIL(lora4j_gguf_writer_set_array(w, "general.alignment", LORA4J_GGUF_UINT32, &u, 1),
               LORA4J_ERR_INVALID_ARGUMENT, "not an ARRAY of UINT32");

    float f[64] = {0};
    int64_t ne2[2] = {4, 2};
    CHECK_FAIL(lora4j_gguf_writer_add_tensor(w, NULL, LORA4J_TYPE_F32, 2, ne2, f, 32),
               LORA4J_ERR_INVALID_ARGUMENT, "NULL argument");
    CHECK_FAIL(lora4j_gguf_writer_add_tensor(w, "", LORA4J_TYPE_F32, 2, ne2, f, 32),
               LORA4J_ERR_INVALID_ARGUMENT, "is empty");
    CHECK_FAIL(lora4j_gguf_writer_add_tensor(
                   w, "a_name_of_sixty_four_bytes_is_one_too_long_0123456789_0123456789",
                   LORA4J_TYPE_F32, 2, ne2, f, 32),
               LORA4J_ERR_INVALID_ARGUMENT, "longer than 63 bytes");
    CHECK_FAIL(lora4j_gguf_writer_add_tensor(w, "t", LORA4J_TYPE_F32, 0, ne2, f, 32),
               LORA4J_ERR_INVALID_ARGUMENT, "n_dims = 0");
    CHECK_FAIL(lora4j_gguf_writer_add_tensor(w, "t", LORA4J_TYPE_F32, 5, ne2, f, 32),
               LORA4J_ERR_INVALID_ARGUMENT, "n_dims = 5");
    CHECK_FAIL(lora4j_gguf_writer_add_tensor(w, "t", LORA4J_TYPE_F32, 2, NULL, f, 32),
               LORA4J_ERR_INVALID_ARGUMENT, "ne or data is NULL");
    CHECK_FAIL(lora4j_gguf_writer_add_tensor(w, "t", LORA4J_TYPE_F32, 2, ne2, NULL, 32),
               LORA4J_ERR_INVALID_ARGUMENT, "ne or data is NULL");
    int64_t ne_zero[2] = {4, 0}, ne_neg[2] = {-4, 2}, ne_q[2] = {33, 1}, ne_big[2] = {INT64_MAX, 2};
    CHECK_FAIL(lora4j_gguf_writer_add_tensor(w, "t", LORA4J_TYPE_F32, 2, ne_zero, f, 0),
               LORA4J_ERR_INVALID_ARGUMENT, "ne[1] = 0");
    CHECK_FAIL(lora4j_gguf_writer_add_tensor(w, "t", LORA4J_TYPE_F32, 2, ne_neg, f, 32),
               LORA4J_ERR_INVALID_ARGUMENT, "ne[0] = -4");
    CHECK_FAIL(lora4j_gguf_writer_add_tensor(w, "t", LORA4J_TYPE_Q4_0, 2, ne_q, f, 18),
               LORA4J_ERR_INVALID_ARGUMENT,
               "ne[0] = 33 is not a multiple of the q4_0 block size 32");
    CHECK_FAIL(lora4j_gguf_writer_add_tensor(w, "t", LORA4J_TYPE_F32, 2, ne_big, f, 32),
               LORA4J_ERR_INVALID_ARGUMENT, "overflows int64");
    CHECK_FAIL(lora4j_gguf_writer_add_tensor(w, "t", 4, 2, ne2, f, 32), LORA4J_ERR_INVALID_ARGUMENT,
               "unknown ggml type id 4");
    CHECK_FAIL(lora4j_gguf_writer_add_tensor(w, "t", 43, 2, ne2, f, 32),
               LORA4J_ERR_INVALID_ARGUMENT, "unknown ggml type id 43");
    CHECK_FAIL(lora4j_gguf_writer_add_tensor(w, "t", -1, 2, ne2, f, 32),
               LORA4J_ERR_INVALID_ARGUMENT, "unknown ggml type id -1");
    CHECK_FAIL(lora4j_gguf_writer_add_tensor(w, "t", LORA4J_TYPE_F32, 2, ne2, f, 31),
               LORA4J_ERR_INVALID_ARGUMENT, "n_bytes = 31 but its shape and type need 32");
    CHECK_OK(lora4j_gguf_writer_add_tensor(w, "t", LORA4J_TYPE_F32, 2, ne2, f, 32));
    CHECK_FAIL(lora4j_gguf_writer_add_tensor(w, "t", LORA4J_TYPE_F32, 2, ne2, f, 32),
               LORA4J_ERR_INVALID_ARGUMENT, "duplicate tensor name 't'");
    /* the failed calls stored nothing */
    lora4j_gguf *g = NULL;
    write_and_open(w, "validation.gguf", &g);
    CHECK(lora4j_gguf_n_kv(g) == 0 && lora4j_gguf_n_tensors(g) == 1);
    lora4j_gguf_close(g);
    CHECK_FAIL(lora4j_gguf_writer_write(w, ""), LORA4J_ERR_INVALID_ARGUMENT, "empty path");
    CHECK_FAIL(lora4j_gguf_writer_write(NULL, "x"), LORA4J_ERR_INVALID_ARGUMENT, "NULL writer");
    lora4j_gguf_writer_free(w);
    lora4j_gguf_writer_free(NULL);
}

int main(void) {
    tmpdir_make();
    test_values();
    test_replace_and_remove();
    test_tensors(0);
    test_tensors(32);
    test_tensors(64);
    test_tensors(1);
    test_exact_layout();
    test_writer_validation();
    tmpdir_remove();
    return test_summary("test_gguf_roundtrip");
}
