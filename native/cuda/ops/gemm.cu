/* The backend's one GEMM, C = alpha·op(A)·op(B) + beta·C, with B in any type of dequant.cuh.
 * Two kernels, chosen by the launcher:
 *   - gemm_tiles: tensor cores (wmma 16x16x16, bf16 in, f32 accumulators) on shared-memory
 *     tiles of 128x64 outputs per block of 8 warps, K-steps of 32. Both operands are converted
 *     (A) or dequantized (B) to bf16 while being copied into shared memory, so a quantized
 *     weight is never materialised in global memory;
 *   - gemm_rows: for a few rows of A against a B read along its stored rows (decoding: M <= 8,
 *     Y = X·Wᵀ), one warp per output column streams the weight row once and does f32 FMAs for
 *     all M rows; the tensor-core path would spend most of a 128-row tile on zero padding. */
#include "ops/dequant.cuh"
#include "ops/ops.h"

using namespace nvcuda;

/* ---- tile geometry ---------------------------------------------------------------------------- */

#define TILE_M 128
#define TILE_N 64
#define TILE_K 32
#define TILE_THREADS 256 /* 8 warps: 4 along M x 2 along N, each 32x32 outputs (2x2 fragments) */
/* bf16 row padding: keeps rows 16-byte aligned for the vector stores and wmma loads, and shifts
 * consecutive rows by 4 banks so fragment loads do not hit one bank. */
#define TILE_PAD 8
/* f32 row padding of the output staging tile. */
#define TILE_CPAD 4

/* Shared-memory footprint: the A and B tiles during the K-loop, then the output tile. */
#define TILE_A_ELEMS (TILE_M * (TILE_K + TILE_PAD) > TILE_K * (TILE_M + TILE_PAD) ? TILE_M * (TILE_K + TILE_PAD) : TILE_K * (TILE_M + TILE_PAD))
#define TILE_B_ELEMS (TILE_N * (TILE_K + TILE_PAD) > TILE_K * (TILE_N + TILE_PAD) ? TILE_N * (TILE_K + TILE_PAD) : TILE_K * (TILE_N + TILE_PAD))
#define TILE_AB_BYTES (2 * (TILE_A_ELEMS + TILE_B_ELEMS))
#define TILE_C_BYTES (4 * TILE_M * (TILE_N + TILE_CPAD))
#define TILE_SMEM_BYTES (TILE_AB_BYTES > TILE_C_BYTES ? TILE_AB_BYTES : TILE_C_BYTES)

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

template <int TA, int TB, int BT>
__global__ void __launch_bounds__(TILE_THREADS)
gemm_tiles(const uint8_t *a, int32_t atype, int64_t a_row_bytes, const uint8_t *b, int64_t b_row_bytes,
           int64_t M, int64_t N, int64_t K, float alpha, float beta, float *c, int64_t ldc) {
    __shared__ __align__(128) unsigned char smem[TILE_SMEM_BYTES];
    lcu_bf16 *as = (lcu_bf16 *)smem;
    lcu_bf16 *bs = as + TILE_A_ELEMS;
    float *cs = (float *)smem; /* reused once the K-loop is done */

    const int64_t m0 = (int64_t)blockIdx.y * TILE_M, n0 = (int64_t)blockIdx.x * TILE_N;
    const int warp = threadIdx.x / 32;
    const int wm = 32 * (warp / 2), wn = 32 * (warp % 2);
    /* element (m, k) of the A tile is as[m*lda + k] (ta 0) or as[k*lda + m] (ta 1); (k, n) of
     * the B tile is bs[n*ldb + k] (tb 1) or bs[k*ldb + n] (tb 0) */
    const int lda = TA ? TILE_M + TILE_PAD : TILE_K + TILE_PAD;
    const int ldb = TB ? TILE_K + TILE_PAD : TILE_N + TILE_PAD;

    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.0f);

    for (int64_t k0 = 0; k0 < K; k0 += TILE_K) {
        load_a<TA>(as, a, atype, a_row_bytes, m0, M, k0, K);
        load_b<TB, BT>(bs, b, b_row_bytes, n0, N, k0, K);
        __syncthreads();
        for (int kk = 0; kk < TILE_K; kk += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, lcu_bf16, typename frag_layout<TA>::type> fa[2];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, lcu_bf16, typename frag_layout<TB>::type> fb[2];
            for (int i = 0; i < 2; i++) {
                const int m = wm + 16 * i;
                wmma::load_matrix_sync(fa[i], TA ? as + kk * lda + m : as + m * lda + kk, lda);
            }
            for (int j = 0; j < 2; j++) {
                const int n = wn + 16 * j;
                wmma::load_matrix_sync(fb[j], TB ? bs + n * ldb + kk : bs + kk * ldb + n, ldb);
            }
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
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
    const int a_elem = atype == LORA4J_TYPE_BF16 ? 2 : 4;

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
                    const uint8_t *p = a + (k0 + i) * a_row_bytes + m * a_elem;
                    x[i] = k0 + i >= K ? 0.0f
                           : atype == LORA4J_TYPE_BF16 ? dq_dense1<LORA4J_TYPE_BF16>(p, 0) : dq_dense1<LORA4J_TYPE_F32>(p, 0);
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
    template <int TA, int TB, int BT> void tiles() {
        auto *k = gemm_tiles<TA, TB, BT>;
        LCU_LAUNCH(k, dim3((unsigned)lcu_cdiv(N, TILE_N), (unsigned)lcu_cdiv(M, TILE_M)), dim3(TILE_THREADS), 0, s,
                   (const uint8_t *)a->data, a->type, dq_row_bytes(a->type, a->ld), (const uint8_t *)b->data,
                   dq_row_bytes(b->type, b->ld), M, N, K, alpha, beta, c, ldc);
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

void lcu_gemm(lcu_stream s, const lcu_mat *a, const lcu_mat *b, float alpha, float beta, float *c, int64_t ldc) {
    gemm_launch g = {s, a, b, alpha, beta, c, ldc, 0, 0, 0};
    g.M = a->trans ? a->cols : a->rows;
    g.K = a->trans ? a->rows : a->cols;
    g.N = b->trans ? b->rows : b->cols;
    dq_dispatch(b->type, g);
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
