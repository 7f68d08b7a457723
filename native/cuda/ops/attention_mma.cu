/* Training attention forward on tensor cores (ops.h lcu_attention_mma; lcu_attention picks it for
 * head_dim a multiple of 16 up to 128). The same flash walk as attention.cu, per key tile:
 *   S = Q Kᵀ (wmma, bf16 q and k, f32 accumulators) into shared memory;
 *   each query row, from its stored scores: m' = max(m, rowmax scale·S), P = exp(scale·S - m')
 *   (masked), l = l·exp(m - m') + rowsum P, its running O row (f32, shared) times exp(m - m');
 *   O += P V (wmma, P rounded to bf16, the O tile loaded into accumulators and stored back).
 * Each row has its own rescale, which fragments cannot express portably (their element order is
 * unspecified), hence O in shared memory rather than in accumulators. Geometry: attention_tile.cuh. */
#include <math.h>

#include "ops/attention_tile.cuh"
#include "ops/ops.h"

using namespace nvcuda;

/* Shared memory of the kernel for width W, in bytes (every region a multiple of 32 bytes). */
template <int W> static constexpr size_t atm_fwd_smem() {
    return 2 * (size_t)(ATM_BQ + 2 * ATM_BK) * (W + ATM_HPAD) + 4 * (size_t)ATM_BQ * (ATM_BK + ATM_FPAD) +
           4 * (size_t)ATM_BQ * (W + ATM_FPAD) + 2 * (size_t)ATM_BQ * (ATM_BK + ATM_HPAD) +
           4 * (size_t)(ATM_BQ + ATM_BK + 1);
}

template <int W>
__global__ void __launch_bounds__(ATM_THREADS) attention_mma_kernel(lcu_attn a, lcu_bf16 *out, float *lse) {
    constexpr int BQ = ATM_BQ, BK = ATM_BK, LH = W + ATM_HPAD, LS = BK + ATM_FPAD, LO = W + ATM_FPAD,
                  LP = BK + ATM_HPAD, RPW = BQ / ATM_WARPS;
    LCU_DYN_SMEM(unsigned char, smem);
    lcu_bf16 *qs = (lcu_bf16 *)smem; /* [BQ][LH] */
    lcu_bf16 *ks = qs + BQ * LH;     /* [BK][LH] */
    lcu_bf16 *vs = ks + BK * LH;     /* [BK][LH] */
    float *ss = (float *)(vs + BK * LH); /* [BQ][LS] scores of the tile */
    float *os = ss + BQ * LS;            /* [BQ][LO] running O */
    lcu_bf16 *ps = (lcu_bf16 *)(os + BQ * LO); /* [BQ][LP] probabilities of the tile */
    int32_t *segq = (int32_t *)(ps + BQ * LP), *segk = segq + BQ, *flag = segk + BK;

    const int h = blockIdx.y;
    const auto [hd, g, base, ldq, ldk, t0, nq, scale] = att_query_block(a, BQ);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int mr = 16 * (warp % 4), nc = 16 * (warp / 4), dh = (warp / 4) * (W / 2), i0 = warp * RPW;

    att_load_tile_bf16(qs, LH, a.q + base * ldq + h * hd, ldq, t0, BQ, nq, hd);
    att_load_seg(segq, a.seg + base, t0, BQ, a.n_seq);
    for (int e = threadIdx.x; e < BQ * LO; e += blockDim.x) os[e] = 0.0f;

    /* softmax state of rows i0.. i0+RPW-1 (the rows this warp normalises), alike in every lane */
    float m[RPW], l[RPW];
    for (int i = 0; i < RPW; i++) m[i] = -INFINITY, l[i] = 0.0f;
    for (int64_t k0 = 0; k0 < t0 + nq; k0 += BK) {
        const int nk = t0 + nq - k0 < BK ? (int)(t0 + nq - k0) : BK;
        if (!att_tile_visible(segk, a.seg + base, k0, BK, a.n_seq, flag, segq, t0, nq, segk, k0, nk)) continue;
        att_load_tile_bf16(ks, LH, a.k + base * ldk + g * hd, ldk, k0, BK, nk, hd);
        att_load_tile_bf16(vs, LH, a.v + base * ldk + g * hd, ldk, k0, BK, nk, hd);
        __syncthreads();

        {
            atm_acc s;
            wmma::fill_fragment(s, 0.0f);
            for (int kk = 0; kk < hd; kk += 16) {
                atm_a qa;
                atm_b_col kb; /* Kᵀ: element (d, key) at ks[key][d] */
                wmma::load_matrix_sync(qa, qs + mr * LH + kk, LH);
                wmma::load_matrix_sync(kb, ks + nc * LH + kk, LH);
                wmma::mma_sync(s, qa, kb, s);
            }
            wmma::store_matrix_sync(ss + mr * LS + nc, s, LS, wmma::mem_row_major);
        }
        __syncthreads();

        for (int i = 0; i < RPW; i++) { /* lane = key */
            const int row = i0 + i;
            const int vis = att_visible(t0 + row, segq[row], k0 + lane, segk[lane]);
            const float si = vis ? ss[row * LS + lane] * scale : -INFINITY;
            const float mn = fmaxf(m[i], lcu_warp_reduce(si, lcu_op_max()));
            /* mn is -inf only when this query has seen no key yet: nothing to rescale or add */
            const float p = vis ? expf(si - mn) : 0.0f;
            const float alpha = m[i] == -INFINITY ? 0.0f : expf(m[i] - mn);
            l[i] = l[i] * alpha + lcu_warp_reduce(p, lcu_op_sum());
            m[i] = mn;
            ps[row * LP + lane] = __float2bfloat16(p);
            for (int d = lane; d < hd; d += 32) os[row * LO + d] *= alpha;
        }
        __syncthreads();

        for (int c = 0; c < W / 32; c++) {
            const int d0 = dh + 16 * c;
            if (d0 >= hd) break;
            atm_acc o;
            wmma::load_matrix_sync(o, os + mr * LO + d0, LO, wmma::mem_row_major);
            for (int kk = 0; kk < BK; kk += 16) {
                atm_a pa;
                atm_b_row vb;
                wmma::load_matrix_sync(pa, ps + mr * LP + kk, LP);
                wmma::load_matrix_sync(vb, vs + kk * LH + d0, LH);
                wmma::mma_sync(o, pa, vb, o);
            }
            wmma::store_matrix_sync(os + mr * LO + d0, o, LO, wmma::mem_row_major);
        }
    }
    __syncthreads(); /* O rows come from other warps' products */

    for (int i = 0; i < RPW && i0 + i < nq; i++) {
        const int row = i0 + i;
        const int64_t at = base + t0 + row;
        const int live = segq[row] >= 0; /* a live query sees at least itself: l > 0 */
        const float inv = live ? 1.0f / l[i] : 0.0f;
        if (lane == 0) lse[at * a.n_head + h] = live ? m[i] + logf(l[i]) : 0.0f;
        for (int d = lane; d < hd; d += 32) out[at * ldq + h * hd + d] = __float2bfloat16(os[row * LO + d] * inv);
    }
}

template <int W> static void launch(lcu_stream s, const lcu_attn *a, lcu_bf16 *out, float *lse) {
    const size_t smem = atm_fwd_smem<W>();
    auto *k = attention_mma_kernel<W>;
    cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    const dim3 grid((unsigned)lcu_cdiv(a->n_seq, ATM_BQ), (unsigned)a->n_head, (unsigned)a->n_rows);
    LCU_LAUNCH(k, grid, dim3(ATM_THREADS), smem, s, *a, out, lse);
}

void lcu_attention_mma(lcu_stream s, const lcu_attn *a, lcu_bf16 *out, float *lse) {
    if (a->n_rows <= 0 || a->n_seq <= 0) return;
    if (a->head_dim <= 64) launch<64>(s, a, out, lse);
    else launch<128>(s, a, out, lse);
}
