/* SwiGLU forward and backward (infer/kernels.c, train/grad_kernels.c), element-wise: the rows of
 * g and u are contiguous, so n is rows * dim. */
#include "ops/ops.h"
#include "ops/reduce.h"

static __global__ void swiglu_kernel(const float *g, const float *u, int64_t n, lcu_bf16 *out) {
    for (int64_t i = lcu_gs_first(); i < n; i += lcu_gs_stride()) {
        const float gi = g[i];
        out[i] = __float2bfloat16(gi / (1.0f + expf(-gi)) * u[i]);
    }
}

/* With s = sigmoid(g): d silu(g)/dg = s (1 + g (1 - s)). */
static __global__ void swiglu_backward_kernel(const float *g, const float *u, const float *dout, int64_t n,
                                              float *dg, float *du) {
    for (int64_t i = lcu_gs_first(); i < n; i += lcu_gs_stride()) {
        const float gi = g[i], ui = u[i], d = dout[i];
        const float s = 1.0f / (1.0f + expf(-gi));
        du[i] = d * gi * s;
        dg[i] = d * ui * s * (1.0f + gi * (1.0f - s));
    }
}

void lcu_swiglu(lcu_stream s, const float *g, const float *u, int64_t n, lcu_bf16 *out) {
    if (n > 0) LCU_LAUNCH(swiglu_kernel, lcu_ew_blocks(n), LCU_EW_THREADS, 0, s, g, u, n, out);
}

void lcu_swiglu_backward(lcu_stream s, const float *g, const float *u, const float *dout, int64_t n, float *dg,
                         float *du) {
    if (n > 0) LCU_LAUNCH(swiglu_backward_kernel, lcu_ew_blocks(n), LCU_EW_THREADS, 0, s, g, u, dout, n, dg, du);
}
