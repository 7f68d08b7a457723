/* Training attention backward on f32 FMAs (ops.h lcu_attention_fma_backward; lcu_attention_backward
 * dispatches here unless attention_mma_backward.cu applies), flash-attention-2 style: the
 * probabilities are recomputed from q, k and the forward's lse, never stored.
 *   P = exp(scale·Q Kᵀ - lse) (masked), dP = dO Vᵀ, D = rowsum(dO ∘ O), dS = P ∘ (dP - D)
 *   dQ = scale·dS K,  dK = scale·dSᵀ Q,  dV = Pᵀ dO
 * Two kernels, no atomics: one block per query tile of a (row, head) owns its dQ rows; one block
 * per key tile of a (row, kv head) owns its dK, dV rows and loops over the query heads of its
 * GQA group. Both recompute D for the query tiles they read (hd products per query, next to the
 * 32·hd of each score tile). Tiling: attention_tile.cuh. */
#include <math.h>

#include "ops/attention_tile.cuh"
#include "ops/ops.h"

/* dQ for BQ queries of one (row, head): walk the visible key tiles, lane = key for the scores. */
template <int DPL>
__global__ void __launch_bounds__(ATT_THREADS)
attention_dq_kernel(lcu_attn a, const lcu_bf16 *out, const float *lse, const float *dout, float *dq) {
    constexpr int W = DPL * 32, QPW = ATT_ROWS_PER_WARP(DPL), BQ = ATT_WARPS * QPW, BK = 32;
    LCU_DYN_SMEM(float, smem);
    float *qs = smem;                   /* [BQ][W]      broadcasts */
    float *dos = qs + BQ * W;           /* [BQ][W]      broadcasts */
    float *ks = dos + BQ * W;           /* [BK][W + ATT_PAD]  lane j reads row j, then lanes along rows */
    float *vs = ks + BK * (W + ATT_PAD); /* [BK][W + ATT_PAD]  lane j reads row j */
    float *dss = vs + BK * (W + ATT_PAD); /* [warps][QPW][BK] dS of the tile */
    float *lses = dss + ATT_WARPS * QPW * BK, *dd = lses + BQ;
    int32_t *segq = (int32_t *)(dd + BQ), *segk = segq + BQ, *flag = segk + BK;

    const int h = blockIdx.y;
    const auto [hd, g, base, ldq, ldk, t0, nq, scale] = att_query_block(a, BQ);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, i0 = warp * QPW, hd4 = (hd + 3) & ~3;

    att_load_tile(qs, W, a.q + base * ldq + h * hd, ldq, t0, BQ, nq, hd, W);
    att_load_tile(dos, W, dout + base * ldq + h * hd, ldq, t0, BQ, nq, hd, W);
    att_load_seg(segq, a.seg + base, t0, BQ, a.n_seq);
    for (int i = threadIdx.x; i < BQ; i += blockDim.x) lses[i] = i < nq ? lse[(base + t0 + i) * a.n_head + h] : 0.0f;
    att_rowdot(dd, dout + base * ldq + h * hd, out + base * ldq + h * hd, ldq, t0, BQ, nq, hd);

    float acc[QPW][DPL];
    for (int i = 0; i < QPW; i++)
        for (int c = 0; c < DPL; c++) acc[i][c] = 0.0f;
    for (int64_t k0 = 0; k0 < t0 + nq; k0 += BK) {
        const int nk = t0 + nq - k0 < BK ? (int)(t0 + nq - k0) : BK;
        if (!att_tile_visible(segk, a.seg + base, k0, BK, a.n_seq, flag, segq, t0, nq, segk, k0, nk)) continue;
        att_load_tile(ks, W + ATT_PAD, a.k + base * ldk + g * hd, ldk, k0, BK, nk, hd, W);
        att_load_tile(vs, W + ATT_PAD, a.v + base * ldk + g * hd, ldk, k0, BK, nk, hd, W);
        __syncthreads();

        float s[QPW], dp[QPW];
        for (int i = 0; i < QPW; i++) s[i] = dp[i] = 0.0f;
        const float *krow = ks + lane * (W + ATT_PAD), *vrow = vs + lane * (W + ATT_PAD);
        for (int d = 0; d < hd4; d += 4) {
            const att_f4 kd = att_ld4(krow + d), vd = att_ld4(vrow + d);
            for (int i = 0; i < QPW; i++) {
                s[i] = att_dot4(att_ld4(qs + (i0 + i) * W + d), kd, s[i]);
                dp[i] = att_dot4(att_ld4(dos + (i0 + i) * W + d), vd, dp[i]);
            }
        }
        float *dsw = dss + warp * QPW * BK;
        for (int i = 0; i < QPW; i++) {
            const int vis = att_visible(t0 + i0 + i, segq[i0 + i], k0 + lane, segk[lane]);
            const float p = vis ? expf(s[i] * scale - lses[i0 + i]) : 0.0f;
            dsw[i * BK + lane] = p * (dp[i] - dd[i0 + i]);
        }
        __syncwarp();
        for (int j = 0; j < BK; j += 4) {
            att_f4 kj[DPL]; /* keys j..j+3 at this lane's dims */
            for (int c = 0; c < DPL; c++) {
                const float *col = ks + j * (W + ATT_PAD) + lane + 32 * c;
                kj[c] = {col[0], col[W + ATT_PAD], col[2 * (W + ATT_PAD)], col[3 * (W + ATT_PAD)]};
            }
            for (int i = 0; i < QPW; i++) {
                const att_f4 ds = att_ld4(dsw + i * BK + j);
                for (int c = 0; c < DPL; c++) acc[i][c] = att_dot4(ds, kj[c], acc[i][c]);
            }
        }
        __syncwarp();
    }
    for (int i = 0; i < QPW && i0 + i < nq; i++) {
        float *row = dq + (base + t0 + i0 + i) * ldq + h * hd;
        for (int c = 0; c < DPL; c++)
            if (lane + 32 * c < hd) row[lane + 32 * c] = scale * acc[i][c];
    }
}

/* dK, dV for BKV keys of one (row, kv head): for each query head of the group, walk the query
 * tiles that can see them, lane = query for the scores. */
template <int DPL>
__global__ void __launch_bounds__(ATT_THREADS)
attention_dkv_kernel(lcu_attn a, const lcu_bf16 *out, const float *lse, const float *dout, float *dk, float *dv) {
    constexpr int W = DPL * 32, KPW = ATT_ROWS_PER_WARP(DPL), BKV = ATT_WARPS * KPW, BQ = 32;
    LCU_DYN_SMEM(float, smem);
    float *ks = smem;                   /* [BKV][W]     broadcasts */
    float *vs = ks + BKV * W;           /* [BKV][W]     broadcasts */
    float *qs = vs + BKV * W;           /* [BQ][W + ATT_PAD]  lane i reads row i, then lanes along rows */
    float *dos = qs + BQ * (W + ATT_PAD); /* [BQ][W + ATT_PAD]  the same */
    float *pss = dos + BQ * (W + ATT_PAD); /* [warps][KPW][BQ] P of the tile, transposed */
    float *dss = pss + ATT_WARPS * KPW * BQ; /* [warps][KPW][BQ] dS, transposed */
    float *lses = dss + ATT_WARPS * KPW * BQ, *dd = lses + BQ;
    int32_t *segk = (int32_t *)(dd + BQ), *segq = segk + BKV, *flag = segq + BQ;

    const int group = a.n_head / a.n_head_kv;
    const auto [hd, g, base, ldq, ldk, k0, nk, scale] = att_key_block(a, BKV);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, j0 = warp * KPW, hd4 = (hd + 3) & ~3;

    att_load_tile(ks, W, a.k + base * ldk + g * hd, ldk, k0, BKV, nk, hd, W);
    att_load_tile(vs, W, a.v + base * ldk + g * hd, ldk, k0, BKV, nk, hd, W);
    att_load_seg(segk, a.seg + base, k0, BKV, a.n_seq);

    float ak[KPW][DPL], av[KPW][DPL];
    for (int j = 0; j < KPW; j++)
        for (int c = 0; c < DPL; c++) ak[j][c] = av[j][c] = 0.0f;
    for (int h = g * group; h < (g + 1) * group; h++) {
        /* queries before k0 see none of these keys */
        for (int64_t q0 = k0 - k0 % BQ; q0 < a.n_seq; q0 += BQ) {
            const int nq = a.n_seq - q0 < BQ ? (int)(a.n_seq - q0) : BQ;
            if (!att_tile_visible(segq, a.seg + base, q0, BQ, a.n_seq, flag, segq, q0, nq, segk, k0, nk)) continue;
            att_load_tile(qs, W + ATT_PAD, a.q + base * ldq + h * hd, ldq, q0, BQ, nq, hd, W);
            att_load_tile(dos, W + ATT_PAD, dout + base * ldq + h * hd, ldq, q0, BQ, nq, hd, W);
            for (int i = threadIdx.x; i < BQ; i += blockDim.x) lses[i] = i < nq ? lse[(base + q0 + i) * a.n_head + h] : 0.0f;
            att_rowdot(dd, dout + base * ldq + h * hd, out + base * ldq + h * hd, ldq, q0, BQ, nq, hd);
            __syncthreads();

            float s[KPW], dp[KPW];
            for (int j = 0; j < KPW; j++) s[j] = dp[j] = 0.0f;
            const float *qrow = qs + lane * (W + ATT_PAD), *dorow = dos + lane * (W + ATT_PAD);
            for (int d = 0; d < hd4; d += 4) {
                const att_f4 qd = att_ld4(qrow + d), dod = att_ld4(dorow + d);
                for (int j = 0; j < KPW; j++) {
                    s[j] = att_dot4(qd, att_ld4(ks + (j0 + j) * W + d), s[j]);
                    dp[j] = att_dot4(dod, att_ld4(vs + (j0 + j) * W + d), dp[j]);
                }
            }
            float *pw = pss + warp * KPW * BQ, *dsw = dss + warp * KPW * BQ;
            for (int j = 0; j < KPW; j++) {
                const int vis = att_visible(q0 + lane, segq[lane], k0 + j0 + j, segk[j0 + j]);
                const float p = vis ? expf(s[j] * scale - lses[lane]) : 0.0f;
                pw[j * BQ + lane] = p;
                dsw[j * BQ + lane] = p * (dp[j] - dd[lane]);
            }
            __syncwarp();
            for (int i = 0; i < BQ; i += 4) {
                att_f4 qi[DPL], doi[DPL]; /* queries i..i+3 at this lane's dims */
                for (int c = 0; c < DPL; c++) {
                    const float *qc = qs + i * (W + ATT_PAD) + lane + 32 * c, *dc = dos + i * (W + ATT_PAD) + lane + 32 * c;
                    qi[c] = {qc[0], qc[W + ATT_PAD], qc[2 * (W + ATT_PAD)], qc[3 * (W + ATT_PAD)]};
                    doi[c] = {dc[0], dc[W + ATT_PAD], dc[2 * (W + ATT_PAD)], dc[3 * (W + ATT_PAD)]};
                }
                for (int j = 0; j < KPW; j++) {
                    const att_f4 p = att_ld4(pw + j * BQ + i), ds = att_ld4(dsw + j * BQ + i);
                    for (int c = 0; c < DPL; c++) {
                        av[j][c] = att_dot4(p, doi[c], av[j][c]);
                        ak[j][c] = att_dot4(ds, qi[c], ak[j][c]);
                    }
                }
            }
            __syncwarp();
        }
    }
    for (int j = 0; j < KPW && j0 + j < nk; j++) {
        const int64_t off = (base + k0 + j0 + j) * ldk + g * hd;
        for (int c = 0; c < DPL; c++) {
            const int d = lane + 32 * c;
            if (d < hd) {
                dk[off + d] = scale * ak[j][c];
                dv[off + d] = av[j][c];
            }
        }
    }
}

template <int DPL>
static void launch(lcu_stream s, const lcu_attn *a, const lcu_bf16 *out, const float *lse, const float *dout,
                   float *dq, float *dk, float *dv) {
    constexpr int W = DPL * 32, R = ATT_ROWS_PER_WARP(DPL), B = ATT_WARPS * R, T = 32;
    const size_t smem_dq = sizeof(float) * (2 * B * W + 2 * T * (W + ATT_PAD) + ATT_WARPS * R * T + 2 * B) +
                           sizeof(int32_t) * (B + T + 1);
    const size_t smem_dkv = sizeof(float) * (2 * B * W + 2 * T * (W + ATT_PAD) + 2 * ATT_WARPS * R * T + 2 * T) +
                            sizeof(int32_t) * (B + T + 1);
    auto *kq = attention_dq_kernel<DPL>;
    auto *kkv = attention_dkv_kernel<DPL>;
    cudaFuncSetAttribute(kq, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem_dq);
    cudaFuncSetAttribute(kkv, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem_dkv);
    const unsigned n_tiles = (unsigned)lcu_cdiv(a->n_seq, B);
    LCU_LAUNCH(kq, dim3(n_tiles, (unsigned)a->n_head, (unsigned)a->n_rows), dim3(ATT_THREADS), smem_dq, s, *a,
               out, lse, dout, dq);
    LCU_LAUNCH(kkv, dim3(n_tiles, (unsigned)a->n_head_kv, (unsigned)a->n_rows), dim3(ATT_THREADS), smem_dkv, s,
               *a, out, lse, dout, dk, dv);
}

void lcu_attention_backward(lcu_stream s, const lcu_attn *a, const lcu_bf16 *out, const float *lse,
                            const float *dout, float *dq, float *dk, float *dv) {
    if (att_mma_applies(a->head_dim)) lcu_attention_mma_backward(s, a, out, lse, dout, dq, dk, dv);
    else lcu_attention_fma_backward(s, a, out, lse, dout, dq, dk, dv);
}

void lcu_attention_fma_backward(lcu_stream s, const lcu_attn *a, const lcu_bf16 *out, const float *lse,
                                const float *dout, float *dq, float *dk, float *dv) {
    if (a->n_rows <= 0 || a->n_seq <= 0) return;
    switch (att_dims_per_lane(a->head_dim)) {
    case 2: launch<2>(s, a, out, lse, dout, dq, dk, dv); break;
    case 4: launch<4>(s, a, out, lse, dout, dq, dk, dv); break;
    default: launch<8>(s, a, out, lse, dout, dq, dk, dv); break;
    }
}
