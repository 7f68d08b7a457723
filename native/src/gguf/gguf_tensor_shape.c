/* Tensor type and shape validation shared by the reader and the writer. */
#include <inttypes.h>

#include "core/error.h"
#include "gguf/gguf_internal.h"
#include "quant/quant.h"

lora4j_status_t l4_gguf_tensor_shape(lora4j_status_t status, int32_t type, uint32_t n_dims,
                                     const int64_t *ne, int64_t ne_out[4], uint64_t *nbytes) {
    if (n_dims < 1 || n_dims > L4_GGUF_MAX_DIMS) {
        return l4_fail(status, "n_dims = %" PRIu32 " (must be 1..%d)", n_dims, L4_GGUF_MAX_DIMS);
    }
    const l4_type_traits *t = l4_traits(type);
    if (!t) return l4_fail(status, "unknown ggml type id %" PRId32, type);
    int64_t count = 1;
    for (uint32_t d = 0; d < L4_GGUF_MAX_DIMS; d++) {
        ne_out[d] = d < n_dims ? ne[d] : 1;
        if (ne_out[d] <= 0) {
            return l4_fail(status, "ne[%" PRIu32 "] = %" PRId64 " (must be positive)", d,
                           ne_out[d]);
        }
        if (__builtin_mul_overflow(count, ne_out[d], &count)) {
            return l4_fail(status,
                           "element count of shape [%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64
                           "] overflows int64",
                           ne_out[0], d > 0 ? ne_out[1] : 1, d > 1 ? ne_out[2] : 1,
                           d > 2 ? ne_out[3] : 1);
        }
    }
    if (ne_out[0] % t->blck != 0) {
        return l4_fail(status,
                       "ne[0] = %" PRId64 " is not a multiple of the %s block size %" PRId64,
                       ne_out[0], t->name, t->blck);
    }
    /* count fits int64, so the block count does; bytes = blocks * block_bytes may not. */
    uint64_t bytes;
    if (!l4_mul_u64((uint64_t)(count / t->blck), (uint64_t)t->block_bytes, &bytes) ||
        bytes > (uint64_t)INT64_MAX) {
        return l4_fail(status, "byte size of %" PRId64 " %s elements overflows", count, t->name);
    }
    *nbytes = bytes;
    return LORA4J_OK;
}
