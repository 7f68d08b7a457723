/* The optimizer's device work: the gradient's sum of squares (for its norm), the non-finite
 * check, and the AdamW / SGD updates of train/grad_optim.c. */
#include "ops/ops.h"
#include "ops/reduce.h"

/* Sum of squares in double, like the CPU's l4_sum_squares: per-thread sums, a block reduction and
 * one atomic per block. */
static __global__ void sum_squares_kernel(const float *x, int64_t n, double *acc) {
    __shared__ double scratch[32];
    double s = 0.0;
    for (int64_t i = lcu_gs_first(); i < n; i += lcu_gs_stride()) s += (double)x[i] * x[i];
    s = lcu_block_reduce(s, lcu_op_sum(), 0.0, scratch);
    if (threadIdx.x == 0) atomicAdd(acc, s);
}

void lcu_sum_squares(lcu_stream s, const float *x, int64_t n, double *acc) {
    if (n > 0) LCU_LAUNCH(sum_squares_kernel, lcu_ew_blocks(n), LCU_EW_THREADS, 0, s, x, n, acc);
}

/* Inf and NaN are the floats whose exponent bits are all ones. */
static __global__ void check_finite_kernel(const float *x, int64_t n, int32_t *flag) {
    int bad = 0;
    for (int64_t i = lcu_gs_first(); i < n; i += lcu_gs_stride())
        bad |= (__float_as_uint(x[i]) & 0x7f800000u) == 0x7f800000u;
    if (bad) *flag = 1;
}

void lcu_check_finite(lcu_stream s, const float *x, int64_t n, int32_t *flag) {
    if (n > 0) LCU_LAUNCH(check_finite_kernel, lcu_ew_blocks(n), LCU_EW_THREADS, 0, s, x, n, flag);
}

/* The updates use round-to-nearest intrinsics that nvcc never contracts into FMAs, so each
 * parameter and moment follows exactly the CPU's f32 operations and the two trainers stay bit
 * for bit together. */
__device__ static inline float mul(float a, float b) { return __fmul_rn(a, b); }
__device__ static inline float add(float a, float b) { return __fadd_rn(a, b); }
__device__ static inline float sub(float a, float b) { return __fsub_rn(a, b); }

/* omb1 = 1-b1, omb2 = 1-b2, step_size = lr/bc1, bc2_sqrt = sqrt(bc2), decay = 1 - lr wd: the
 * CPU's constants, computed on the host the same way. */
static __global__ void adamw_kernel(float *p, const float *g, float *m, float *v, int64_t n, float b1, float omb1,
                                    float b2, float omb2, float eps, float step_size, float bc2_sqrt, float decay,
                                    float gscale) {
    for (int64_t i = lcu_gs_first(); i < n; i += lcu_gs_stride()) {
        const float gi = mul(g[i], gscale);
        const float mi = add(mul(b1, m[i]), mul(omb1, gi));
        const float vi = add(mul(b2, v[i]), mul(mul(omb2, gi), gi));
        const float denom = add(sqrtf(vi) / bc2_sqrt, eps);
        m[i] = mi;
        v[i] = vi;
        p[i] = sub(mul(p[i], decay), mul(step_size, mi) / denom);
    }
}

void lcu_adamw(lcu_stream s, float *p, const float *g, float *m, float *v, int64_t n, float lr, float b1,
               float b2, float eps, float wd, int64_t step, float gscale) {
    if (n <= 0) return;
    const double bc1 = 1.0 - pow(b1, (double)step), bc2 = 1.0 - pow(b2, (double)step);
    const float step_size = (float)(lr / bc1), bc2_sqrt = (float)sqrt(bc2);
    const float decay = 1.0f - lr * wd;
    LCU_LAUNCH(adamw_kernel, lcu_ew_blocks(n), LCU_EW_THREADS, 0, s, p, g, m, v, n, b1, 1.0f - b1, b2, 1.0f - b2,
               eps, step_size, bc2_sqrt, decay, gscale);
}

static __global__ void sgd_kernel(float *p, const float *g, float *buf, int64_t n, float lr, float momentum,
                                  float wd, float gscale) {
    for (int64_t i = lcu_gs_first(); i < n; i += lcu_gs_stride()) {
        const float d = add(mul(g[i], gscale), mul(wd, p[i]));
        const float bi = add(mul(momentum, buf[i]), d);
        buf[i] = bi;
        p[i] = sub(p[i], mul(lr, bi));
    }
}

void lcu_sgd(lcu_stream s, float *p, const float *g, float *buf, int64_t n, float lr, float momentum, float wd,
             float gscale) {
    if (n > 0) LCU_LAUNCH(sgd_kernel, lcu_ew_blocks(n), LCU_EW_THREADS, 0, s, p, g, buf, n, lr, momentum, wd, gscale);
}
