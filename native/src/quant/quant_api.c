/* Public type, (de)quantization and matmul entry points: validate everything, then call the
 * internal kernels. */
#include <stdlib.h>

#include "core/error.h"
#include "core/threadpool.h"
#include "quant/quant_impl.h"

LORA4J_API const char *lora4j_type_name(int32_t type) {
    const l4_type_traits *t = l4_traits(type);
    return t ? t->name : 0;
}

LORA4J_API int64_t lora4j_type_block_size(int32_t type) {
    const l4_type_traits *t = l4_traits(type);
    return t ? t->blck : 0;
}

LORA4J_API int64_t lora4j_type_block_bytes(int32_t type) {
    const l4_type_traits *t = l4_traits(type);
    return t ? t->block_bytes : 0;
}

LORA4J_API int32_t lora4j_type_supported(int32_t type) {
    const l4_type_traits *t = l4_traits(type);
    return t && t->supported;
}

/* Bytes of n elements of a known type, or -1 with an error (bad n, overflow). */
static int64_t checked_row_bytes(const l4_type_traits *t, int64_t n, const char *what) {
    if (n < 0) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: negative element count %lld", what, (long long)n), -1;
    if (n % t->blck != 0) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: %lld elements is not a multiple of the %s block size %lld",
                       what, (long long)n, t->name, (long long)t->blck), -1;
    }
    if (n / t->blck > INT64_MAX / t->block_bytes) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: %lld elements of %s overflow the byte count", what,
                       (long long)n, t->name), -1;
    }
    return n / t->blck * t->block_bytes;
}

/* The traits of a type the engine implements, or NULL with an error. */
static const l4_type_traits *supported_traits(int32_t type, const char *what) {
    const l4_type_traits *t = l4_traits(type);
    if (!t) {
        l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: unknown type id %d", what, type);
        return 0;
    }
    if (!t->supported) {
        l4_fail(LORA4J_ERR_UNSUPPORTED, "%s: type %s (id %d) is not supported", what, t->name, type);
        return 0;
    }
    return t;
}

/* a * b for non-negative a, b, or -1 if it does not fit in int64. */
static int64_t mul_nonneg(int64_t a, int64_t b) {
    if (a != 0 && b > INT64_MAX / a) return -1;
    return a * b;
}

LORA4J_API int64_t lora4j_row_bytes(int32_t type, int64_t n) {
    l4_clear_error();
    const l4_type_traits *t = l4_traits(type);
    if (!t) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "lora4j_row_bytes: unknown type id %d", type), -1;
    return checked_row_bytes(t, n, "lora4j_row_bytes");
}

LORA4J_API lora4j_status_t lora4j_dequantize(int32_t type, const void *src, size_t src_bytes,
                                             float *dst, int64_t n) {
    l4_clear_error();
    const char *what = "lora4j_dequantize";
    const l4_type_traits *t = supported_traits(type, what);
    if (!t) return l4_traits(type) ? LORA4J_ERR_UNSUPPORTED : LORA4J_ERR_INVALID_ARGUMENT;
    const int64_t need = checked_row_bytes(t, n, what);
    if (need < 0) return LORA4J_ERR_INVALID_ARGUMENT;
    if (n == 0) return LORA4J_OK;
    if (!src || !dst) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: NULL %s", what, !src ? "src" : "dst");
    if ((uintptr_t)dst & 3) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: dst must be a 4-byte aligned float array", what);
    if ((uint64_t)need > (uint64_t)src_bytes) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: %lld %s elements need %lld bytes, src has %zu", what,
                       (long long)n, t->name, (long long)need, src_bytes);
    }
    t->to_float(src, dst, n);
    return LORA4J_OK;
}

typedef struct {
    const l4_type_traits *t;
    const float *src;
    uint8_t *dst;
    int64_t n_rows, n_per_row, row_bytes;
} quantize_ctx;

static void quantize_task(void *p, int ith, int nth) {
    const quantize_ctx *c = p;
    int64_t r0, r1;
    l4_split(c->n_rows, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) c->t->from_float(c->src + r * c->n_per_row, c->dst + r * c->row_bytes, c->n_per_row);
}

LORA4J_API lora4j_status_t lora4j_quantize(int32_t type, const float *src, int64_t n_rows,
                                           int64_t n_per_row, void *dst, size_t dst_bytes) {
    l4_clear_error();
    const char *what = "lora4j_quantize";
    const l4_type_traits *t = supported_traits(type, what);
    if (!t) return l4_traits(type) ? LORA4J_ERR_UNSUPPORTED : LORA4J_ERR_INVALID_ARGUMENT;
    if (n_rows < 0) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: negative row count %lld", what, (long long)n_rows);
    const int64_t row_bytes = checked_row_bytes(t, n_per_row, what);
    if (row_bytes < 0) return LORA4J_ERR_INVALID_ARGUMENT;
    const int64_t need = mul_nonneg(row_bytes, n_rows);
    const int64_t n_elems = mul_nonneg(n_per_row, n_rows);
    if (need < 0 || n_elems < 0 || (uint64_t)n_elems > SIZE_MAX / sizeof(float)) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: %lld x %lld elements overflow", what, (long long)n_rows,
                       (long long)n_per_row);
    }
    if (n_elems == 0) return LORA4J_OK;
    if (!src || !dst) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: NULL %s", what, !src ? "src" : "dst");
    if ((uintptr_t)src & 3) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: src must be a 4-byte aligned float array", what);
    if ((uint64_t)need > (uint64_t)dst_bytes) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: %lld rows of %lld %s elements need %lld bytes, dst has %zu",
                       what, (long long)n_rows, (long long)n_per_row, t->name, (long long)need, dst_bytes);
    }
    /* block formats cannot represent NaN/inf (the float types carry them through) */
    if (t->blck > 1) {
        for (int64_t i = 0; i < n_elems; i++) {
            if (!isfinite(src[i])) {
                return l4_fail(LORA4J_ERR_NUMERIC, "%s: non-finite value %g at row %lld, column %lld", what,
                               (double)src[i], (long long)(i / n_per_row), (long long)(i % n_per_row));
            }
        }
    }
    quantize_ctx c = {t, src, dst, n_rows, n_per_row, row_bytes};
    l4_parallel(quantize_task, &c, n_rows < l4_n_cores() ? (int)n_rows : 0);
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_matmul(int32_t type, const void *w, size_t w_bytes,
                                         int64_t n_out, int64_t n_in, const float *x,
                                         int64_t n_tok, float *y, int32_t n_threads,
                                         int32_t exact_f32) {
    l4_clear_error();
    const char *what = "lora4j_matmul";
    const l4_type_traits *t = supported_traits(type, what);
    if (!t) return l4_traits(type) ? LORA4J_ERR_UNSUPPORTED : LORA4J_ERR_INVALID_ARGUMENT;
    if (n_out < 0 || n_tok < 0) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: negative size (n_out %lld, n_tok %lld)", what,
                       (long long)n_out, (long long)n_tok);
    }
    const int64_t row_bytes = checked_row_bytes(t, n_in, what);
    if (row_bytes < 0) return LORA4J_ERR_INVALID_ARGUMENT;
    const int64_t need = mul_nonneg(row_bytes, n_out);
    const int64_t nx = mul_nonneg(n_tok, n_in), ny = mul_nonneg(n_tok, n_out);
    if (need < 0 || nx < 0 || ny < 0 || (uint64_t)nx > SIZE_MAX / 4 || (uint64_t)ny > SIZE_MAX / 4) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: sizes overflow (n_out %lld, n_in %lld, n_tok %lld)", what,
                       (long long)n_out, (long long)n_in, (long long)n_tok);
    }
    if (ny == 0) return LORA4J_OK;
    if ((need > 0 && !w) || (nx > 0 && !x) || !y) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: NULL %s", what, !y ? "y" : !x && nx > 0 ? "x" : "w");
    }
    if ((uint64_t)need > (uint64_t)w_bytes) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: %lld rows of %lld %s elements need %lld bytes, w has %zu", what,
                       (long long)n_out, (long long)n_in, t->name, (long long)need, w_bytes);
    }
    if (((uintptr_t)x & 3) || ((uintptr_t)y & 3)) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: x and y must be 4-byte aligned float arrays", what);
    }
    l4_matmul(type, w, n_out, n_in, x, n_in, n_tok, y, n_out, n_threads, exact_f32 != 0);
    return LORA4J_OK;
}
