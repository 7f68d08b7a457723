/* SwiGLU forward and backward (infer/kernels.c, train/grad_kernels.c), element-wise: the rows of
 * g and u are contiguous, so n is rows * dim. The trainer saves g, u in bf16, the inference
 * context has them in f32: one kernel body, templated on the input type, serves both. */
#include "ops/ops.h"
#include "ops/reduce.h"

template <class T>
static __global__ void swiglu_kernel(const T *g, const T *u, int64_t n, lcu_bf16 *out) {
    for (int64_t i = lcu_gs_first(); i < n; i += lcu_gs_stride()) {
        const float gi = lcu_ld_f32(g[i]);
        out[i] = __float2bfloat16(gi / (1.0f + expf(-gi)) * lcu_ld_f32(u[i]));
    }
}

/* With s = sigmoid(g): d silu(g)/dg = s (1 + g (1 - s)). Each element is read before it is
 * written, so dg, du may be g, u. */
static __global__ void swiglu_backward_kernel(const lcu_bf16 *g, const lcu_bf16 *u, const float *dout, int64_t n,
                                              lcu_bf16 *dg, lcu_bf16 *du) {
    for (int64_t i = lcu_gs_first(); i < n; i += lcu_gs_stride()) {
        const float gi = __bfloat162float(g[i]), ui = __bfloat162float(u[i]), d = dout[i];
        const float s = 1.0f / (1.0f + expf(-gi));
        du[i] = __float2bfloat16(d * gi * s);
        dg[i] = __float2bfloat16(d * ui * s * (1.0f + gi * (1.0f - s)));
    }
}

template <class T> static void swiglu(lcu_stream s, const T *g, const T *u, int64_t n, lcu_bf16 *out) {
    auto *k = swiglu_kernel<T>;
    if (n > 0) LCU_LAUNCH(k, lcu_ew_blocks(n), LCU_EW_THREADS, 0, s, g, u, n, out);
}

void lcu_swiglu(lcu_stream s, const lcu_bf16 *g, const lcu_bf16 *u, int64_t n, lcu_bf16 *out) {
    swiglu(s, g, u, n, out);
}

void lcu_swiglu_f32(lcu_stream s, const float *g, const float *u, int64_t n, lcu_bf16 *out) {
    swiglu(s, g, u, n, out);
}

void lcu_swiglu_backward(lcu_stream s, const lcu_bf16 *g, const lcu_bf16 *u, const float *dout, int64_t n,
                         lcu_bf16 *dg, lcu_bf16 *du) {
    if (n > 0) LCU_LAUNCH(swiglu_backward_kernel, lcu_ew_blocks(n), LCU_EW_THREADS, 0, s, g, u, dout, n, dg, du);
}
