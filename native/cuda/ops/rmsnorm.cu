/* RMSNorm forward and backward (infer/norm.c, train/grad_norm.c): one block per row, the sums
 * over the row by block reduction. */
#include "ops/ops.h"
#include "ops/reduce.h"

#define NORM_THREADS 256

static __global__ void rmsnorm_kernel(const float *x, const float *w, int64_t dim, float eps, lcu_bf16 *out,
                                      float *out_f32) {
    __shared__ float scratch[32];
    const int64_t row = blockIdx.x;
    const float *xr = x + row * dim;
    float ss = 0.0f;
    for (int64_t j = threadIdx.x; j < dim; j += blockDim.x) ss += xr[j] * xr[j];
    ss = lcu_block_reduce(ss, lcu_op_sum(), 0.0f, scratch);
    const float scale = 1.0f / sqrtf(ss / (float)dim + eps);
    for (int64_t j = threadIdx.x; j < dim; j += blockDim.x) {
        const float y = xr[j] * scale * w[j];
        out[row * dim + j] = __float2bfloat16(y);
        if (out_f32) out_f32[row * dim + j] = y;
    }
}

void lcu_rmsnorm(lcu_stream s, const float *x, const float *w, int64_t n, int64_t dim, float eps,
                 lcu_bf16 *out, float *out_f32) {
    if (n <= 0 || dim <= 0) return;
    LCU_LAUNCH(rmsnorm_kernel, (unsigned)n, NORM_THREADS, 0, s, x, w, dim, eps, out, out_f32);
}

/* Backward: a block takes `rows` consecutive rows. Per row (r = 1/rms, c = r^3/dim * sum dy w x):
 * dx += r w dy - c x. Then, with dw, the block sums dy x r over its rows column by column (its
 * rows' r kept in shared memory, the rows re-read from cache) and adds that to dw with one atomic
 * per column, so dw takes n/rows atomics per column rather than n. */
#define NORM_BWD_BLOCKS 512     /* blocks to aim for: rows per block grows with n past this */
#define NORM_BWD_MAX_ROWS 4096  /* rows per block at most: 16 KiB of shared r */

static __global__ void rmsnorm_backward_kernel(const float *x, const float *w, const float *dy, int64_t n,
                                               int64_t dim, int64_t rows, float eps, float *dx, float *dw) {
    __shared__ float scratch[32];
    LCU_DYN_SMEM(float, r_rows);
    const int64_t r0 = (int64_t)blockIdx.x * rows;
    const int64_t r1 = r0 + rows < n ? r0 + rows : n;
    for (int64_t i = r0; i < r1; i++) {
        const float *xr = x + i * dim, *dr = dy + i * dim;
        float ss = 0.0f, dot = 0.0f;
        for (int64_t j = threadIdx.x; j < dim; j += blockDim.x) {
            ss += xr[j] * xr[j];
            dot += dr[j] * w[j] * xr[j];
        }
        ss = lcu_block_reduce(ss, lcu_op_sum(), 0.0f, scratch);
        dot = lcu_block_reduce(dot, lcu_op_sum(), 0.0f, scratch);
        const float r = 1.0f / sqrtf(ss / (float)dim + eps);
        const float c = dot * r * r * r / (float)dim;
        float *dxr = dx + i * dim;
        for (int64_t j = threadIdx.x; j < dim; j += blockDim.x) dxr[j] += r * w[j] * dr[j] - c * xr[j];
        if (threadIdx.x == 0) r_rows[i - r0] = r;
    }
    if (!dw) return;
    __syncthreads();
    for (int64_t j = threadIdx.x; j < dim; j += blockDim.x) {
        float acc = 0.0f;
        for (int64_t i = r0; i < r1; i++) acc += dy[i * dim + j] * x[i * dim + j] * r_rows[i - r0];
        atomicAdd(&dw[j], acc);
    }
}

void lcu_rmsnorm_backward(lcu_stream s, const float *x, const float *w, const float *dy, int64_t n,
                          int64_t dim, float eps, float *dx, float *dw) {
    if (n <= 0 || dim <= 0) return;
    int64_t rows = lcu_cdiv(n, NORM_BWD_BLOCKS);
    if (rows > NORM_BWD_MAX_ROWS) rows = NORM_BWD_MAX_ROWS;
    const size_t smem = (size_t)rows * sizeof(float);
    LCU_LAUNCH(rmsnorm_backward_kernel, (unsigned)lcu_cdiv(n, rows), NORM_THREADS, smem, s, x, w, dy, n, dim,
               rows, eps, dx, dw);
}
