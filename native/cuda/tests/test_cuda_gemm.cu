/* lcu_gemm against a double-precision reference. Both kernels are covered: the tensor-core
 * tiles (M > 8, or B not transposed), whose reference rounds both operands to bf16 as the tensor
 * cores do, and the few-rows path (M <= 8 with B transposed: the decoding projection), which
 * multiplies the f32 operands, so its reference does not round. B is dequantized by the CPU
 * engine. Covered: every B type in both orientations, both A types and orientations, sizes that
 * are not tile multiples, padded row strides, alpha, beta, and C not read when beta is 0; and
 * split-K (few C tiles, long K: LoRA's gradients), in every orientation, with a short last slice,
 * its result the same bits when run again.
 *
 * Built with nvcc, the cases run under each path of lcu_gemm that loads: the wmma kernels, then
 * cuBLAS (B dequantized to bf16, both operands rounded to bf16 whatever the shape) in one chunk
 * and in chunks of a few rows of B; and cuBLAS's loader is checked to refuse, without a GPU,
 * what is not a cuBLAS library.
 *
 * Tolerance: |C - ref| <= 1e-4 * |alpha| * |op(A) row| * |op(B) column| (+ beta's f32
 * rounding): what is left is f32 accumulation, ~K * 2^-24 of that bound at worst. A wrong
 * element, block, edge or rounding shows as O(1e-3) or more. */
#include <math.h>

#include <vector>

#include "lcu_test.h"
#include "lora4j.h"
#include "ops/ops.h"
#ifndef LCU_EMU
#include "ops/cublas.h"
#endif

static bool is_dense(int32_t t) { return t == LORA4J_TYPE_F32 || t == LORA4J_TYPE_BF16; }
static bool is_kquant(int32_t t) { return t >= LORA4J_TYPE_Q2_K && t <= LORA4J_TYPE_Q6_K; }
static float bf16_round(float x) { return __bfloat162float(__float2bfloat16(x)); }

/* A stored matrix on the host and the device: its lcu_mat and its values as the GEMM sees them
 * (dequantized, before bf16 rounding). */
struct operand {
    lcu_mat m;
    std::vector<float> values; /* [rows][cols] */
    void *dev;
};

/* rows x cols of type t, random in [-1, 1), rows padded by `pad` (elements for dense types,
 * bytes for block types). */
static operand make_operand(int32_t t, int64_t rows, int64_t cols, int trans, int64_t pad, unsigned seed) {
    operand o;
    std::vector<float> x((size_t)(rows * cols));
    lcu_test_fill(x.data(), x.size(), seed, -1.0f, 1.0f);
    const int64_t rb = lora4j_row_bytes(t, cols);
    const int64_t ld = is_dense(t) ? cols + pad : rb + pad;
    const int64_t stride = is_dense(t) ? ld * (rb / cols) : ld;
    std::vector<uint8_t> q((size_t)(rows * rb)), stored((size_t)(rows * stride), 0xCD);
    LCU_TEST_CHECK(lora4j_quantize(t, x.data(), rows, cols, q.data(), q.size()) == LORA4J_OK, "quantize %d", t);
    o.values.resize(x.size());
    LCU_TEST_CHECK(lora4j_dequantize(t, q.data(), q.size(), o.values.data(), rows * cols) == LORA4J_OK, "dequantize");
    for (int64_t r = 0; r < rows; r++) memcpy(&stored[(size_t)(r * stride)], &q[(size_t)(r * rb)], (size_t)rb);
    o.dev = lcu_test_upload(stored.data(), stored.size());
    o.m = {t, o.dev, rows, cols, ld, trans};
    return o;
}

/* op(X)[i][j] of an operand, rounded to bf16 or not. */
static double op_at(const operand &o, int64_t i, int64_t j, bool round) {
    const float v = o.m.trans ? o.values[(size_t)(j * o.m.cols + i)] : o.values[(size_t)(i * o.m.cols + j)];
    return round ? bf16_round(v) : v;
}

struct gemm_case {
    int32_t atype, btype;
    int ta, tb;
    int64_t M, N, K;
    float alpha, beta;
    int64_t apad, bpad; /* row padding as make_operand takes it */
};

static void check_gemm(const gemm_case &g, unsigned seed) {
    const operand a = make_operand(g.atype, g.ta ? g.K : g.M, g.ta ? g.M : g.K, g.ta, g.apad, seed);
    const operand b = make_operand(g.btype, g.tb ? g.N : g.K, g.tb ? g.K : g.N, g.tb, g.bpad, seed + 100);
    const int64_t ldc = g.N + 3;
    std::vector<float> c0((size_t)(g.M * ldc)), got(c0.size());
    lcu_test_fill(c0.data(), c0.size(), seed + 200, -1.0f, 1.0f);
    /* with beta 0, C must not be read: NaN there would show */
    if (g.beta == 0.0f)
        for (float &v : c0) v = NAN;
    float *dc = lcu_test_upload(c0.data(), c0.size());
    lcu_gemm(0, &a.m, &b.m, g.alpha, g.beta, dc, ldc);
    LCU_TEST_CUDA(cudaGetLastError());
    LCU_TEST_CUDA(cudaDeviceSynchronize());
    lcu_test_download(got.data(), dc, got.size());
    /* split-K adds its partials in a fixed order: the same bits every run */
    if (g.beta == 0.0f && lcu_gemm_splits(g.M, g.N, g.K) > 1) {
        std::vector<float> again(c0.size());
        lcu_gemm(0, &a.m, &b.m, g.alpha, g.beta, dc, ldc);
        LCU_TEST_CUDA(cudaDeviceSynchronize());
        lcu_test_download(again.data(), dc, again.size());
        LCU_TEST_CHECK(memcmp(again.data(), got.data(), got.size() * sizeof(float)) == 0, "split-K run to run");
    }

    /* bf16 operands: the tensor-core tiles (lcu_gemm's choice of kernel), or cuBLAS always */
    const bool tensor_cores = strcmp(lcu_gemm_path(), "cublas") == 0 || !(g.M <= 8 && g.tb);
    int64_t bad = 0;
    double worst = 0.0;
    for (int64_t i = 0; i < g.M; i++) {
        for (int64_t j = 0; j < ldc; j++) {
            const float cij = got[(size_t)(i * ldc + j)];
            if (j >= g.N) { /* the padding of C stays untouched */
                bad += memcmp(&cij, &c0[(size_t)(i * ldc + j)], 4) != 0;
                continue;
            }
            double dot = 0.0, na = 0.0, nb = 0.0;
            for (int64_t k = 0; k < g.K; k++) {
                const double x = op_at(a, i, k, tensor_cores), y = op_at(b, k, j, tensor_cores);
                dot += x * y;
                na += x * x;
                nb += y * y;
            }
            const double c_old = g.beta != 0.0f ? (double)c0[(size_t)(i * ldc + j)] : 0.0;
            const double want = g.alpha * dot + g.beta * c_old;
            const double tol = 1e-4 * fabs(g.alpha) * sqrt(na * nb) + 1e-6 * fabs(g.beta * c_old) + 1e-30;
            const double err = fabs((double)cij - want);
            if (!(err <= tol)) {
                if (bad < 3)
                    fprintf(stderr, "  C[%lld][%lld] = %.7g, want %.7g (tol %.3g)\n", (long long)i, (long long)j, cij, want,
                            tol);
                bad++;
            }
            if (err / tol > worst) worst = err / tol;
        }
    }
    LCU_TEST_CHECK(bad == 0, "A type %d ta %d, B type %d tb %d, M %lld N %lld K %lld, alpha %g beta %g: %lld bad", g.atype,
                   g.ta, g.btype, g.tb, (long long)g.M, (long long)g.N, (long long)g.K, g.alpha, g.beta, (long long)bad);
    printf("A %2d ta %d  B %2d tb %d  M %3lld N %3lld K %4lld  alpha %4.1f beta %.0f  K slices %d: worst err/tol %.3f\n",
           g.atype, g.ta, g.btype, g.tb, (long long)g.M, (long long)g.N, (long long)g.K, g.alpha, g.beta,
           lcu_gemm_splits(g.M, g.N, g.K), worst);
    cudaFree(a.dev);
    cudaFree(b.dev);
    cudaFree(dc);
}

static void run_cases(void) {
    const int32_t F32 = LORA4J_TYPE_F32, BF16 = LORA4J_TYPE_BF16;
    const int32_t block_types[] = {LORA4J_TYPE_F16,  LORA4J_TYPE_Q4_0, LORA4J_TYPE_Q4_1, LORA4J_TYPE_Q5_0,
                                   LORA4J_TYPE_Q5_1, LORA4J_TYPE_Q8_0, LORA4J_TYPE_IQ4_NL, LORA4J_TYPE_Q2_K,
                                   LORA4J_TYPE_Q3_K, LORA4J_TYPE_Q4_K, LORA4J_TYPE_Q5_K, LORA4J_TYPE_Q6_K};
    unsigned seed = 1;

    /* dense operands: every orientation and A/B type pair, odd sizes, strides, alpha, beta */
    for (int32_t at : {F32, BF16})
        for (int32_t bt : {F32, BF16})
            for (int ta = 0; ta < 2; ta++)
                for (int tb = 0; tb < 2; tb++) {
                    check_gemm({at, bt, ta, tb, 37, 70, 45, 0.5f, 0.0f, 3, 5}, seed++);
                    check_gemm({at, bt, ta, tb, 37, 70, 45, 1.0f, 1.0f, 0, 0}, seed++);
                }
    /* more than one tile along M, N and K, K not a multiple of the K-step */
    check_gemm({F32, BF16, 0, 1, 130, 131, 75, 1.0f, 0.0f, 0, 0}, seed++);

    /* every block type as the weight: forward (Y = X·Wᵀ) and backward (dX = dY·W) */
    for (int32_t bt : block_types) {
        const int64_t kb = is_kquant(bt) ? 256 : 96; /* the blocked dimension: whole blocks */
        check_gemm({BF16, bt, 0, 1, 37, 70, kb, 1.0f, 0.0f, 0, 0}, seed++);
        check_gemm({F32, bt, 0, 0, 37, kb, 70, 1.0f, 1.0f, 0, 2}, seed++);
        /* the few-rows path, with A transposed once */
        check_gemm({F32, bt, 0, 1, 1, 70, kb, 1.0f, 0.0f, 0, 0}, seed++);
        check_gemm({BF16, bt, bt == LORA4J_TYPE_Q4_K, 1, 5, 33, kb, 2.0f, 1.0f, 1, 4}, seed++);
    }
    /* transposed A against block weights on the tiles; M just past the few-rows limit; several
     * tiles along N and M with K-quant blocks spanning K-steps */
    check_gemm({F32, LORA4J_TYPE_Q4_0, 1, 1, 37, 70, 96, 1.0f, 0.0f, 2, 0}, seed++);
    check_gemm({BF16, LORA4J_TYPE_Q6_K, 1, 0, 37, 256, 40, 1.0f, 0.0f, 0, 0}, seed++);
    check_gemm({F32, LORA4J_TYPE_Q8_0, 0, 1, 9, 70, 96, 1.0f, 0.0f, 0, 0}, seed++);
    check_gemm({F32, LORA4J_TYPE_Q5_K, 0, 1, 133, 130, 512, 0.25f, 1.0f, 0, 0}, seed++);
    /* the few-rows path on dense weights, K not a multiple of 8 */
    check_gemm({F32, F32, 0, 1, 8, 19, 45, 1.0f, 0.0f, 3, 1}, seed++);
    check_gemm({BF16, BF16, 1, 1, 3, 40, 45, 1.0f, 1.0f, 2, 0}, seed++);

    /* split-K: C of one to four tiles over a long K (the emulation has 4 SMs, a GPU ~132: both
     * split these), K not a multiple of the K-step, a short last slice */
    const gemm_case splits[] = {
        {BF16, F32, 1, 0, 200, 16, 600, 0.5f, 1.0f, 3, 0}, /* dB = s·dYᵀ·h */
        {F32, BF16, 1, 0, 16, 200, 600, 1.0f, 1.0f, 0, 5}, /* dA = dhᵀ·x */
        {BF16, F32, 0, 1, 130, 16, 1000, 1.0f, 0.0f, 0, 0}, /* h = x·Aᵀ */
        {F32, BF16, 0, 0, 133, 70, 700, 1.0f, 1.0f, 0, 0},
        {BF16, LORA4J_TYPE_Q4_K, 0, 1, 37, 40, 1024, 1.0f, 1.0f, 0, 0},
        {F32, LORA4J_TYPE_Q4_K, 1, 0, 37, 256, 600, 1.0f, 0.0f, 0, 2},
        {BF16, LORA4J_TYPE_Q8_0, 0, 0, 20, 64, 777, 0.5f, 0.0f, 0, 0},
    };
    std::vector<gemm_case> cases(splits, splits + sizeof splits / sizeof *splits);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int beta = 0; beta < 2; beta++)
                cases.push_back({ta ? F32 : BF16, tb ? BF16 : F32, ta, tb, 37, 20, 1000, 2.0f, (float)beta, 2, 1});
    for (const gemm_case &g : cases) {
        LCU_TEST_CHECK(lcu_gemm_splits(g.M, g.N, g.K) > 1, "M %lld N %lld K %lld not split", (long long)g.M,
                       (long long)g.N, (long long)g.K);
        check_gemm(g, seed++);
    }
}

int main(void) {
#ifndef LCU_EMU
    lcu_blas_api api;
    LCU_TEST_CHECK(!lcu_blas_load_from("/nonexistent/libcublas.so.12", &api) && !api.lib, "a missing file loaded");
    LCU_TEST_CHECK(!lcu_blas_load_from("libm.so.6", &api) && !api.gemm_ex, "a library without cuBLAS loaded");
    printf("cuBLAS: %s\n", lcu_blas_library() ? lcu_blas_library() : "not found (the wmma path only)");
#endif
    const int skip = lcu_test_require_device();
    if (skip) return lcu_test_failures ? lcu_test_finish("test_cuda_gemm") : skip;

    lcu_gemm_set_path("wmma");
    LCU_TEST_CHECK(strcmp(lcu_gemm_path(), "wmma") == 0, "path %s", lcu_gemm_path());
    printf("-- path wmma\n");
    run_cases();
#ifndef LCU_EMU
    lcu_gemm_set_path("cublas");
    if (strcmp(lcu_gemm_path(), "cublas") == 0) {
        printf("-- path cublas, B in one chunk\n");
        run_cases();
        lcu_blas_set_chunk_bytes(4096); /* 8 rows of 256 bf16: many chunks, a short last one */
        printf("-- path cublas, B in chunks of 4 KiB\n");
        run_cases();
    } else {
        printf("-- path cublas: cuBLAS did not load, not run\n");
    }
#endif
    return lcu_test_finish("test_cuda_gemm");
}
