/* Stored rows of a matrix of any type of dequant.cuh to dense bf16: the tile-wise
 * dequantization that feeds the cuBLAS GEMM path (ops/cublas.cu). One thread per chunk of 8
 * elements, consecutive threads on consecutive chunks of a row, so the stored row is read once,
 * coalesced, and each chunk's scale decoded once. */
#include "ops/dequant.cuh"
#include "ops/ops.h"

#define DQB_THREADS 256

/* Eight bf16 stored as one 16-byte access. */
struct __align__(16) dqb_bf16x8 {
    lcu_bf16 v[8];
};

template <int T>
__global__ void __launch_bounds__(DQB_THREADS)
dequant_bf16_rows(const uint8_t *m, int64_t row_bytes, int64_t n_rows, int64_t cols, lcu_bf16 *out) {
    const int64_t chunks = lcu_cdiv(cols, 8);
    const int64_t i = (int64_t)blockIdx.x * DQB_THREADS + threadIdx.x;
    if (i >= n_rows * chunks) return;
    const int64_t r = i / chunks, c0 = 8 * (i % chunks);
    float y[8];
    dq_load8<T>(m + r * row_bytes, c0, cols, y);
    lcu_bf16 *o = out + r * cols + c0;
    if (c0 + 8 <= cols && ((uintptr_t)o & 15) == 0) {
        dqb_bf16x8 h;
        for (int k = 0; k < 8; k++) h.v[k] = __float2bfloat16(y[k]);
        *(dqb_bf16x8 *)o = h;
    } else {
        for (int k = 0; k < 8 && c0 + k < cols; k++) o[k] = __float2bfloat16(y[k]);
    }
}

namespace {
struct dequant_bf16_launch {
    lcu_stream s;
    const uint8_t *m;
    int64_t row_bytes, n_rows, cols;
    lcu_bf16 *out;
    template <int T> void run() {
        auto *k = dequant_bf16_rows<T>;
        LCU_LAUNCH(k, dim3((unsigned)lcu_cdiv(n_rows * lcu_cdiv(cols, 8), DQB_THREADS)), dim3(DQB_THREADS), 0, s, m,
                   row_bytes, n_rows, cols, out);
    }
};
} /* namespace */

void lcu_dequant_bf16(lcu_stream s, const lcu_mat *w, int64_t row0, int64_t n_rows, lcu_bf16 *out) {
    if (n_rows <= 0 || w->cols <= 0) return;
    const int64_t row_bytes = dq_row_bytes(w->type, w->ld);
    dequant_bf16_launch l = {s, (const uint8_t *)w->data + row0 * row_bytes, row_bytes, n_rows, w->cols, out};
    dq_dispatch(w->type, l);
}
