/* Training attention forward over packed rows on f32 FMAs (ops.h lcu_attention_fma; lcu_attention
 * dispatches here unless attention_mma.cu applies), flash style: a block takes
 * BQ queries of one (row, head) and walks the key tiles they can see with an online softmax, so
 * no score matrix larger than [BQ][32] ever exists. Tiling: attention_tile.cuh.
 *   per key tile: S = scale·Q Kᵀ (lane = key), m' = max(m, rowmax S), P = exp(S - m'),
 *                 l = l·exp(m - m') + rowsum P, O = O·exp(m - m') + P V (lane = head dims)
 *   at the end:   out = O / l, lse = m + log l (padding: 0, 0) */
#include <math.h>

#include "ops/attention_tile.cuh"
#include "ops/ops.h"

template <int DPL>
__global__ void __launch_bounds__(ATT_THREADS) attention_kernel(lcu_attn a, lcu_bf16 *out, float *lse) {
    constexpr int W = DPL * 32, QPW = ATT_ROWS_PER_WARP(DPL), BQ = ATT_WARPS * QPW, BK = 32;
    LCU_DYN_SMEM(float, smem);
    float *qs = smem;                        /* [BQ][W]      read as broadcasts */
    float *ks = qs + BQ * W;                 /* [BK][W + ATT_PAD]  lane j reads row j */
    float *vs = ks + BK * (W + ATT_PAD);     /* [BK][W]      lanes read along a row */
    float *ps = vs + BK * W;                 /* [warps][QPW][BK] probabilities of the tile */
    int32_t *segq = (int32_t *)(ps + ATT_WARPS * QPW * BK), *segk = segq + BQ, *flag = segk + BK;

    const int h = blockIdx.y;
    const auto [hd, g, base, ldq, ldk, t0, nq, scale] = att_query_block(a, BQ);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, i0 = warp * QPW, hd4 = (hd + 3) & ~3;

    att_load_tile(qs, W, a.q + base * ldq + h * hd, ldq, t0, BQ, nq, hd, W);
    att_load_seg(segq, a.seg + base, t0, BQ, a.n_seq);

    float m[QPW], l[QPW], o[QPW][DPL];
    for (int i = 0; i < QPW; i++) {
        m[i] = -INFINITY, l[i] = 0.0f;
        for (int c = 0; c < DPL; c++) o[i][c] = 0.0f;
    }
    for (int64_t k0 = 0; k0 < t0 + nq; k0 += BK) {
        const int nk = t0 + nq - k0 < BK ? (int)(t0 + nq - k0) : BK;
        if (!att_tile_visible(segk, a.seg + base, k0, BK, a.n_seq, flag, segq, t0, nq, segk, k0, nk)) continue;
        att_load_tile(ks, W + ATT_PAD, a.k + base * ldk + g * hd, ldk, k0, BK, nk, hd, W);
        att_load_tile(vs, W, a.v + base * ldk + g * hd, ldk, k0, BK, nk, hd, W);
        __syncthreads();

        float s[QPW];
        for (int i = 0; i < QPW; i++) s[i] = 0.0f;
        const float *krow = ks + lane * (W + ATT_PAD);
        for (int d = 0; d < hd4; d += 4) {
            const att_f4 kd = att_ld4(krow + d);
            for (int i = 0; i < QPW; i++) s[i] = att_dot4(att_ld4(qs + (i0 + i) * W + d), kd, s[i]);
        }
        float *pw = ps + warp * QPW * BK;
        for (int i = 0; i < QPW; i++) {
            const int vis = att_visible(t0 + i0 + i, segq[i0 + i], k0 + lane, segk[lane]);
            const float si = vis ? s[i] * scale : -INFINITY;
            const float mn = fmaxf(m[i], lcu_warp_reduce(si, lcu_op_max()));
            /* mn is -inf only when this query has seen no key yet: nothing to rescale or add */
            const float p = vis ? expf(si - mn) : 0.0f;
            const float alpha = m[i] == -INFINITY ? 0.0f : expf(m[i] - mn);
            l[i] = l[i] * alpha + lcu_warp_reduce(p, lcu_op_sum());
            m[i] = mn;
            for (int c = 0; c < DPL; c++) o[i][c] *= alpha;
            pw[i * BK + lane] = p;
        }
        __syncwarp();
        for (int j = 0; j < BK; j += 4) {
            att_f4 vj[DPL]; /* keys j..j+3 at this lane's dims */
            for (int c = 0; c < DPL; c++) {
                const float *col = vs + j * W + lane + 32 * c;
                vj[c] = {col[0], col[W], col[2 * W], col[3 * W]};
            }
            for (int i = 0; i < QPW; i++) {
                const att_f4 p = att_ld4(pw + i * BK + j);
                for (int c = 0; c < DPL; c++) o[i][c] = att_dot4(p, vj[c], o[i][c]);
            }
        }
        __syncwarp(); /* pw is rewritten by the next tile */
    }

    for (int i = 0; i < QPW; i++) {
        const int64_t t = t0 + i0 + i;
        if (i0 + i >= nq) break;
        const int64_t row = base + t;
        const int live = segq[i0 + i] >= 0; /* a live query sees at least itself: l > 0 */
        const float inv = live ? 1.0f / l[i] : 0.0f;
        if (lane == 0) lse[row * a.n_head + h] = live ? m[i] + logf(l[i]) : 0.0f;
        for (int c = 0; c < DPL; c++) {
            const int d = lane + 32 * c;
            if (d < hd) out[row * ldq + h * hd + d] = __float2bfloat16(o[i][c] * inv);
        }
    }
}

template <int DPL>
static void launch(lcu_stream s, const lcu_attn *a, lcu_bf16 *out, float *lse) {
    constexpr int W = DPL * 32, QPW = ATT_ROWS_PER_WARP(DPL), BQ = ATT_WARPS * QPW, BK = 32;
    const size_t smem = sizeof(float) * (BQ * W + BK * (W + ATT_PAD) + BK * W + ATT_WARPS * QPW * BK) +
                        sizeof(int32_t) * (BQ + BK + 1);
    auto *k = attention_kernel<DPL>;
    cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    const dim3 grid((unsigned)lcu_cdiv(a->n_seq, BQ), (unsigned)a->n_head, (unsigned)a->n_rows);
    LCU_LAUNCH(k, grid, dim3(ATT_THREADS), smem, s, *a, out, lse);
}

void lcu_attention(lcu_stream s, const lcu_attn *a, lcu_bf16 *out, float *lse) {
    if (att_mma_applies(a->head_dim)) lcu_attention_mma(s, a, out, lse);
    else lcu_attention_fma(s, a, out, lse);
}

void lcu_attention_fma(lcu_stream s, const lcu_attn *a, lcu_bf16 *out, float *lse) {
    if (a->n_rows <= 0 || a->n_seq <= 0) return;
    switch (att_dims_per_lane(a->head_dim)) {
    case 2: launch<2>(s, a, out, lse); break;
    case 4: launch<4>(s, a, out, lse); break;
    default: launch<8>(s, a, out, lse); break;
    }
}
