/* Tiling shared by the training attention kernels, the FMA ones (attention.cu,
 * attention_backward.cu) and the tensor-core ones (attention_mma.cu, attention_mma_backward.cu,
 * geometry at the end); the decoding kernel (attention_cache.cu) shares only the head_dim dispatch.
 *
 * Blocks have ATT_WARPS warps. Scores are computed one warp-wide tile of 32 at a time with a lane
 * per key (forward, dq) or per query (dk/dv), so the 32 dot products of a warp run in parallel
 * with plain FMAs. The dot products read four floats at a time (16-byte shared loads): rows every
 * lane reads alike are broadcasts, and rows read one per lane have a stride of W + ATT_PAD floats,
 * which keeps them 16-byte aligned and spreads each quarter warp over all 32 banks. The products
 * that follow (P·V, dS·K, Pᵀ·dO, dSᵀ·Q) give each lane the head dimensions lane, lane + 32, ...
 * (DPL of them, W = 32·DPL >= head_dim) and read the tile's probabilities four at a time, so
 * head_dim may be anything from 1 to LCU_ATTN_MAX_HEAD_DIM; tile columns past head_dim are
 * zero-filled (the dot products run to head_dim rounded up to 4).
 *
 * Visibility (the CPU trainer's rule, train/grad_attention.c): query t of a row sees key u of the
 * same row when u <= t and seg[u] == seg[t] >= 0. Tiles with no visible pair are skipped. */
#ifndef LORA4J_CUDA_ATTENTION_TILE_CUH
#define LORA4J_CUDA_ATTENTION_TILE_CUH

#include <math.h>

#include "ops/ops.h"
#include "ops/reduce.h"

#define ATT_WARPS 4
#define ATT_THREADS (ATT_WARPS * 32)

/* Padding (floats) of the rows read one per lane. */
#define ATT_PAD 4

/* Rows each warp owns in its register accumulators: fewer for wide heads to bound registers. */
#define ATT_ROWS_PER_WARP(DPL) ((DPL) >= 8 ? 4 : 8)

struct __align__(16) att_f4 {
    float x, y, z, w;
};

/* Four floats from 16-byte aligned memory in one load. */
__device__ static inline att_f4 att_ld4(const float *p) { return *(const att_f4 *)p; }

/* acc += a·b over four lanes of a vector. */
__device__ static inline float att_dot4(att_f4 a, att_f4 b, float acc) {
    return fmaf(a.w, b.w, fmaf(a.z, b.z, fmaf(a.y, b.y, fmaf(a.x, b.x, acc))));
}

__device__ static inline int att_visible(int64_t t, int32_t seg_t, int64_t u, int32_t seg_u) {
    return u <= t && seg_t >= 0 && seg_u == seg_t;
}

__device__ static inline void att_st(float *p, float x) { *p = x; }
__device__ static inline void att_st(lcu_bf16 *p, float x) { *p = __float2bfloat16(x); }

/* dst[i][d] (row stride sld) = src row (r0 + i), head slice at src + (r0+i)*ld, for i < rows and
 * d < w, in f32 or bf16 (src: the bf16 q, k, v or the f32 dout): columns >= hd and rows >=
 * n_valid are zero. The whole block takes part. */
template <class T, class D>
__device__ static inline void att_load_tile(D *dst, int sld, const T *src, int64_t ld, int64_t r0, int rows,
                                            int n_valid, int hd, int w) {
    for (int e = threadIdx.x; e < rows * w; e += blockDim.x) {
        const int i = e / w, d = e % w;
        att_st(dst + i * sld + d, (i < n_valid && d < hd) ? lcu_ld_f32(src[(r0 + i) * ld + d]) : 0.0f);
    }
}

struct __align__(16) att_bf16x8 {
    lcu_bf16 v[8];
};

/* Eight elements from 16-byte aligned memory as bf16 (exact for bf16, rounded for f32). */
__device__ static inline att_bf16x8 att_ld8(const lcu_bf16 *p) { return *(const att_bf16x8 *)p; }
__device__ static inline att_bf16x8 att_ld8(const float *p) {
    const att_f4 a = att_ld4(p), b = att_ld4(p + 4);
    const float y[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};
    att_bf16x8 h;
    for (int i = 0; i < 8; i++) h.v[i] = __float2bfloat16(y[i]);
    return h;
}

/* att_load_tile into bf16 columns [0, hd) (the tensor-core kernels' operands): 16-byte accesses
 * where the head slices allow (hd a multiple of 8, rows 16-byte aligned: dense q, k, v, dout
 * from cudaMalloc), else att_load_tile's element at a time. dst rows must be 16-byte aligned. */
template <class T>
__device__ static inline void att_load_tile_bf16(lcu_bf16 *dst, int sld, const T *src, int64_t ld, int64_t r0,
                                                 int rows, int n_valid, int hd) {
    const int vec = hd % 8 == 0 && (ld * (int64_t)sizeof(T)) % 16 == 0 && (uintptr_t)src % 16 == 0;
    if (!vec) {
        att_load_tile(dst, sld, src, ld, r0, rows, n_valid, hd, hd);
        return;
    }
    const int per_row = hd / 8;
    for (int e = threadIdx.x; e < rows * per_row; e += blockDim.x) {
        const int i = e / per_row, d = 8 * (e % per_row);
        att_bf16x8 h;
        if (i < n_valid) h = att_ld8(src + (r0 + i) * ld + d);
        else
            for (int c = 0; c < 8; c++) h.v[c] = __float2bfloat16(0.0f);
        *(att_bf16x8 *)(dst + i * sld + d) = h;
    }
}

/* seg_s[i] = seg of row position p0 + i, -1 past n_seq (such rows see and are seen by nothing). */
__device__ static inline void att_load_seg(int32_t *seg_s, const int32_t *seg_row, int64_t p0, int rows,
                                           int64_t n_seq) {
    for (int i = threadIdx.x; i < rows; i += blockDim.x) seg_s[i] = p0 + i < n_seq ? seg_row[p0 + i] : -1;
}

/* What a block of the training kernels takes from its indices: blockIdx.z is the packed row,
 * blockIdx.x a tile of positions [p0, p0 + n) of it (n <= the tile's rows); g is the kv head
 * the tile reads (of query head blockIdx.y for query tiles, blockIdx.y itself for key tiles). */
struct att_block {
    int hd, g;
    int64_t base;     /* the row's first token */
    int64_t ldq, ldk; /* token strides of q, out, dout (n_head heads) and k, v (n_head_kv heads) */
    int64_t p0;
    int n;
    float scale;      /* of the scores: 1/sqrt(head_dim) */
};

__device__ static inline att_block att_block_at(const lcu_attn &a, int g, int64_t p0, int rows) {
    att_block b;
    b.hd = a.head_dim, b.g = g;
    b.base = (int64_t)blockIdx.z * a.n_seq;
    b.ldq = (int64_t)a.n_head * a.head_dim, b.ldk = (int64_t)a.n_head_kv * a.head_dim;
    b.p0 = p0, b.n = a.n_seq - p0 < rows ? (int)(a.n_seq - p0) : rows;
    b.scale = 1.0f / sqrtf((float)a.head_dim);
    return b;
}

/* A query tile of `rows` of head blockIdx.y: the last query tiles see the most keys, so blocks in
 * launch order take them first. */
__device__ static inline att_block att_query_block(const lcu_attn &a, int rows) {
    return att_block_at(a, (int)blockIdx.y / (a.n_head / a.n_head_kv), (int64_t)(gridDim.x - 1 - blockIdx.x) * rows,
                        rows);
}

/* A key tile of `rows` of kv head blockIdx.y: the first key tiles are seen by the most queries
 * and are launched first. */
__device__ static inline att_block att_key_block(const lcu_attn &a, int rows) {
    return att_block_at(a, (int)blockIdx.y, (int64_t)blockIdx.x * rows, rows);
}

/* The step that opens each tile of a walk: once the previous tile is consumed, loads the segments
 * of the tile that moves (seg_s: rows from position p0 of seg_row) and returns, alike in every
 * thread, whether some query of [q0, q0+nq) sees some key of [k0, k0+nk) (segq, segk: their
 * segments, one of them seg_s). The whole block calls it; flag is one shared int. */
__device__ static inline int att_tile_visible(int32_t *seg_s, const int32_t *seg_row, int64_t p0, int rows,
                                              int64_t n_seq, int32_t *flag, const int32_t *segq, int64_t q0, int nq,
                                              const int32_t *segk, int64_t k0, int nk) {
    __syncthreads();
    att_load_seg(seg_s, seg_row, p0, rows, n_seq);
    if (threadIdx.x == 0) *flag = 0;
    __syncthreads();
    for (int e = threadIdx.x; e < nq * nk; e += blockDim.x) {
        const int i = e / nk, j = e % nk;
        if (att_visible(q0 + i, segq[i], k0 + j, segk[j])) *flag = 1;
    }
    __syncthreads();
    return *flag;
}

/* d[i] = sum over dims of dout·out for rows q0 + i (warp w takes rows w, w + warps, ...), 0 past
 * n_valid: the backward's D = rowsum(dO ∘ O). */
__device__ static inline void att_rowdot(float *d, const float *dout, const lcu_bf16 *out, int64_t ld, int64_t q0,
                                         int rows, int n_valid, int hd) {
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
    for (int i = warp; i < rows; i += warps) {
        float acc = 0.0f;
        if (i < n_valid)
            for (int e = lane; e < hd; e += 32)
                acc = fmaf(dout[(q0 + i) * ld + e], __bfloat162float(out[(q0 + i) * ld + e]), acc);
        acc = lcu_warp_reduce(acc, lcu_op_sum());
        if (lane == 0) d[i] = acc;
    }
}

/* head_dim -> dims per lane: 2 (<= 64), 4 (<= 128) or 8 (<= LCU_ATTN_MAX_HEAD_DIM = 256). */
static inline int att_dims_per_lane(int hd) { return hd <= 64 ? 2 : hd <= 128 ? 4 : 8; }

/* ---- tensor-core geometry (attention_mma*.cu) ------------------------------------------------
 * Blocks of ATM_WARPS warps; a query tile of ATM_BQ rows meets key tiles of ATM_BK (forward, dq),
 * a key tile of ATM_BQ rows meets query tiles of ATM_BK (dk/dv). Every 16x16 score tile of the
 * ATM_BQ x ATM_BK block goes to one warp (warp w: rows 16·(w%4), columns 16·(w/4)); the products
 * with the head dims give warp w the same 16 rows and half the width W (64 or 128 >= head_dim).
 * Operands live in shared memory as bf16 rows of W + ATM_HPAD, f32 tiles have rows of + ATM_FPAD:
 * both keep 16-row blocks 32-byte aligned and strides whole 16-byte units (wmma's rules) and
 * shift consecutive rows by 16 bytes across the banks. */
#define ATM_WARPS 8
#define ATM_THREADS (ATM_WARPS * 32)
#define ATM_BQ 64
#define ATM_BK 32
#define ATM_HPAD 8
#define ATM_FPAD 4

typedef nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float> atm_acc;
typedef nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, 16, 16, 16, lcu_bf16, nvcuda::wmma::row_major> atm_a;
typedef nvcuda::wmma::fragment<nvcuda::wmma::matrix_b, 16, 16, 16, lcu_bf16, nvcuda::wmma::row_major> atm_b_row;
/* a B operand read from rows stored transposed: element (d, j) at s[j][d] (Kᵀ from K, ...) */
typedef nvcuda::wmma::fragment<nvcuda::wmma::matrix_b, 16, 16, 16, lcu_bf16, nvcuda::wmma::col_major> atm_b_col;

/* The tensor-core kernels take head dims that fill whole 16-wide fragments, up to 128. */
static inline int att_mma_applies(int hd) { return hd > 0 && hd % 16 == 0 && hd <= 128; }

#endif
