/* Element-wise ops on f32 buffers (grid-stride, coalesced) and the column sums of bias
 * gradients. */
#include "ops/ops.h"
#include "ops/reduce.h"

static __global__ void to_bf16_kernel(const float *x, lcu_bf16 *y, int64_t n) {
    for (int64_t i = lcu_gs_first(); i < n; i += lcu_gs_stride()) y[i] = __float2bfloat16(x[i]);
}

static __global__ void add_kernel(float *x, const float *y, int64_t n) {
    for (int64_t i = lcu_gs_first(); i < n; i += lcu_gs_stride()) x[i] += y[i];
}

static __global__ void scale_kernel(float *x, float a, int64_t n) {
    for (int64_t i = lcu_gs_first(); i < n; i += lcu_gs_stride()) x[i] *= a;
}

void lcu_to_bf16(lcu_stream s, const float *x, lcu_bf16 *y, int64_t n) {
    if (n > 0) LCU_LAUNCH(to_bf16_kernel, lcu_ew_blocks(n), LCU_EW_THREADS, 0, s, x, y, n);
}

void lcu_add(lcu_stream s, float *x, const float *y, int64_t n) {
    if (n > 0) LCU_LAUNCH(add_kernel, lcu_ew_blocks(n), LCU_EW_THREADS, 0, s, x, y, n);
}

void lcu_scale(lcu_stream s, float *x, float a, int64_t n) {
    if (n > 0) LCU_LAUNCH(scale_kernel, lcu_ew_blocks(n), LCU_EW_THREADS, 0, s, x, a, n);
}

/* Row-wise ops over [n][dim]: blockIdx.x picks LCU_EW_THREADS columns (so b[j] is loaded once per
 * thread), blockIdx.y strides over the rows. */
#define ROW_BLOCKS_MAX 65535

static __global__ void add_bias_kernel(float *x, const float *b, int64_t n, int64_t dim) {
    const int64_t j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= dim) return;
    const float bj = b[j];
    for (int64_t i = blockIdx.y; i < n; i += gridDim.y) x[i * dim + j] += bj;
}

void lcu_add_bias(lcu_stream s, float *x, const float *b, int64_t n, int64_t dim) {
    if (n <= 0 || dim <= 0) return;
    const dim3 grid((unsigned)lcu_cdiv(dim, LCU_EW_THREADS), (unsigned)(n < ROW_BLOCKS_MAX ? n : ROW_BLOCKS_MAX));
    LCU_LAUNCH(add_bias_kernel, grid, LCU_EW_THREADS, 0, s, x, b, n, dim);
}

/* Column sums: a block of 32 columns x COLSUM_LANES row lanes sums one chunk of rows (each warp
 * reads 32 consecutive floats of a row), reduces the lanes in shared memory and adds its partial
 * sums to db with one atomic per column. */
#define COLSUM_LANES 8
#define COLSUM_CHUNK 256 /* rows per block */

static __global__ void col_sum_kernel(const float *dy, int64_t n, int64_t dim, float *db) {
    __shared__ float part[COLSUM_LANES][32];
    const unsigned tx = threadIdx.x & 31u, ty = threadIdx.x >> 5;
    const int64_t j = (int64_t)blockIdx.x * 32 + tx;
    for (int64_t r0 = (int64_t)blockIdx.y * COLSUM_CHUNK; r0 < n; r0 += (int64_t)gridDim.y * COLSUM_CHUNK) {
        const int64_t r1 = r0 + COLSUM_CHUNK < n ? r0 + COLSUM_CHUNK : n;
        float acc = 0.0f;
        if (j < dim)
            for (int64_t i = r0 + ty; i < r1; i += COLSUM_LANES) acc += dy[i * dim + j];
        part[ty][tx] = acc;
        __syncthreads();
        if (ty == 0 && j < dim) {
            float sum = 0.0f;
            for (int l = 0; l < COLSUM_LANES; l++) sum += part[l][tx];
            atomicAdd(&db[j], sum);
        }
        __syncthreads();
    }
}

void lcu_col_sum(lcu_stream s, const float *dy, int64_t n, int64_t dim, float *db) {
    if (n <= 0 || dim <= 0) return;
    const int64_t chunks = lcu_cdiv(n, COLSUM_CHUNK);
    const dim3 grid((unsigned)lcu_cdiv(dim, 32), (unsigned)(chunks < ROW_BLOCKS_MAX ? chunks : ROW_BLOCKS_MAX));
    LCU_LAUNCH(col_sum_kernel, grid, 32 * COLSUM_LANES, 0, s, dy, n, dim, db);
}
