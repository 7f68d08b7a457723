/* lcu: the one header every CUDA source of the backend includes. It lets the same .cu files build
 * two ways:
 *   - with nvcc, into liblora4j-cuda.so for real GPUs;
 *   - with the host C++ compiler and LCU_EMU defined, into a CPU emulation (emu/lcu_emu.h) that
 *     runs every kernel thread as a fiber, so kernels, their tiling and barriers are tested on
 *     machines without a GPU (CI) and the GPU run confirms rather than debugs.
 *
 * Rules for code that must build both ways:
 *   - launch kernels only with LCU_LAUNCH (no <<<>>> in sources); a template kernel is launched
 *     through a plain function pointer: `auto *k = my_kernel<T, 64>; LCU_LAUNCH(k, ...)`;
 *   - dynamic shared memory only through LCU_DYN_SMEM; static shared arrays with __shared__;
 *   - tensor cores only through nvcuda::wmma (16x16x16, bf16 inputs, f32 accumulators) and only
 *     fill/load/mma/store plus uniform element-wise ops on fragments (the emulation keeps the whole
 *     tile in one lane, in a scrambled order, so a kernel that depends on which lane or slot holds
 *     which element fails there as it would on a GPU);
 *   - warp collectives only with the full mask and full warps (block sizes multiple of 32);
 *   - every thread of a block reaches each __syncthreads();
 *   - host code never dereferences device pointers (the emulation cannot catch that one). */
#ifndef LORA4J_LCU_H
#define LORA4J_LCU_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef LCU_EMU
#include "emu/lcu_emu.h"
#else
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <mma.h>
#endif

typedef __nv_bfloat16 lcu_bf16;
typedef cudaStream_t lcu_stream;

#ifdef LCU_EMU
#define LCU_LAUNCH(kernel, grid, block, smem, stream, ...) \
    lcu_emu_launch((const void *)(kernel), (grid), (block), (smem), [&]() { kernel(__VA_ARGS__); })
#define LCU_DYN_SMEM(T, name) T *name = (T *)lcu_emu_dyn_smem()
#else
#define LCU_LAUNCH(kernel, grid, block, smem, stream, ...) \
    kernel<<<(grid), (block), (smem), (stream)>>>(__VA_ARGS__)
#define LCU_DYN_SMEM(T, name) \
    extern __shared__ __align__(16) unsigned char lcu_dyn_smem_[]; \
    T *name = (T *)lcu_dyn_smem_
#endif

/* IEEE half bits to float, the same bit manipulation on host, device and emulation (GGUF block
 * scales are stored as f16). */
__host__ __device__ static inline float lcu_f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    const uint32_t man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1fu) {
        bits = sign | 0x7f800000u | (man << 13);           /* inf / NaN */
    } else if (exp != 0) {
        bits = sign | ((exp + 112u) << 23) | (man << 13);  /* normal: rebias 15 -> 127 */
    } else if (man == 0) {
        bits = sign;                                       /* signed zero */
    } else {                                               /* subnormal: normalise */
        uint32_t e = 113u, m = man;
        while (!(m & 0x400u)) { m <<= 1; e--; }
        bits = sign | (e << 23) | ((m & 0x3ffu) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* bf16 bits to float (exact). */
__host__ __device__ static inline float lcu_bf16_bits_to_f32(uint16_t b) {
    const uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Ceiling division for grid sizes. */
__host__ __device__ static inline int64_t lcu_cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

#endif
