/* Training attention backward on tensor cores (ops.h lcu_attention_mma_backward; chosen by
 * lcu_attention_backward for head_dim a multiple of 16 up to 128), flash-attention-2 style as
 * attention_backward.cu with the same two kernels and no atomics:
 *   per tile pair:  S = Q Kᵀ, dP = dO Vᵀ (wmma: bf16 q, k, v and dO, f32 accumulators) into
 *                   shared memory; P = exp(scale·S - lse) (masked), dS = P ∘ (dP - D) with
 *                   D = rowsum(dO ∘ O) in f32, rounded to bf16 for the products;
 *   dq kernel:      dQ += dS K              (a block per query tile of a (row, head));
 *   dk/dv kernel:   dV += Pᵀ dO, dK += dSᵀ Q (a block per key tile of a (row, kv head), looping
 *                   over the query heads of its GQA group), scores computed transposed (Sᵀ = K Qᵀ)
 *                   so each warp's products read its own key rows.
 * dQ, dK, dV need no rescaling, so they accumulate in fragments (W/32 per warp and product) and
 * go to global memory through a per-warp staging tile at the end. Geometry: attention_tile.cuh. */
#include <math.h>

#include "ops/attention_tile.cuh"
#include "ops/ops.h"

using namespace nvcuda;

/* Shared memory for width W, in bytes, of the dk/dv kernel (the dq kernel needs one bf16 tile
 * less and gets the same): ATM_BQ-row and ATM_BK-row operand pairs, two f32 score tiles, two
 * bf16 probability tiles, per-row lse and D, segments and the flag. */
template <int W> static constexpr size_t atm_bwd_smem() {
    return 2 * 2 * (size_t)(ATM_BQ + ATM_BK) * (W + ATM_HPAD) + 2 * 4 * (size_t)ATM_BQ * (ATM_BK + ATM_FPAD) +
           2 * 2 * (size_t)ATM_BQ * (ATM_BK + ATM_HPAD) + 2 * 4 * (size_t)ATM_BQ + 4 * (size_t)(ATM_BQ + ATM_BK + 1);
}

/* rows [0, n_valid) of the 16x16 tile acc·mult to dst (row stride ld) through this warp's
 * 16x16 staging tile (fragments have no portable element order to write from directly). */
__device__ static void atm_store_rows(float *dst, int64_t ld, int n_valid, atm_acc &acc, float mult, float *stage) {
    for (int e = 0; e < acc.num_elements; e++) acc.x[e] *= mult;
    wmma::store_matrix_sync(stage, acc, 16, wmma::mem_row_major);
    __syncwarp();
    for (int e = threadIdx.x % 32; e < 256; e += 32)
        if (e / 16 < n_valid) dst[(e / 16) * ld + e % 16] = stage[e];
    __syncwarp(); /* the stage is rewritten by the next call */
}

/* The two score tiles of one 16x16 block: s = A1 B1ᵀ, dp = A2 B2ᵀ over hd, from rows of a1/a2
 * and b1/b2 (row stride ld), stored at s_out / dp_out (row stride lds). */
__device__ static void atm_scores(const lcu_bf16 *a1, const lcu_bf16 *b1, const lcu_bf16 *a2, const lcu_bf16 *b2,
                                  int ld, int hd, float *s_out, float *dp_out, int lds) {
    atm_acc s, dp;
    wmma::fill_fragment(s, 0.0f);
    wmma::fill_fragment(dp, 0.0f);
    for (int kk = 0; kk < hd; kk += 16) {
        atm_a fa;
        atm_b_col fb;
        wmma::load_matrix_sync(fa, a1 + kk, ld);
        wmma::load_matrix_sync(fb, b1 + kk, ld);
        wmma::mma_sync(s, fa, fb, s);
        wmma::load_matrix_sync(fa, a2 + kk, ld);
        wmma::load_matrix_sync(fb, b2 + kk, ld);
        wmma::mma_sync(dp, fa, fb, dp);
    }
    wmma::store_matrix_sync(s_out, s, lds, wmma::mem_row_major);
    wmma::store_matrix_sync(dp_out, dp, lds, wmma::mem_row_major);
}

/* acc += A B over ATM_BK: A rows of a (stride lda, bf16 probabilities), B rows of b (stride ldb). */
__device__ static void atm_accumulate(atm_acc &acc, const lcu_bf16 *a, int lda, const lcu_bf16 *b, int ldb) {
    for (int kk = 0; kk < ATM_BK; kk += 16) {
        atm_a fa;
        atm_b_row fb;
        wmma::load_matrix_sync(fa, a + kk, lda);
        wmma::load_matrix_sync(fb, b + kk * ldb, ldb);
        wmma::mma_sync(acc, fa, fb, acc);
    }
}

/* dQ for ATM_BQ queries of one (row, head) against the key tiles of ATM_BK they see. */
template <int W>
__global__ void __launch_bounds__(ATM_THREADS)
attention_mma_dq_kernel(lcu_attn a, const lcu_bf16 *out, const float *lse, const float *dout, float *dq) {
    constexpr int BQ = ATM_BQ, BK = ATM_BK, LH = W + ATM_HPAD, LS = BK + ATM_FPAD, LP = BK + ATM_HPAD;
    LCU_DYN_SMEM(unsigned char, smem);
    lcu_bf16 *qs = (lcu_bf16 *)smem;  /* [BQ][LH] */
    lcu_bf16 *dos = qs + BQ * LH;     /* [BQ][LH] */
    lcu_bf16 *ks = dos + BQ * LH;     /* [BK][LH] */
    lcu_bf16 *vs = ks + BK * LH;      /* [BK][LH] */
    float *ss = (float *)(vs + BK * LH); /* [BQ][LS] S, then the staging tiles */
    float *dps = ss + BQ * LS;           /* [BQ][LS] dP */
    lcu_bf16 *dss = (lcu_bf16 *)(dps + BQ * LS); /* [BQ][LP] dS */
    float *lses = (float *)(dss + BQ * LP), *dd = lses + BQ;
    int32_t *segq = (int32_t *)(dd + BQ), *segk = segq + BQ, *flag = segk + BK;

    const int h = blockIdx.y;
    const auto [hd, g, base, ldq, ldk, t0, nq, scale] = att_query_block(a, BQ);
    const int warp = threadIdx.x / 32, mr = 16 * (warp % 4), nc = 16 * (warp / 4), dh = (warp / 4) * (W / 2);

    att_load_tile_bf16(qs, LH, a.q + base * ldq + h * hd, ldq, t0, BQ, nq, hd);
    att_load_tile_bf16(dos, LH, dout + base * ldq + h * hd, ldq, t0, BQ, nq, hd);
    att_load_seg(segq, a.seg + base, t0, BQ, a.n_seq);
    for (int i = threadIdx.x; i < BQ; i += blockDim.x) lses[i] = i < nq ? lse[(base + t0 + i) * a.n_head + h] : 0.0f;
    att_rowdot(dd, dout + base * ldq + h * hd, out + base * ldq + h * hd, ldq, t0, BQ, nq, hd);

    atm_acc acc[W / 32];
    for (int c = 0; c < W / 32; c++) wmma::fill_fragment(acc[c], 0.0f);
    for (int64_t k0 = 0; k0 < t0 + nq; k0 += BK) {
        const int nk = t0 + nq - k0 < BK ? (int)(t0 + nq - k0) : BK;
        if (!att_tile_visible(segk, a.seg + base, k0, BK, a.n_seq, flag, segq, t0, nq, segk, k0, nk)) continue;
        att_load_tile_bf16(ks, LH, a.k + base * ldk + g * hd, ldk, k0, BK, nk, hd);
        att_load_tile_bf16(vs, LH, a.v + base * ldk + g * hd, ldk, k0, BK, nk, hd);
        __syncthreads();
        atm_scores(qs + mr * LH, ks + nc * LH, dos + mr * LH, vs + nc * LH, LH, hd, ss + mr * LS + nc,
                   dps + mr * LS + nc, LS);
        __syncthreads();
        for (int e = threadIdx.x; e < BQ * BK; e += blockDim.x) {
            const int i = e / BK, j = e % BK;
            const int vis = att_visible(t0 + i, segq[i], k0 + j, segk[j]);
            const float p = vis ? expf(ss[i * LS + j] * scale - lses[i]) : 0.0f;
            dss[i * LP + j] = __float2bfloat16(p * (dps[i * LS + j] - dd[i]));
        }
        __syncthreads();
        for (int c = 0; c < W / 32; c++)
            if (dh + 16 * c < hd) atm_accumulate(acc[c], dss + mr * LP, LP, ks + dh + 16 * c, LH);
    }
    __syncthreads(); /* ss becomes the staging tiles */
    const int valid = nq - mr;
    for (int c = 0; c < W / 32; c++)
        if (dh + 16 * c < hd && valid > 0)
            atm_store_rows(dq + (base + t0 + mr) * ldq + h * hd + dh + 16 * c, ldq, valid < 16 ? valid : 16, acc[c],
                           scale, ss + warp * 256);
}

/* dK, dV for ATM_BQ keys of one (row, kv head): for each query head of the group, the query tiles
 * of ATM_BK that see them. */
template <int W>
__global__ void __launch_bounds__(ATM_THREADS)
attention_mma_dkv_kernel(lcu_attn a, const lcu_bf16 *out, const float *lse, const float *dout, float *dk, float *dv) {
    constexpr int BKV = ATM_BQ, BQ = ATM_BK, LH = W + ATM_HPAD, LS = BQ + ATM_FPAD, LP = BQ + ATM_HPAD;
    LCU_DYN_SMEM(unsigned char, smem);
    lcu_bf16 *ks = (lcu_bf16 *)smem;  /* [BKV][LH] */
    lcu_bf16 *vs = ks + BKV * LH;     /* [BKV][LH] */
    lcu_bf16 *qs = vs + BKV * LH;     /* [BQ][LH] */
    lcu_bf16 *dos = qs + BQ * LH;     /* [BQ][LH] */
    float *ss = (float *)(dos + BQ * LH); /* [BKV][LS] Sᵀ, then the staging tiles */
    float *dps = ss + BKV * LS;           /* [BKV][LS] dPᵀ */
    lcu_bf16 *pts = (lcu_bf16 *)(dps + BKV * LS); /* [BKV][LP] Pᵀ */
    lcu_bf16 *dsts = pts + BKV * LP;              /* [BKV][LP] dSᵀ */
    float *lses = (float *)(dsts + BKV * LP), *dd = lses + BKV; /* BQ used of each */
    int32_t *segk = (int32_t *)(dd + BKV), *segq = segk + BKV, *flag = segq + BQ;

    const int group = a.n_head / a.n_head_kv;
    const auto [hd, g, base, ldq, ldk, k0, nk, scale] = att_key_block(a, BKV);
    const int warp = threadIdx.x / 32, mr = 16 * (warp % 4), nc = 16 * (warp / 4), dh = (warp / 4) * (W / 2);

    att_load_tile_bf16(ks, LH, a.k + base * ldk + g * hd, ldk, k0, BKV, nk, hd);
    att_load_tile_bf16(vs, LH, a.v + base * ldk + g * hd, ldk, k0, BKV, nk, hd);
    att_load_seg(segk, a.seg + base, k0, BKV, a.n_seq);

    atm_acc ak[W / 32], av[W / 32];
    for (int c = 0; c < W / 32; c++) wmma::fill_fragment(ak[c], 0.0f), wmma::fill_fragment(av[c], 0.0f);
    for (int h = g * group; h < (g + 1) * group; h++) {
        /* queries before k0 see none of these keys (k0 is a multiple of BQ) */
        for (int64_t q0 = k0; q0 < a.n_seq; q0 += BQ) {
            const int nq = a.n_seq - q0 < BQ ? (int)(a.n_seq - q0) : BQ;
            if (!att_tile_visible(segq, a.seg + base, q0, BQ, a.n_seq, flag, segq, q0, nq, segk, k0, nk)) continue;
            att_load_tile_bf16(qs, LH, a.q + base * ldq + h * hd, ldq, q0, BQ, nq, hd);
            att_load_tile_bf16(dos, LH, dout + base * ldq + h * hd, ldq, q0, BQ, nq, hd);
            for (int i = threadIdx.x; i < BQ; i += blockDim.x) lses[i] = i < nq ? lse[(base + q0 + i) * a.n_head + h] : 0.0f;
            att_rowdot(dd, dout + base * ldq + h * hd, out + base * ldq + h * hd, ldq, q0, BQ, nq, hd);
            __syncthreads();
            atm_scores(ks + mr * LH, qs + nc * LH, vs + mr * LH, dos + nc * LH, LH, hd, ss + mr * LS + nc,
                       dps + mr * LS + nc, LS);
            __syncthreads();
            for (int e = threadIdx.x; e < BKV * BQ; e += blockDim.x) {
                const int j = e / BQ, i = e % BQ; /* key j, query i */
                const int vis = att_visible(q0 + i, segq[i], k0 + j, segk[j]);
                const float p = vis ? expf(ss[j * LS + i] * scale - lses[i]) : 0.0f;
                pts[j * LP + i] = __float2bfloat16(p);
                dsts[j * LP + i] = __float2bfloat16(p * (dps[j * LS + i] - dd[i]));
            }
            __syncthreads();
            for (int c = 0; c < W / 32; c++)
                if (dh + 16 * c < hd) {
                    atm_accumulate(av[c], pts + mr * LP, LP, dos + dh + 16 * c, LH);
                    atm_accumulate(ak[c], dsts + mr * LP, LP, qs + dh + 16 * c, LH);
                }
        }
    }
    __syncthreads(); /* ss becomes the staging tiles */
    const int valid = nk - mr;
    for (int c = 0; c < W / 32; c++)
        if (dh + 16 * c < hd && valid > 0) {
            const int64_t off = (base + k0 + mr) * ldk + g * hd + dh + 16 * c;
            const int n = valid < 16 ? valid : 16;
            atm_store_rows(dk + off, ldk, n, ak[c], scale, ss + warp * 256);
            atm_store_rows(dv + off, ldk, n, av[c], 1.0f, ss + warp * 256);
        }
}

template <int W>
static void launch(lcu_stream s, const lcu_attn *a, const lcu_bf16 *out, const float *lse, const float *dout,
                   float *dq, float *dk, float *dv) {
    const size_t smem = atm_bwd_smem<W>();
    auto *kq = attention_mma_dq_kernel<W>;
    auto *kkv = attention_mma_dkv_kernel<W>;
    cudaFuncSetAttribute(kq, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    cudaFuncSetAttribute(kkv, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    const unsigned n_tiles = (unsigned)lcu_cdiv(a->n_seq, ATM_BQ);
    LCU_LAUNCH(kq, dim3(n_tiles, (unsigned)a->n_head, (unsigned)a->n_rows), dim3(ATM_THREADS), smem, s, *a, out,
               lse, dout, dq);
    LCU_LAUNCH(kkv, dim3(n_tiles, (unsigned)a->n_head_kv, (unsigned)a->n_rows), dim3(ATM_THREADS), smem, s, *a,
               out, lse, dout, dk, dv);
}

void lcu_attention_mma_backward(lcu_stream s, const lcu_attn *a, const lcu_bf16 *out, const float *lse,
                                const float *dout, float *dq, float *dk, float *dv) {
    if (a->n_rows <= 0 || a->n_seq <= 0) return;
    if (a->head_dim <= 64) launch<64>(s, a, out, lse, dout, dq, dk, dv);
    else launch<128>(s, a, out, lse, dout, dq, dk, dv);
}
