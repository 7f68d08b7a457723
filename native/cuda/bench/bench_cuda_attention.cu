/* The training attention's two kernel families side by side (ops.h lcu_attention_fma /
 * lcu_attention_mma and their backwards) on llama-shaped heads: one causal segment per row,
 * GQA. Prints per shape and family the forward and backward times and their TFLOP/s, counting
 * the causal half of the score matrix only: forward 2 products (Q Kᵀ, P V), backward 5 (the
 * conventional 2.5x; the kernels also recompute Q Kᵀ and dO Vᵀ once more), each 2·hd flops per
 * visible (query, key) pair; and the largest difference between the two families' out and dq
 * relative to the largest value (bf16 P, dO, dS on the tensor cores: a few 1e-3).
 *   bench_cuda_attention */
#include <math.h>

#include <vector>

#include "lcu_test.h"
#include "ops/ops.h"

typedef struct shape {
    int64_t n_rows, n_seq;
    int n_head, n_head_kv, hd;
} shape;

typedef struct family {
    const char *name;
    void (*forward)(lcu_stream, const lcu_attn *, lcu_bf16 *, float *);
    void (*backward)(lcu_stream, const lcu_attn *, const lcu_bf16 *, const float *, const float *, float *, float *,
                     float *);
} family;

static double rel_diff(const std::vector<float> &a, const std::vector<float> &b) {
    double max_ref = 0.0, max_diff = 0.0;
    for (size_t i = 0; i < a.size(); i++) {
        max_ref = fmax(max_ref, fabs((double)a[i]));
        max_diff = fmax(max_diff, fabs((double)a[i] - (double)b[i]));
    }
    return max_ref > 0.0 ? max_diff / max_ref : max_diff;
}

static lcu_bf16 *upload_bf16(size_t n, unsigned seed, float range) {
    std::vector<float> x(n);
    lcu_test_fill(x.data(), n, seed, -range, range);
    std::vector<lcu_bf16> h(n);
    for (size_t i = 0; i < n; i++) h[i] = __float2bfloat16(x[i]);
    return lcu_test_upload(h.data(), n);
}

static void run(const shape *s) {
    const size_t N = (size_t)(s->n_rows * s->n_seq), ldq = (size_t)s->n_head * s->hd,
                 ldk = (size_t)s->n_head_kv * s->hd;
    lcu_bf16 *q = upload_bf16(N * ldq, 1, 1.5f), *k = upload_bf16(N * ldk, 2, 1.5f), *v = upload_bf16(N * ldk, 3, 1.0f);
    std::vector<float> g(N * ldq);
    lcu_test_fill(g.data(), g.size(), 4, -1.0f, 1.0f);
    float *dout = lcu_test_upload(g.data(), g.size());
    std::vector<int32_t> seg(N, 0);
    int32_t *dseg = lcu_test_upload(seg.data(), seg.size());
    lcu_bf16 *out = lcu_test_alloc<lcu_bf16>(N * ldq);
    float *lse = lcu_test_alloc<float>(N * s->n_head), *dq = lcu_test_alloc<float>(N * ldq);
    float *dk = lcu_test_alloc<float>(N * ldk), *dv = lcu_test_alloc<float>(N * ldk);
    const lcu_attn a = {q, k, v, dseg, s->n_rows, s->n_seq, s->n_head, s->n_head_kv, s->hd};

    const double pairs = (double)s->n_rows * s->n_head * (double)s->n_seq * (double)(s->n_seq + 1) / 2.0;
    const double flop_fwd = 2.0 * 2.0 * s->hd * pairs, flop_bwd = 2.5 * flop_fwd;
    const family fams[2] = {{"fma", lcu_attention_fma, lcu_attention_fma_backward},
                            {"mma", lcu_attention_mma, lcu_attention_mma_backward}};
    std::vector<float> outs[2], dqs[2];
    float ms_f[2], ms_b[2];
    for (int f = 0; f < 2; f++) {
        const family *fa = &fams[f];
        ms_f[f] = lcu_test_time_ms([&] { fa->forward(0, &a, out, lse); }, 1, 5);
        ms_b[f] = lcu_test_time_ms([&] { fa->backward(0, &a, out, lse, dout, dq, dk, dv); }, 1, 5);
        std::vector<lcu_bf16> ob(N * ldq);
        lcu_test_download(ob.data(), out, ob.size());
        outs[f].resize(ob.size());
        for (size_t i = 0; i < ob.size(); i++) outs[f][i] = __bfloat162float(ob[i]);
        dqs[f].resize(N * ldq);
        lcu_test_download(dqs[f].data(), dq, dqs[f].size());
    }
    printf("rows %lld seq %5lld heads %2d/%d hd %3d |", (long long)s->n_rows, (long long)s->n_seq, s->n_head,
           s->n_head_kv, s->hd);
    for (int f = 0; f < 2; f++)
        printf(" %s fwd %7.3f ms %6.1f TFLOP/s bwd %7.3f ms %6.1f TFLOP/s |", fams[f].name, ms_f[f],
               flop_fwd / ms_f[f] * 1e-9, ms_b[f], flop_bwd / ms_b[f] * 1e-9);
    printf(" speed-up fwd %.2fx bwd %.2fx | diff out %.1e dq %.1e\n", ms_f[0] / ms_f[1], ms_b[0] / ms_b[1],
           rel_diff(outs[0], outs[1]), rel_diff(dqs[0], dqs[1]));
    cudaFree(q), cudaFree(k), cudaFree(v), cudaFree(dout), cudaFree(dseg), cudaFree(out), cudaFree(lse);
    cudaFree(dq), cudaFree(dk), cudaFree(dv);
}

int main(void) {
    const int skip = lcu_test_require_device();
    if (skip) return skip;
    const shape shapes[] = {
        {4, 1024, 32, 4, 64},  /* ~1B llama: 32 heads of 64, 4 KV heads */
        {1, 4096, 32, 4, 64},
        {4, 1024, 32, 8, 128}, /* 8B llama: 32 heads of 128, 8 KV heads */
        {1, 4096, 32, 8, 128},
    };
    for (const shape &s : shapes) run(&s);
    return 0;
}
