/* The backend's one GEMM, C = alpha·op(A)·op(B) + beta·C, with B in any type of dequant.cuh.
 * Two kernels, chosen by the launcher:
 *   - gemm_tiles: tensor cores (wmma 16x16x16, bf16 in, f32 accumulators) on shared-memory
 *     tiles of 128x64 outputs per block of 8 warps, K-steps of 32. Both operands are converted
 *     (A) or dequantized (B) to bf16 while being copied into shared memory, so a quantized
 *     weight is never materialised in global memory. When C has too few tiles to fill the GPU
 *     and K is long (LoRA's gradients: a [2048][16] output over 4096 tokens), K is split
 *     (split-K): blockIdx.z takes one range of K-steps and writes its partial tile to a
 *     workspace, and gemm_split_sum adds the partials in a fixed order (the same result run after
 *     run, unlike float atomics);
 *   - gemm_rows: for a few rows of A against a B read along its stored rows (decoding: M <= 8,
 *     Y = X·Wᵀ), one warp per output column streams the weight row once and does f32 FMAs for
 *     all M rows; the tensor-core path would spend most of a 128-row tile on zero padding.
 * lcu_gemm runs them (lcu_gemm_wmma) or, by the policy at the end, the cuBLAS path (ops/cublas.cu). */
#include <stdlib.h>

#include <atomic>

#include "ops/cublas.h"
#include "ops/dequant.cuh"
#include "ops/ops.h"
#include "ops/scratch.h"

using namespace nvcuda;

/* ---- tile geometry ---------------------------------------------------------------------------- */

#define TILE_M 128
#define TILE_N 64
#define TILE_K 32
#define TILE_THREADS 256 /* 8 warps: 4 along M x 2 along N, each 32x32 outputs (2x2 fragments) */
/* bf16 row padding: keeps rows 16-byte aligned (vector stores, wmma loads) and breaks the
 * power-of-two row stride, so the rows one fragment load reads fall in different banks. */
#define TILE_PAD 8
/* f32 row padding of the output staging tile, for the same reason. */
#define TILE_CPAD 4

/* Shared memory: two buffers of A and B tiles during the K-loop (one read by the tensor cores
 * while the next is filled), then the output tile. A tile is [m][k] or, transposed, [k][m]. */
#define TILE_MAX(a, b) ((a) > (b) ? (a) : (b))
#define TILE_A_ELEMS TILE_MAX(TILE_M * (TILE_K + TILE_PAD), TILE_K * (TILE_M + TILE_PAD))
#define TILE_B_ELEMS TILE_MAX(TILE_N * (TILE_K + TILE_PAD), TILE_K * (TILE_N + TILE_PAD))
#define TILE_AB_BYTES (2 * 2 * (TILE_A_ELEMS + TILE_B_ELEMS))
#define TILE_C_BYTES (4 * TILE_M * (TILE_N + TILE_CPAD))
#define TILE_SMEM_BYTES TILE_MAX(TILE_AB_BYTES, TILE_C_BYTES)

/* Eight bf16, stored to shared memory as one 16-byte access. */
struct __align__(16) bf16x8 {
    lcu_bf16 v[8];
};

/* Copies stored rows r0..r0+R-1, columns c0..c0+C-1 (C a multiple of 8) of a matrix of type T
 * (nr rows of nc elements, row_bytes apart) into s[r][c] (row stride lds) as bf16; positions
 * outside the matrix become 0. Consecutive threads take consecutive 8-element chunks of a row,
 * so a warp reads whole row segments. */
template <int T>
static __device__ __forceinline__ void load_tile(lcu_bf16 *s, int lds, const uint8_t *m, int64_t row_bytes,
                                                 int64_t r0, int64_t nr, int R, int64_t c0, int64_t nc, int C) {
    const int chunks_per_row = C / 8;
    for (int idx = threadIdx.x; idx < R * chunks_per_row; idx += TILE_THREADS) {
        const int r = idx / chunks_per_row, cc = 8 * (idx % chunks_per_row);
        float y[8];
        if (r0 + r < nr && c0 + cc < nc) {
            dq_load8<T>(m + (r0 + r) * row_bytes, c0 + cc, nc, y);
        } else {
            for (int i = 0; i < 8; i++) y[i] = 0.0f;
        }
        bf16x8 h;
        for (int i = 0; i < 8; i++) h.v[i] = __float2bfloat16(y[i]);
        *(bf16x8 *)(s + r * lds + cc) = h;
    }
}

/* The A tile op(A)[m0.., k0..]: stored [M][K] (ta 0) or [K][M] (ta 1). */
template <int TA>
static __device__ __forceinline__ void load_a(lcu_bf16 *s, const uint8_t *a, int32_t atype, int64_t row_bytes,
                                              int64_t m0, int64_t M, int64_t k0, int64_t K) {
    if (atype == LORA4J_TYPE_BF16) {
        if (TA) load_tile<LORA4J_TYPE_BF16>(s, TILE_M + TILE_PAD, a, row_bytes, k0, K, TILE_K, m0, M, TILE_M);
        else load_tile<LORA4J_TYPE_BF16>(s, TILE_K + TILE_PAD, a, row_bytes, m0, M, TILE_M, k0, K, TILE_K);
    } else {
        if (TA) load_tile<LORA4J_TYPE_F32>(s, TILE_M + TILE_PAD, a, row_bytes, k0, K, TILE_K, m0, M, TILE_M);
        else load_tile<LORA4J_TYPE_F32>(s, TILE_K + TILE_PAD, a, row_bytes, m0, M, TILE_M, k0, K, TILE_K);
    }
}

/* The B tile op(B)[k0.., n0..]: stored [N][K] (tb 1, the forward weight) or [K][N] (tb 0). */
template <int TB, int BT>
static __device__ __forceinline__ void load_b(lcu_bf16 *s, const uint8_t *b, int64_t row_bytes,
                                              int64_t n0, int64_t N, int64_t k0, int64_t K) {
    if (TB) load_tile<BT>(s, TILE_K + TILE_PAD, b, row_bytes, n0, N, TILE_N, k0, K, TILE_K);
    else load_tile<BT>(s, TILE_N + TILE_PAD, b, row_bytes, k0, K, TILE_K, n0, N, TILE_N);
}

/* A tile stored transposed in shared memory is read as a column-major fragment. */
template <int TRANS> struct frag_layout { typedef wmma::row_major type; };
template <> struct frag_layout<1> { typedef wmma::col_major type; };

/* Block (x, y, z) computes the C tile at rows 128y.., columns 64x.. over the reduction range
 * k_len·z .. k_len·(z+1) (k_len a multiple of TILE_K; gridDim.z = 1 and k_len >= K when K is not
 * split), into c + z·c_stride_z: C itself, or with split-K the partial sums (alpha 1, beta 0). */
template <int TA, int TB, int BT>
__global__ void __launch_bounds__(TILE_THREADS, 2)
gemm_tiles(const uint8_t *a, int32_t atype, int64_t a_row_bytes, const uint8_t *b, int64_t b_row_bytes,
           int64_t M, int64_t N, int64_t K, int64_t k_len, float alpha, float beta, float *c, int64_t ldc,
           int64_t c_stride_z) {
    __shared__ __align__(128) unsigned char smem[TILE_SMEM_BYTES];
    lcu_bf16 *as = (lcu_bf16 *)smem;         /* A buffer i at as + i*TILE_A_ELEMS */
    lcu_bf16 *bs = as + 2 * TILE_A_ELEMS;    /* B buffer i at bs + i*TILE_B_ELEMS */
    float *cs = (float *)smem; /* reused once the K-loop is done */

    const int64_t m0 = (int64_t)blockIdx.y * TILE_M, n0 = (int64_t)blockIdx.x * TILE_N;
    const int64_t kb = (int64_t)blockIdx.z * k_len, ke = kb + k_len < K ? kb + k_len : K;
    c += (int64_t)blockIdx.z * c_stride_z;
    const int warp = threadIdx.x / 32;
    const int wm = 32 * (warp / 2), wn = 32 * (warp % 2);
    /* element (m, k) of the A tile is as[m*lda + k] (ta 0) or as[k*lda + m] (ta 1); (k, n) of
     * the B tile is bs[n*ldb + k] (tb 1) or bs[k*ldb + n] (tb 0) */
    const int lda = TA ? TILE_M + TILE_PAD : TILE_K + TILE_PAD;
    const int ldb = TB ? TILE_K + TILE_PAD : TILE_N + TILE_PAD;

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.0f);

    load_a<TA>(as, a, atype, a_row_bytes, m0, M, kb, K);
    load_b<TB, BT>(bs, b, b_row_bytes, n0, N, kb, K);
    __syncthreads();
    /* Step t multiplies buffer t%2 and fills the other with step t+1: one barrier per step, and
     * warps done with their products go on to the next loads while others still multiply.
     * The buffer being filled was last read in step t-1, which every thread has left. */
    for (int64_t k0 = kb, t = 0; k0 < ke; k0 += TILE_K, t++) {
        const int cur = (int)(t & 1), next = cur ^ 1;
        const lcu_bf16 *at = as + cur * TILE_A_ELEMS, *bt = bs + cur * TILE_B_ELEMS;
        for (int kk = 0; kk < TILE_K; kk += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, lcu_bf16, typename frag_layout<TA>::type> fa[2];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, lcu_bf16, typename frag_layout<TB>::type> fb[2];
            for (int i = 0; i < 2; i++) {
                const int m = wm + 16 * i;
                wmma::load_matrix_sync(fa[i], TA ? at + kk * lda + m : at + m * lda + kk, lda);
            }
            for (int j = 0; j < 2; j++) {
                const int n = wn + 16 * j;
                wmma::load_matrix_sync(fb[j], TB ? bt + n * ldb + kk : bt + kk * ldb + n, ldb);
            }
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
        }
        if (k0 + TILE_K < ke) {
            load_a<TA>(as + next * TILE_A_ELEMS, a, atype, a_row_bytes, m0, M, k0 + TILE_K, K);
            load_b<TB, BT>(bs + next * TILE_B_ELEMS, b, b_row_bytes, n0, N, k0 + TILE_K, K);
        }
        __syncthreads();
    }

    /* stage the 128x64 results, then write C row by row (coalesced, bounds-checked) */
    const int ldc_s = TILE_N + TILE_CPAD;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            wmma::store_matrix_sync(cs + (wm + 16 * i) * ldc_s + wn + 16 * j, acc[i][j], ldc_s, wmma::mem_row_major);
    __syncthreads();
    for (int idx = threadIdx.x; idx < TILE_M * TILE_N; idx += TILE_THREADS) {
        const int r = idx / TILE_N, cc = idx % TILE_N;
        if (m0 + r < M && n0 + cc < N) {
            float *out = c + (m0 + r) * ldc + n0 + cc;
            const float v = alpha * cs[r * ldc_s + cc];
            *out = beta != 0.0f ? v + beta * *out : v;
        }
    }
}

/* ---- split-K ------------------------------------------------------------------------------------ */

#define SPLIT_MIN_STEPS 8 /* K-steps per slice at least: below, the partials' traffic and the sum
                           * cost more than the parallelism gains */
#define SPLIT_MAX_DEVICES 16
#define SUM_THREADS 256

/* C = alpha·(part[0] + ... + part[S-1]) + beta·C for part [S][M][N]: one thread per element of
 * C, the slices added in the order 0..S-1. */
__global__ void __launch_bounds__(SUM_THREADS)
gemm_split_sum(const float *part, int splits, int64_t M, int64_t N, float alpha, float beta, float *c, int64_t ldc) {
    const int64_t mn = M * N, i = (int64_t)blockIdx.x * SUM_THREADS + threadIdx.x;
    if (i >= mn) return;
    float v = 0.0f;
    for (int z = 0; z < splits; z++) v += part[z * mn + i];
    float *out = c + (i / N) * ldc + i % N;
    v *= alpha;
    *out = beta != 0.0f ? v + beta * *out : v;
}

/* The current device's multiprocessor count, asked once per device (cudaGetDeviceProperties is
 * slow); 0 when it cannot be had (then K is not split). */
static int device_sms(void) {
    static std::atomic<int> sms[SPLIT_MAX_DEVICES];
    int d = 0;
    if (cudaGetDevice(&d) != cudaSuccess || d < 0 || d >= SPLIT_MAX_DEVICES) {
        cudaGetLastError();
        return 0;
    }
    int n = sms[d].load(std::memory_order_relaxed);
    if (n == 0) {
        cudaDeviceProp p;
        if (cudaGetDeviceProperties(&p, d) != cudaSuccess) {
            cudaGetLastError();
            return 0;
        }
        n = p.multiProcessorCount > 0 ? p.multiProcessorCount : 1;
        sms[d].store(n, std::memory_order_relaxed);
    }
    return n;
}

/* Two blocks fit on a multiprocessor (__launch_bounds__ above), so a grid of fewer than twice the
 * SM count leaves some idle: split K into enough slices to reach about that, each of at least
 * SPLIT_MIN_STEPS K-steps, all of one length but a shorter last. The workspace, S·M·N floats,
 * stays under 4·SMs·TILE_M·TILE_N floats (16.5 MiB on 132 SMs): S·tiles < 2·SMs + tiles. */
int lcu_gemm_splits(int64_t M, int64_t N, int64_t K) {
    if (M <= 0 || N <= 0 || K <= 0) return 1;
    const int64_t tiles = lcu_cdiv(M, TILE_M) * lcu_cdiv(N, TILE_N), steps = lcu_cdiv(K, TILE_K);
    const int64_t target = 2 * (int64_t)device_sms();
    if (tiles >= target || steps < 2 * SPLIT_MIN_STEPS) return 1;
    const int64_t want = lcu_cdiv(target, tiles), most = steps / SPLIT_MIN_STEPS;
    const int64_t splits = want < most ? want : most;
    return (int)lcu_cdiv(steps, lcu_cdiv(steps, splits)); /* no empty slice */
}

/* ---- few rows: one warp per output column ------------------------------------------------------ */

#define ROWS_MAX 8     /* the largest M gemm_rows takes */
#define ROWS_WARPS 8   /* output columns per block */

/* C[m][n] for m < M <= ROWS_MAX and the n of this warp: the dot of op(A) row m with stored row
 * n of B (tb 1). Lane l reads chunks l, l+32, ... of 8 weights (a K-quant super-block per warp
 * step), so the row streams through once, coalesced, whatever M. */
template <int TA, int BT>
__global__ void __launch_bounds__(32 * ROWS_WARPS)
gemm_rows(const uint8_t *a, int32_t atype, int64_t a_row_bytes, const uint8_t *b, int64_t b_row_bytes,
          int64_t M, int64_t N, int64_t K, float alpha, float beta, float *c, int64_t ldc) {
    const int lane = threadIdx.x % 32;
    const int64_t n = (int64_t)blockIdx.x * ROWS_WARPS + threadIdx.x / 32;
    if (n >= N) return; /* the whole warp: no collective below is left half-reached */
    const uint8_t *brow = b + n * b_row_bytes;

    float acc[ROWS_MAX];
    for (int m = 0; m < ROWS_MAX; m++) acc[m] = 0.0f;
    for (int64_t k0 = 8 * (int64_t)lane; k0 < K; k0 += 8 * 32) {
        float w[8];
        dq_load8<BT>(brow, k0, K, w);
        for (int m = 0; m < ROWS_MAX; m++) {
            if (m >= M) break;
            float x[8];
            if (TA) {
                /* op(A)[m][k] = A[k][m]: a strided gather, only for the rare transposed A */
                for (int i = 0; i < 8; i++) {
                    const int64_t k = k0 + i < K ? k0 + i : 0;
                    const uint8_t *p = a + k * a_row_bytes;
                    const float v = atype == LORA4J_TYPE_BF16 ? dq_dense1<LORA4J_TYPE_BF16>(p, m) : dq_dense1<LORA4J_TYPE_F32>(p, m);
                    x[i] = k0 + i < K ? v : 0.0f;
                }
            } else if (atype == LORA4J_TYPE_BF16) {
                dq_load8<LORA4J_TYPE_BF16>(a + m * a_row_bytes, k0, K, x);
            } else {
                dq_load8<LORA4J_TYPE_F32>(a + m * a_row_bytes, k0, K, x);
            }
            for (int i = 0; i < 8; i++) acc[m] = fmaf(x[i], w[i], acc[m]);
        }
    }
    for (int m = 0; m < ROWS_MAX; m++) {
        float v = acc[m];
        for (int off = 16; off > 0; off /= 2) v += __shfl_xor_sync(0xffffffffu, v, off);
        if (lane == 0 && m < M) {
            float *out = c + m * ldc + n;
            *out = beta != 0.0f ? alpha * v + beta * *out : alpha * v;
        }
    }
}

/* ---- launcher ------------------------------------------------------------------------------------ */

namespace {
struct gemm_launch {
    lcu_stream s;
    const lcu_mat *a, *b;
    float alpha, beta;
    float *c;
    int64_t ldc, M, N, K;

    template <int TA, int BT> void rows() {
        auto *k = gemm_rows<TA, BT>;
        LCU_LAUNCH(k, dim3((unsigned)lcu_cdiv(N, ROWS_WARPS)), dim3(32 * ROWS_WARPS), 0, s,
                   (const uint8_t *)a->data, a->type, dq_row_bytes(a->type, a->ld), (const uint8_t *)b->data,
                   dq_row_bytes(b->type, b->ld), M, N, K, alpha, beta, c, ldc);
    }
    /* K split when lcu_gemm_splits says so and the workspace is to be had (this thread's scratch:
     * allocated by the first such GEMM, grown by a larger one), else in one pass. */
    template <int TA, int TB, int BT> void tiles() {
        auto *k = gemm_tiles<TA, TB, BT>;
        const unsigned gx = (unsigned)lcu_cdiv(N, TILE_N), gy = (unsigned)lcu_cdiv(M, TILE_M);
        const uint8_t *ad = (const uint8_t *)a->data, *bd = (const uint8_t *)b->data;
        const int64_t arb = dq_row_bytes(a->type, a->ld), brb = dq_row_bytes(b->type, b->ld);
        const int splits = lcu_gemm_splits(M, N, K);
        float *part = splits > 1 ? (float *)lcu_scratch(s, LCU_SCRATCH_SPLITK, (size_t)(splits * M * N) * sizeof(float))
                                 : NULL;
        if (!part) {
            LCU_LAUNCH(k, dim3(gx, gy), dim3(TILE_THREADS), 0, s, ad, a->type, arb, bd, brb, M, N, K, K, alpha, beta,
                       c, ldc, (int64_t)0);
            return;
        }
        const int64_t k_len = TILE_K * lcu_cdiv(lcu_cdiv(K, TILE_K), splits);
        LCU_LAUNCH(k, dim3(gx, gy, (unsigned)splits), dim3(TILE_THREADS), 0, s, ad, a->type, arb, bd, brb, M, N, K,
                   k_len, 1.0f, 0.0f, part, N, M * N);
        auto *sum = gemm_split_sum;
        LCU_LAUNCH(sum, dim3((unsigned)lcu_cdiv(M * N, SUM_THREADS)), dim3(SUM_THREADS), 0, s, (const float *)part,
                   splits, M, N, alpha, beta, c, ldc);
        lcu_scratch_done(s);
    }
    template <int BT> void run() {
        if (M <= ROWS_MAX && b->trans) {
            if (a->trans) rows<1, BT>();
            else rows<0, BT>();
        } else if (a->trans) {
            if (b->trans) tiles<1, 1, BT>();
            else tiles<1, 0, BT>();
        } else {
            if (b->trans) tiles<0, 1, BT>();
            else tiles<0, 0, BT>();
        }
    }
};
} /* namespace */

void lcu_gemm_wmma(lcu_stream s, const lcu_mat *a, const lcu_mat *b, float alpha, float beta, float *c,
                   int64_t ldc) {
    gemm_launch g = {s, a, b, alpha, beta, c, ldc, 0, 0, 0};
    lcu_gemm_dims(a, b, &g.M, &g.N, &g.K);
    dq_dispatch(b->type, g);
}

/* ---- the choice between these kernels and cuBLAS ------------------------------------------------ */

enum { PATH_UNSET = -1, PATH_AUTO, PATH_WMMA, PATH_CUBLAS };
static std::atomic<int> g_path{PATH_UNSET};

/* auto sends a GEMM to cuBLAS from this many rows of op(A) (below, decoding and short batches,
 * the dequantization pass would cost more than cuBLAS gains) and this much work (multiply-adds). */
#define AUTO_MIN_M 64
#define AUTO_MIN_MACS ((int64_t)1 << 27)

static int path_named(const char *name) {
    if (name && strcmp(name, "wmma") == 0) return PATH_WMMA;
    if (name && strcmp(name, "cublas") == 0) return PATH_CUBLAS;
    return PATH_AUTO; /* unset, "auto", or a name we do not know */
}

static int gemm_path(void) {
    int p = g_path.load(std::memory_order_relaxed);
    if (p == PATH_UNSET) {
        p = path_named(getenv("LORA4J_CUDA_GEMM"));
        g_path.store(p, std::memory_order_relaxed);
    }
    return p;
}

void lcu_gemm_set_path(const char *name) { g_path.store(name ? path_named(name) : PATH_UNSET); }

const char *lcu_gemm_path(void) {
    const int p = gemm_path();
#ifdef LCU_EMU
    (void)p; /* the emulation has no cuBLAS */
    return "wmma";
#else
    if (p == PATH_WMMA || !lcu_blas_library()) return "wmma";
    return p == PATH_CUBLAS ? "cublas" : "auto";
#endif
}

void lcu_gemm(lcu_stream s, const lcu_mat *a, const lcu_mat *b, float alpha, float beta, float *c, int64_t ldc) {
#ifndef LCU_EMU
    const int p = gemm_path();
    if (p != PATH_WMMA) {
        int64_t M, N, K;
        lcu_gemm_dims(a, b, &M, &N, &K);
        const bool large = M >= AUTO_MIN_M && (double)M * N * K >= (double)AUTO_MIN_MACS;
        if ((p == PATH_CUBLAS || large) && lcu_gemm_cublas(s, a, b, alpha, beta, c, ldc)) return;
    }
#endif
    lcu_gemm_wmma(s, a, b, alpha, beta, c, ldc);
}

namespace {
struct type_probe {
    template <int T> void run() {}
};
} /* namespace */

int lcu_gemm_supports(int32_t type) {
    type_probe p;
    return dq_dispatch(type, p);
}
