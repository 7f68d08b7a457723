#include "model/convert.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/threadpool.h"
#include "quant/quant.h"

typedef struct convert_job {
    const l4_type_traits *src_t, *dst_t;
    const uint8_t *src;
    uint8_t *dst;
    int64_t src_row_bytes, dst_row_bytes;
    int64_t n_rows, n_per_row;
    float *scratch; /* one row per worker */
} convert_job;

static void convert_task(void *arg, int ith, int nth) {
    const convert_job *j = arg;
    int64_t begin, end;
    l4_split(j->n_rows, ith, nth, &begin, &end);
    float *row = j->scratch + (size_t)ith * (size_t)j->n_per_row;
    for (int64_t r = begin; r < end; r++) {
        j->src_t->to_float(j->src + r * j->src_row_bytes, row, j->n_per_row);
        j->dst_t->from_float(row, j->dst + r * j->dst_row_bytes, j->n_per_row);
    }
}

int32_t l4_convert_rows(int32_t src_type, const void *src, int32_t dst_type, void *dst,
                        int64_t n_rows, int64_t n_per_row, int n_threads) {
    int64_t src_rb = l4_row_bytes(src_type, n_per_row);
    int64_t dst_rb = l4_row_bytes(dst_type, n_per_row);
    if (src_rb < 0 || dst_rb < 0) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "cannot convert rows of %lld elements from %s to %s",
                       (long long)n_per_row, lora4j_type_name(src_type), lora4j_type_name(dst_type));
    }
    if (src_type == dst_type) {
        memcpy(dst, src, (size_t)(src_rb * n_rows));
        return LORA4J_OK;
    }
    const l4_type_traits *st = l4_traits(src_type), *dt = l4_traits(dst_type);
    if (!st->supported || !st->to_float) {
        return l4_fail(LORA4J_ERR_UNSUPPORTED, "type %s cannot be dequantized", st->name);
    }
    if (!dt->supported || !dt->from_float) {
        return l4_fail(LORA4J_ERR_UNSUPPORTED, "type %s cannot be quantized", dt->name);
    }
    int nth = n_threads > 0 ? n_threads : l4_n_cores();
    if (nth > n_rows) nth = n_rows > 0 ? (int)n_rows : 1;
    float *scratch = malloc((size_t)nth * (size_t)n_per_row * sizeof(float));
    if (!scratch) return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "no memory for conversion rows");
    convert_job job = {st, dt, src, dst, src_rb, dst_rb, n_rows, n_per_row, scratch};
    l4_parallel(convert_task, &job, nth);
    free(scratch);
    return LORA4J_OK;
}
