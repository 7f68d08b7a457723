/* Re-encoding weight rows from one type to another (through f32), on the thread pool. */
#ifndef LORA4J_MODEL_CONVERT_H
#define LORA4J_MODEL_CONVERT_H

#include <stdint.h>

/* dst (n_rows rows of dst_type) = src (n_rows rows of src_type), n_per_row elements per row,
 * a multiple of both block sizes. n_threads <= 0: all cores. */
int32_t l4_convert_rows(int32_t src_type, const void *src, int32_t dst_type, void *dst,
                        int64_t n_rows, int64_t n_per_row, int n_threads);

#endif
