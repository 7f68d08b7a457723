/* Inverted dropout (train/train_dropout.c): element i is kept when the hash of (key, i) is at
 * least p, the very same hash and uniform as the CPU's (lora/lora_rng.h), so a mask never needs
 * storing and the GPU's masks equal the CPU's bit for bit. */
#include "ops/ops.h" /* first: lcu.h defines what lora_rng.h needs for device code */
#include "lora/lora_rng.h"
#include "ops/reduce.h"

/* train_dropout.c's step between consecutive elements' hash inputs */
#define GOLDEN 0x9e3779b97f4a7c15ULL

__device__ static inline int keep(uint64_t key, int64_t i, float p) {
    return l4_u01_from_bits(l4_mix64(key + (uint64_t)i * GOLDEN)) >= p;
}

/* inv_keep = 1/(1-p), computed on the host as the CPU does. */
static __global__ void dropout_kernel(const lcu_bf16 *x, lcu_bf16 *out, int64_t n, float p, float inv_keep,
                                      uint64_t key) {
    for (int64_t i = lcu_gs_first(); i < n; i += lcu_gs_stride())
        out[i] = __float2bfloat16(keep(key, i, p) ? __bfloat162float(x[i]) * inv_keep : 0.0f);
}

static __global__ void dropout_backward_kernel(const float *dout, float *dx, int64_t n, float p, float inv_keep,
                                               uint64_t key) {
    for (int64_t i = lcu_gs_first(); i < n; i += lcu_gs_stride())
        if (keep(key, i, p)) dx[i] += dout[i] * inv_keep;
}

void lcu_dropout(lcu_stream s, const lcu_bf16 *x, lcu_bf16 *out, int64_t n, float p, uint64_t key) {
    const float inv_keep = 1.0f / (1.0f - p);
    if (n > 0) LCU_LAUNCH(dropout_kernel, lcu_ew_blocks(n), LCU_EW_THREADS, 0, s, x, out, n, p, inv_keep, key);
}

void lcu_dropout_backward(lcu_stream s, const float *dout, float *dx, int64_t n, float p, uint64_t key) {
    const float inv_keep = 1.0f / (1.0f - p);
    if (n > 0)
        LCU_LAUNCH(dropout_backward_kernel, lcu_ew_blocks(n), LCU_EW_THREADS, 0, s, dout, dx, n, p, inv_keep, key);
}
