/* A CPU emulation of the subset of CUDA the backend uses, so the same .cu sources compile with the
 * host C++ compiler (LCU_EMU) and their kernels run in tests without a GPU.
 *
 * A launch runs the grid's blocks one after another on the calling thread; within a block every
 * CUDA thread is a fiber (its own stack), switched only at __syncthreads, __syncwarp and the warp
 * collectives, so barriers, shared memory tiling and shuffles behave as on a GPU and a barrier
 * that not every thread reaches is reported as a deadlock. Memory is host memory; streams are
 * synchronous; atomics are plain (no two fibers run at once). Launch configurations are checked
 * as a GPU does (block size, dynamic shared memory over 48 KiB without cudaFuncSetAttribute).
 * Environment: LCU_EMU_ORDER (forward, reverse, shuffle: the fibers' order each round),
 * LCU_EMU_SEED, LCU_EMU_MEMORY (the device's bytes), LCU_EMU_GUARD=1 (device memory closed to the
 * host outside kernels and copies; single-threaded programs only). */
#ifndef LORA4J_LCU_EMU_H
#define LORA4J_LCU_EMU_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <type_traits>

/* ---- qualifiers ------------------------------------------------------------------------------- */
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
/* Blocks run one at a time per host thread, so one copy per host thread is a block's shared
 * memory. */
#define __shared__ static thread_local

/* ---- errors and runtime types ---------------------------------------------------------------- */
typedef enum cudaError {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInsufficientDriver = 35,
    cudaErrorNoDevice = 100,
    cudaErrorInvalidDevice = 101,
    cudaErrorMisalignedAddress = 716,
    cudaErrorLaunchFailure = 719
} cudaError_t;

typedef enum cudaMemcpyKind {
    cudaMemcpyHostToHost = 0,
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
    cudaMemcpyDefault = 4
} cudaMemcpyKind;

enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };

typedef struct lcu_emu_stream *cudaStream_t;
typedef struct lcu_emu_event *cudaEvent_t;

typedef struct cudaDeviceProp {
    char name[256];
    size_t totalGlobalMem;
    size_t sharedMemPerBlock;
    size_t sharedMemPerBlockOptin;
    int major, minor;
    int multiProcessorCount;
    int maxThreadsPerBlock;
    int warpSize;
} cudaDeviceProp;

const char *cudaGetErrorString(cudaError_t e);
cudaError_t cudaGetLastError(void);
cudaError_t cudaPeekAtLastError(void);
cudaError_t cudaGetDeviceCount(int *n);
cudaError_t cudaSetDevice(int d);
cudaError_t cudaGetDevice(int *d);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int d);
cudaError_t cudaDriverGetVersion(int *v);
cudaError_t cudaRuntimeGetVersion(int *v);
cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes);
cudaError_t cudaMalloc(void **p, size_t n);
cudaError_t cudaFree(void *p);
cudaError_t cudaMallocHost(void **p, size_t n);
cudaError_t cudaFreeHost(void *p);
cudaError_t cudaMemcpy(void *dst, const void *src, size_t n, cudaMemcpyKind k);
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, cudaMemcpyKind k, cudaStream_t s = 0);
cudaError_t cudaMemset(void *p, int v, size_t n);
cudaError_t cudaMemsetAsync(void *p, int v, size_t n, cudaStream_t s = 0);
cudaError_t cudaStreamCreate(cudaStream_t *s);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaDeviceSynchronize(void);
cudaError_t cudaEventCreate(cudaEvent_t *e);
cudaError_t cudaEventDestroy(cudaEvent_t e);
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s = 0);
cudaError_t cudaEventSynchronize(cudaEvent_t e);
cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t a, cudaEvent_t b);
/* Kernels are identified by their address, as in CUDA. */
cudaError_t lcu_emu_func_set_attribute(const void *func, int attr, int value);
template <class F>
static inline cudaError_t cudaFuncSetAttribute(F *func, enum cudaFuncAttribute attr, int value) {
    return lcu_emu_func_set_attribute((const void *)func, (int)attr, value);
}

/* ---- launch geometry ------------------------------------------------------------------------- */
struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct uint3 {
    unsigned x, y, z;
};

typedef struct lcu_emu_thread {
    uint3 thread_idx;
    unsigned linear;   /* x + y*bx + z*bx*by */
    unsigned lane;     /* linear % 32 */
    unsigned warp;     /* linear / 32 */
} lcu_emu_thread;

typedef struct lcu_emu_block {
    uint3 block_idx;
    uint3 block_dim;
    uint3 grid_dim;
} lcu_emu_block;

const lcu_emu_thread *lcu_emu_self(void);
const lcu_emu_block *lcu_emu_block_info(void);
void *lcu_emu_dyn_smem(void);

#define threadIdx (lcu_emu_self()->thread_idx)
#define blockIdx (lcu_emu_block_info()->block_idx)
#define blockDim (lcu_emu_block_info()->block_dim)
#define gridDim (lcu_emu_block_info()->grid_dim)
static constexpr int warpSize = 32;

/* Runs body(arg) as every thread of every block. func identifies the kernel (attributes). */
void lcu_emu_run(const void *func, dim3 grid, dim3 block, size_t smem, void (*body)(void *), void *arg);
template <class F>
static inline void lcu_emu_launch(const void *func, dim3 grid, dim3 block, size_t smem, F f) {
    lcu_emu_run(func, grid, block, smem, [](void *p) { (*(F *)p)(); }, &f);
}

/* ---- synchronisation and warp collectives ---------------------------------------------------- */
void __syncthreads(void);
void lcu_emu_syncwarp(void);
static inline void __syncwarp(unsigned mask = 0xffffffffu) { (void)mask; lcu_emu_syncwarp(); }
/* Every lane of the warp publishes `size` bytes of `val`; all[32*size] receives all lanes'. */
void lcu_emu_warp_exchange(const void *val, void *all, size_t size);

template <class T>
static inline T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
    (void)mask;
    T all[32];
    lcu_emu_warp_exchange(&v, all, sizeof(T));
    const unsigned lane = lcu_emu_self()->lane;
    const unsigned base = lane - lane % (unsigned)width;
    return all[base + ((unsigned)src % (unsigned)width)];
}
template <class T>
static inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
    (void)mask;
    T all[32];
    lcu_emu_warp_exchange(&v, all, sizeof(T));
    const unsigned lane = lcu_emu_self()->lane;
    const unsigned src = lane ^ (unsigned)lane_mask;
    return (src / (unsigned)width == lane / (unsigned)width) ? all[src] : v;
}
template <class T>
static inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    (void)mask;
    T all[32];
    lcu_emu_warp_exchange(&v, all, sizeof(T));
    const unsigned lane = lcu_emu_self()->lane;
    const unsigned src = lane + delta;
    return (src / (unsigned)width == lane / (unsigned)width) ? all[src] : v;
}
template <class T>
static inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    (void)mask;
    T all[32];
    lcu_emu_warp_exchange(&v, all, sizeof(T));
    const unsigned lane = lcu_emu_self()->lane;
    return (lane % (unsigned)width >= delta) ? all[lane - delta] : v;
}
static inline unsigned __ballot_sync(unsigned mask, int pred) {
    (void)mask;
    int all[32];
    lcu_emu_warp_exchange(&pred, all, sizeof(int));
    unsigned bits = 0;
    for (int i = 0; i < 32; i++) bits |= (all[i] ? 1u : 0u) << i;
    return bits;
}
static inline int __any_sync(unsigned mask, int pred) { return __ballot_sync(mask, pred) != 0; }
static inline int __all_sync(unsigned mask, int pred) { return __ballot_sync(mask, pred) == 0xffffffffu; }

/* ---- atomics (no two fibers run at once) ------------------------------------------------------ */
template <class T> static inline T atomicAdd(T *p, T v) { T o = *p; *p = o + v; return o; }
template <class T> static inline T atomicMax(T *p, T v) { T o = *p; if (v > o) *p = v; return o; }
template <class T> static inline T atomicMin(T *p, T v) { T o = *p; if (v < o) *p = v; return o; }
template <class T> static inline T atomicExch(T *p, T v) { T o = *p; *p = v; return o; }
template <class T> static inline T atomicOr(T *p, T v) { T o = *p; *p = o | v; return o; }
template <class T> static inline T atomicCAS(T *p, T cmp, T v) { T o = *p; if (o == cmp) *p = v; return o; }

/* ---- math intrinsics --------------------------------------------------------------------------- */
/* glibc's math.h declares __expf/__logf already (not for use): macros take them over. */
#define __expf(x) expf(x)
#define __logf(x) logf(x)
static inline float __fdividef(float a, float b) { return a / b; }
/* Round-to-nearest operations nvcc never contracts into FMAs (the host compiler does not contract
 * without FMA flags either). */
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
static inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
static inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
static inline int __float_as_int(float f) { int i; memcpy(&i, &f, 4); return i; }
static inline float __uint_as_float(unsigned i) { float f; memcpy(&f, &i, 4); return f; }
static inline unsigned __float_as_uint(float f) { unsigned i; memcpy(&i, &f, 4); return i; }
template <class T> static inline T __ldg(const T *p) { return *p; }

/* ---- bf16 ---------------------------------------------------------------------------------------- */
typedef struct __nv_bfloat16 {
    uint16_t x;
} __nv_bfloat16;

/* Round to nearest even, NaN kept quiet: what __float2bfloat16 does on the GPU. */
static inline __nv_bfloat16 __float2bfloat16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    __nv_bfloat16 r;
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        r.x = (uint16_t)((u >> 16) | 0x40u);
    } else {
        r.x = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    }
    return r;
}
static inline __nv_bfloat16 __float2bfloat16_rn(float f) { return __float2bfloat16(f); }
static inline float __bfloat162float(__nv_bfloat16 b) {
    uint32_t u = (uint32_t)b.x << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ---- tensor cores: nvcuda::wmma, 16x16x16 with bf16 inputs and f32 accumulators ---------------- */
int lcu_emu_is_lane0(void);
/* wmma's rules for a load or store: a 256-bit aligned pointer and a stride of whole 16-byte units;
 * a violation faults the launch (misaligned address), as on a GPU. */
void lcu_emu_check_wmma(const void *p, unsigned ldm, unsigned elem_bytes);

/* Where element (r, c) of a 16x16 fragment tile is kept in x[]: a fixed scrambled order, so a
 * kernel that assumes which element x[i] is (row-wise scaling of an accumulator, say) fails here
 * as it would on a GPU, where the layout is unspecified and spread over the lanes. */
static inline int lcu_emu_frag_slot(int r, int c) { return ((r * 16 + c) * 167 + 89) & 255; }

namespace nvcuda {
namespace wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

/* The whole tile lives in every lane's fragment (real fragments spread it over the warp), so
 * only element-wise operations that treat every element alike are portable. */
template <class Use, int M, int N, int K, class T, class Layout = void> struct fragment;

template <class Layout> struct fragment<matrix_a, 16, 16, 16, __nv_bfloat16, Layout> {
    enum { num_elements = 256 };
    __nv_bfloat16 x[256]; /* element (m, k) at lcu_emu_frag_slot(m, k) */
};
template <class Layout> struct fragment<matrix_b, 16, 16, 16, __nv_bfloat16, Layout> {
    enum { num_elements = 256 };
    __nv_bfloat16 x[256]; /* element (k, n) at lcu_emu_frag_slot(k, n) */
};
template <> struct fragment<accumulator, 16, 16, 16, float, void> {
    enum { num_elements = 256 };
    float x[256];         /* element (m, n) at lcu_emu_frag_slot(m, n) */
};

static inline void fill_fragment(fragment<accumulator, 16, 16, 16, float, void> &f, float v) {
    for (int i = 0; i < 256; i++) f.x[i] = v;
}
template <class Layout>
static inline void load_matrix_sync(fragment<matrix_a, 16, 16, 16, __nv_bfloat16, Layout> &f,
                                    const __nv_bfloat16 *p, unsigned ldm) {
    lcu_emu_check_wmma(p, ldm, 2);
    __syncwarp();
    const bool rm = std::is_same<Layout, row_major>::value;
    for (int m = 0; m < 16; m++)
        for (int k = 0; k < 16; k++) f.x[lcu_emu_frag_slot(m, k)] = rm ? p[m * ldm + k] : p[k * ldm + m];
    __syncwarp();
}
template <class Layout>
static inline void load_matrix_sync(fragment<matrix_b, 16, 16, 16, __nv_bfloat16, Layout> &f,
                                    const __nv_bfloat16 *p, unsigned ldm) {
    lcu_emu_check_wmma(p, ldm, 2);
    __syncwarp();
    const bool rm = std::is_same<Layout, row_major>::value;
    for (int k = 0; k < 16; k++)
        for (int n = 0; n < 16; n++) f.x[lcu_emu_frag_slot(k, n)] = rm ? p[k * ldm + n] : p[n * ldm + k];
    __syncwarp();
}
static inline void load_matrix_sync(fragment<accumulator, 16, 16, 16, float, void> &f, const float *p,
                                    unsigned ldm, layout_t layout) {
    lcu_emu_check_wmma(p, ldm, 4);
    __syncwarp();
    for (int m = 0; m < 16; m++)
        for (int n = 0; n < 16; n++)
            f.x[lcu_emu_frag_slot(m, n)] = layout == mem_row_major ? p[m * ldm + n] : p[n * ldm + m];
    __syncwarp();
}
template <class LA, class LB>
static inline void mma_sync(fragment<accumulator, 16, 16, 16, float, void> &d,
                            const fragment<matrix_a, 16, 16, 16, __nv_bfloat16, LA> &a,
                            const fragment<matrix_b, 16, 16, 16, __nv_bfloat16, LB> &b,
                            const fragment<accumulator, 16, 16, 16, float, void> &c) {
    __syncwarp();
    if (lcu_emu_is_lane0()) {
        float out[256];
        for (int m = 0; m < 16; m++)
            for (int n = 0; n < 16; n++) {
                float acc = c.x[lcu_emu_frag_slot(m, n)];
                for (int k = 0; k < 16; k++)
                    acc += __bfloat162float(a.x[lcu_emu_frag_slot(m, k)]) *
                           __bfloat162float(b.x[lcu_emu_frag_slot(k, n)]);
                out[lcu_emu_frag_slot(m, n)] = acc;
            }
        memcpy(d.x, out, sizeof out);
    }
    __syncwarp();
}
static inline void store_matrix_sync(float *p, const fragment<accumulator, 16, 16, 16, float, void> &f,
                                     unsigned ldm, layout_t layout) {
    lcu_emu_check_wmma(p, ldm, 4);
    __syncwarp();
    if (lcu_emu_is_lane0()) {
        for (int m = 0; m < 16; m++)
            for (int n = 0; n < 16; n++) {
                if (layout == mem_row_major) p[m * ldm + n] = f.x[lcu_emu_frag_slot(m, n)];
                else p[n * ldm + m] = f.x[lcu_emu_frag_slot(m, n)];
            }
    }
    __syncwarp();
}
} /* namespace wmma */
} /* namespace nvcuda */

#endif
