/* Helpers shared by the element-wise and row kernels: the geometry of grid-stride launches,
 * reading f32 or bf16 values alike, and warp/block reductions (warp shuffles, then one value per
 * warp through shared memory). */
#ifndef LORA4J_CUDA_OPS_REDUCE_H
#define LORA4J_CUDA_OPS_REDUCE_H

#include "lcu.h"

/* Element-wise kernels: 256 threads, grid-stride loops over at most this many blocks (enough
 * to fill any current GPU several times over; more only adds scheduling). */
#define LCU_EW_THREADS 256
#define LCU_EW_MAX_BLOCKS 4096

static inline unsigned lcu_ew_blocks(int64_t n) {
    const int64_t b = lcu_cdiv(n, LCU_EW_THREADS);
    return (unsigned)(b < LCU_EW_MAX_BLOCKS ? b : LCU_EW_MAX_BLOCKS);
}

/* First index and stride of a grid-stride loop over a 1-D grid. */
__device__ static inline int64_t lcu_gs_first(void) {
    return (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
}
__device__ static inline int64_t lcu_gs_stride(void) { return (int64_t)gridDim.x * blockDim.x; }

/* A stored f32 or bf16 value as f32 (kernels templated on their input's type). */
__device__ static inline float lcu_ld_f32(float x) { return x; }
__device__ static inline float lcu_ld_f32(lcu_bf16 x) { return __bfloat162float(x); }

struct lcu_op_sum {
    template <class T> __device__ T operator()(T a, T b) const { return a + b; }
};
struct lcu_op_max {
    template <class T> __device__ T operator()(T a, T b) const { return a > b ? a : b; }
};

/* Every lane gets the reduction of the warp's 32 values. */
template <class T, class Op> __device__ static inline T lcu_warp_reduce(T v, Op op) {
    for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/* Every thread gets the reduction of the block's values (1-D block, a multiple of 32 threads).
 * scratch: 32 shared values; the leading barrier lets a block call this back to back with the
 * same scratch. `identity` fills the lanes beyond the block's warps. */
template <class T, class Op> __device__ static inline T lcu_block_reduce(T v, Op op, T identity, T *scratch) {
    v = lcu_warp_reduce(v, op);
    const unsigned lane = threadIdx.x & 31u, warp = threadIdx.x >> 5, n_warps = blockDim.x >> 5;
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    return lcu_warp_reduce(lane < n_warps ? scratch[lane] : identity, op);
}

#endif
