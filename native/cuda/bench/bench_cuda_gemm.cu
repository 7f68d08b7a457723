/* lcu_gemm's two paths side by side on the projections of a llama-shaped ~1B model (hidden 2048,
 * FFN 5632, 4 KV heads of 64), the training shapes of issue 6: forward Y = X·Wᵀ (X bf16) and
 * backward dX = dY·W (dY f32), for tokens = seq 1024 x batch. Prints, per GEMM, the time and
 * TFLOP/s of the wmma kernels (dequantization in the tile loads) and of cuBLAS (tile-wise
 * dequantization to bf16, then cublasGemmEx), and the largest difference between their outputs
 * relative to the largest output (bf16 operands, f32 sums: ~1e-3 or less when both are right).
 *   bench_cuda_gemm [type ...]    types as lora4j.h numbers; default Q4_K (12), Q8_0 (8), BF16 (30) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "lcu_test.h"
#include "lora4j.h"
#include "ops/ops.h"

struct shape {
    const char *name;
    int64_t n_out, n_in;
};

/* One GEMM under both paths: C[M][N] of op(A)·op(B), K the reduction. */
static void compare(const char *what, int32_t btype, const lcu_mat *a, const lcu_mat *b, int64_t M, int64_t N,
                    int64_t K) {
    float *dc = lcu_test_alloc<float>((size_t)(M * N));
    std::vector<float> cw((size_t)(M * N)), cb(cw.size());
    const double flop = 2.0 * (double)M * (double)N * (double)K;
    float ms[2];
    const char *paths[2] = {"wmma", "cublas"};
    for (int p = 0; p < 2; p++) {
        lcu_gemm_set_path(paths[p]);
        const auto run = [&] { lcu_gemm(0, a, b, 1.0f, 0.0f, dc, N); };
        ms[p] = strcmp(lcu_gemm_path(), paths[p]) == 0 ? lcu_test_time_ms(run, 2, 10) : NAN;
        lcu_test_download(p == 0 ? cw.data() : cb.data(), dc, cw.size());
    }
    double max_ref = 0.0, max_diff = 0.0;
    for (size_t i = 0; i < cw.size(); i++) {
        max_ref = fmax(max_ref, fabs((double)cw[i]));
        max_diff = fmax(max_diff, fabs((double)cw[i] - (double)cb[i]));
    }
    printf("%-9s type %2d  M %5lld N %5lld K %5lld   wmma %8.3f ms %6.1f TFLOP/s   cublas %8.3f ms %6.1f TFLOP/s   "
           "cublas/wmma speed %5.2fx   diff %.1e\n",
           what, btype, (long long)M, (long long)N, (long long)K, ms[0], flop / ms[0] * 1e-9, ms[1],
           flop / ms[1] * 1e-9, ms[0] / ms[1], max_ref > 0.0 ? max_diff / max_ref : max_diff);
    cudaFree(dc);
}

int main(int argc, char **argv) {
    const int skip = lcu_test_require_device();
    if (skip) return skip;
    std::vector<int32_t> types;
    for (int i = 1; i < argc; i++) types.push_back((int32_t)atoi(argv[i]));
    if (types.empty()) types = {LORA4J_TYPE_Q4_K, LORA4J_TYPE_Q8_0, LORA4J_TYPE_BF16};
    lcu_gemm_set_path("cublas");
    printf("cuBLAS %s; auto policy of this build: cuBLAS when M >= 64 and M*N*K >= 2^27\n",
           strcmp(lcu_gemm_path(), "cublas") == 0 ? "loaded" : "NOT loaded (cublas columns are nan)");

    const shape shapes[] = {{"attn_q/o", 2048, 2048}, {"attn_kv", 256, 2048}, {"ffn_up", 5632, 2048},
                            {"ffn_down", 2048, 5632}};
    const int64_t tokens[] = {1024, 4096};
    for (int32_t t : types) {
        if (!lcu_gemm_supports(t)) {
            printf("type %d: not a type lcu_gemm reads\n", t);
            continue;
        }
        for (const shape &s : shapes) {
            /* W [n_out][n_in], quantized from uniform values in the range of trained weights */
            std::vector<float> w((size_t)(s.n_out * s.n_in));
            lcu_test_fill(w.data(), w.size(), 1, -0.05f, 0.05f);
            const int64_t rb = lora4j_row_bytes(t, s.n_in);
            std::vector<uint8_t> q((size_t)(s.n_out * rb));
            if (lora4j_quantize(t, w.data(), s.n_out, s.n_in, q.data(), q.size()) != LORA4J_OK) {
                printf("type %d: quantize failed: %s\n", t, lora4j_last_error());
                continue;
            }
            uint8_t *dw = lcu_test_upload(q.data(), q.size());
            const int64_t ld_w = t == LORA4J_TYPE_F32 || t == LORA4J_TYPE_BF16 ? s.n_in : rb;
            for (int64_t m : tokens) {
                /* forward: X bf16 [m][n_in] · Wᵀ */
                std::vector<float> x((size_t)(m * (s.n_in > s.n_out ? s.n_in : s.n_out)));
                lcu_test_fill(x.data(), x.size(), 2, -1.0f, 1.0f);
                std::vector<lcu_bf16> xh((size_t)(m * s.n_in));
                for (size_t i = 0; i < xh.size(); i++) xh[i] = __float2bfloat16(x[i]);
                lcu_bf16 *dx = lcu_test_upload(xh.data(), xh.size());
                const lcu_mat a = {LORA4J_TYPE_BF16, dx, m, s.n_in, s.n_in, 0};
                const lcu_mat b = {t, dw, s.n_out, s.n_in, ld_w, 1};
                compare(s.name, t, &a, &b, m, s.n_out, s.n_in);
                cudaFree(dx);
                /* backward: dY f32 [m][n_out] · W */
                float *dy = lcu_test_upload(x.data(), (size_t)(m * s.n_out));
                const lcu_mat ga = {LORA4J_TYPE_F32, dy, m, s.n_out, s.n_out, 0};
                const lcu_mat gb = {t, dw, s.n_out, s.n_in, ld_w, 0};
                char what[32];
                snprintf(what, sizeof what, "%s'", s.name);
                compare(what, t, &ga, &gb, m, s.n_in, s.n_out);
                cudaFree(dy);
            }
            cudaFree(dw);
        }
    }
    return 0;
}
