/* Decoding attention against the bf16 KV cache (ops.h lcu_kv_store, lcu_attention_cache), the
 * semantics of the CPU's infer/attention.c: query i, head h reads kv head h / (n_head/n_head_kv)
 * of sequence seq[i] at positions 0..pos[i], scale 1/sqrt(head_dim).
 *
 * One block per (query, head): each of its warps walks every n_warps-th cached position with the
 * lanes across the head dims (coalesced bf16 reads), one warp-reduced dot product per key and an
 * online softmax in registers; the warps' partial (max, sum, output) are merged at the end.
 * Decoding is bound by reading the cache, each key's K and V row once per head of its group
 * (the other heads' reads mostly hit L2). With few (query, head) pairs the blocks grow to 16
 * warps so that a long context is still read by many warps at once: a split of the keys over
 * several blocks would need a workspace for the partial results, which ops.h does not pass. */
#include <math.h>

#include "ops/attention_tile.cuh"

#define CACHE_MAX_WARPS 16

__global__ void kv_store_kernel(lcu_kv kv, const float *k, const float *v, const int32_t *seq,
                                const int32_t *pos, int64_t n) {
    const int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    const int64_t row = (int64_t)kv.n_head_kv * kv.head_dim;
    if (e >= n * row) return;
    const int64_t i = e / row, gd = e % row, g = gd / kv.head_dim, d = gd % kv.head_dim;
    const int64_t at = (((int64_t)seq[i] * kv.n_head_kv + g) * kv.n_ctx + pos[i]) * kv.head_dim + d;
    kv.k[at] = __float2bfloat16(k[e]);
    kv.v[at] = __float2bfloat16(v[e]);
}

void lcu_kv_store(lcu_stream s, const lcu_kv *kv, const float *k, const float *v, const int32_t *seq,
                  const int32_t *pos, int64_t n) {
    const int64_t total = n * kv->n_head_kv * kv->head_dim;
    if (total <= 0) return;
    LCU_LAUNCH(kv_store_kernel, dim3((unsigned)lcu_cdiv(total, 256)), dim3(256), 0, s, *kv, k, v, seq, pos, n);
}

template <int DPL>
__global__ void __launch_bounds__(CACHE_MAX_WARPS * 32)
attention_cache_kernel(lcu_kv kv, const float *q, const int32_t *seq, const int32_t *pos, int n_head,
                       lcu_bf16 *out) {
    constexpr int W = DPL * 32;
    __shared__ float wm[CACHE_MAX_WARPS], wl[CACHE_MAX_WARPS], wo[CACHE_MAX_WARPS][W];
    const int hd = kv.head_dim, h = (int)(blockIdx.x % n_head), g = h / (n_head / kv.n_head_kv);
    const int64_t i = blockIdx.x / n_head, ld = (int64_t)n_head * hd;
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, n_warps = blockDim.x / 32;
    const float scale = 1.0f / sqrtf((float)hd);
    const int64_t head = ((int64_t)seq[i] * kv.n_head_kv + g) * kv.n_ctx * hd;
    const lcu_bf16 *kc = kv.k + head, *vc = kv.v + head;

    float qd[DPL], o[DPL];
    for (int c = 0; c < DPL; c++) {
        const int d = lane + 32 * c;
        qd[c] = d < hd ? q[i * ld + h * hd + d] * scale : 0.0f;
        o[c] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    const int64_t n_keys = (int64_t)pos[i] + 1;
    for (int64_t u = warp; u < n_keys; u += n_warps) {
        float sd = 0.0f;
        for (int c = 0; c < DPL; c++) {
            const int d = lane + 32 * c;
            if (d < hd) sd = fmaf(qd[c], __bfloat162float(kc[u * hd + d]), sd);
        }
        const float sc = lcu_warp_reduce(sd, lcu_op_sum());
        const float mn = fmaxf(m, sc);
        const float alpha = expf(m - mn), p = expf(sc - mn); /* m = -inf at the first key: alpha 0 */
        l = l * alpha + p;
        m = mn;
        for (int c = 0; c < DPL; c++) {
            const int d = lane + 32 * c;
            o[c] = o[c] * alpha + (d < hd ? p * __bfloat162float(vc[u * hd + d]) : 0.0f);
        }
    }
    if (lane == 0) wm[warp] = m, wl[warp] = l;
    for (int c = 0; c < DPL; c++) wo[warp][lane + 32 * c] = o[c];
    __syncthreads();

    /* a warp that saw no key (m = -inf) has weight 0 */
    float mx = -INFINITY, sum = 0.0f;
    for (int w = 0; w < n_warps; w++) mx = fmaxf(mx, wm[w]);
    for (int w = 0; w < n_warps; w++) sum = fmaf(wl[w], expf(wm[w] - mx), sum);
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        float acc = 0.0f;
        for (int w = 0; w < n_warps; w++) acc = fmaf(wo[w][d], expf(wm[w] - mx), acc);
        out[i * ld + h * hd + d] = __float2bfloat16(acc / sum);
    }
}

template <int DPL>
static void launch(lcu_stream s, const lcu_kv *kv, const float *q, const int32_t *seq, const int32_t *pos,
                   int64_t n, int n_head, lcu_bf16 *out) {
    /* an H100 has 132 SMs: below a few blocks per SM, more warps per block */
    const int64_t blocks = n * n_head;
    const int warps = blocks >= 512 ? 4 : blocks >= 128 ? 8 : CACHE_MAX_WARPS;
    auto *k = attention_cache_kernel<DPL>;
    /* block = query * n_head + head: the heads of a GQA group run next to each other and share
     * their K, V reads in L2 (and a long prefill fits the 2^31 - 1 blocks of grid.x) */
    LCU_LAUNCH(k, dim3((unsigned)blocks), dim3((unsigned)warps * 32), 0, s, *kv, q, seq, pos, n_head,
               out);
}

void lcu_attention_cache(lcu_stream s, const lcu_kv *kv, const float *q, const int32_t *seq,
                         const int32_t *pos, int64_t n, int n_head, lcu_bf16 *out) {
    if (n <= 0) return;
    switch (att_dims_per_lane(kv->head_dim)) {
    case 2: launch<2>(s, kv, q, seq, pos, n, n_head, out); break;
    case 4: launch<4>(s, kv, q, seq, pos, n, n_head, out); break;
    default: launch<8>(s, kv, q, seq, pos, n, n_head, out); break;
    }
}
