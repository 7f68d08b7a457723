/* lcu_dequant_bf16 against bf16(lora4j_dequantize) of the CPU engine, bit for bit, for every type
 * lcu_gemm reads: row ranges at odd offsets and of odd lengths, padded row strides, dense rows
 * whose length is not a multiple of 8 (the scalar tail), and nothing written past the range. */
#include <vector>

#include "lcu_test.h"
#include "lora4j.h"
#include "ops/ops.h"

static const int32_t k_types[] = {
    LORA4J_TYPE_F32,  LORA4J_TYPE_BF16, LORA4J_TYPE_F16,  LORA4J_TYPE_Q4_0, LORA4J_TYPE_Q4_1,
    LORA4J_TYPE_Q5_0, LORA4J_TYPE_Q5_1, LORA4J_TYPE_Q8_0, LORA4J_TYPE_IQ4_NL, LORA4J_TYPE_Q2_K,
    LORA4J_TYPE_Q3_K, LORA4J_TYPE_Q4_K, LORA4J_TYPE_Q5_K, LORA4J_TYPE_Q6_K};

static bool is_dense(int32_t t) { return t == LORA4J_TYPE_F32 || t == LORA4J_TYPE_BF16; }

static uint16_t bf16_bits(lcu_bf16 h) {
    uint16_t u;
    memcpy(&u, &h, 2);
    return u;
}

/* rows x cols of type t (rows padded by pad elements for F32/BF16, pad bytes otherwise);
 * each of the row ranges is dequantized and compared. */
static void check_type(int32_t t, int64_t rows, int64_t cols, int64_t pad, unsigned seed) {
    const int failures_before = lcu_test_failures;
    const int64_t rb = lora4j_row_bytes(t, cols);
    const int64_t ld = is_dense(t) ? cols + pad : rb + pad;
    const int64_t stride = is_dense(t) ? ld * (rb / cols) : ld;
    std::vector<float> x((size_t)(rows * cols)), want(x.size());
    lcu_test_fill(x.data(), x.size(), seed, -2.0f, 2.0f);
    std::vector<uint8_t> q((size_t)(rows * rb)), stored((size_t)(rows * stride), 0xCD);
    LCU_TEST_CHECK(lora4j_quantize(t, x.data(), rows, cols, q.data(), q.size()) == LORA4J_OK, "quantize %d", t);
    LCU_TEST_CHECK(lora4j_dequantize(t, q.data(), q.size(), want.data(), rows * cols) == LORA4J_OK, "dequantize %d", t);
    for (int64_t r = 0; r < rows; r++) memcpy(&stored[(size_t)(r * stride)], &q[(size_t)(r * rb)], (size_t)rb);
    uint8_t *dm = lcu_test_upload(stored.data(), stored.size());
    const lcu_mat m = {t, dm, rows, cols, ld, 0};

    const int64_t ranges[][2] = {{0, rows}, {3, 7}, {rows - 1, 1}, {1, rows - 2}};
    const int64_t guard = 9;
    for (const auto &rg : ranges) {
        const int64_t r0 = rg[0], n = rg[1];
        std::vector<lcu_bf16> got((size_t)(n * cols + guard));
        for (lcu_bf16 &h : got) h = __float2bfloat16(12345.0f);
        lcu_bf16 *dout = lcu_test_upload(got.data(), got.size());
        lcu_dequant_bf16(0, &m, r0, n, dout);
        lcu_test_sync();
        lcu_test_download(got.data(), dout, got.size());
        int64_t bad = 0;
        for (int64_t i = 0; i < n * cols; i++) {
            const uint16_t w = bf16_bits(__float2bfloat16(want[(size_t)(r0 * cols + i)]));
            if (bf16_bits(got[(size_t)i]) != w) {
                if (bad < 3)
                    fprintf(stderr, "  type %d row %lld col %lld: %04x, want %04x\n", t, (long long)(r0 + i / cols),
                            (long long)(i % cols), bf16_bits(got[(size_t)i]), w);
                bad++;
            }
        }
        for (int64_t i = n * cols; i < n * cols + guard; i++)
            bad += bf16_bits(got[(size_t)i]) != bf16_bits(__float2bfloat16(12345.0f));
        LCU_TEST_CHECK(bad == 0, "type %d, rows %lld..%lld of %lld x %lld: %lld bad", t, (long long)r0,
                       (long long)(r0 + n - 1), (long long)rows, (long long)cols, (long long)bad);
        cudaFree(dout);
    }
    printf("type %2d: %lld x %lld, ld %lld: %s\n", t, (long long)rows, (long long)cols, (long long)ld,
           lcu_test_failures == failures_before ? "exact" : "MISMATCH");
    cudaFree(dm);
}

int main(void) {
    const int skip = lcu_test_require_device();
    if (skip) return skip;
    unsigned seed = 1;
    for (int32_t t : k_types) {
        const bool kq = t >= LORA4J_TYPE_Q2_K && t <= LORA4J_TYPE_Q6_K;
        const int64_t cols = t == LORA4J_TYPE_F16 || is_dense(t) ? 45 : kq ? 512 : 96;
        check_type(t, 13, cols, t == LORA4J_TYPE_F16 || !is_dense(t) ? 2 : 3, seed++);
    }
    /* whole 8-element chunks at an aligned output (the vector store) */
    check_type(LORA4J_TYPE_BF16, 11, 64, 0, seed++);
    check_type(LORA4J_TYPE_F32, 11, 64, 8, seed++);
    return lcu_test_finish("test_cuda_dequant_bf16");
}
