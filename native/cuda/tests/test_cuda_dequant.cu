/* Device dequantization (ops/dequant.cuh) and lcu_embed against the CPU engine's
 * lora4j_dequantize, bit for bit, for every type lcu_gemm reads. Blocks come from
 * lora4j_quantize of random data at several magnitudes (tiny values give subnormal f16 scales)
 * and, for the block types, from random bytes (every bit pattern of codes and scales; a NaN
 * matches any NaN, since NaN payloads are not portable between CPU and GPU), placed once at an
 * odd address (the byte-wise read path). */
#include <vector>

#include "lcu_test.h"
#include "lora4j.h"
#include "ops/dequant.cuh"
#include "ops/ops.h"

static const int32_t k_types[] = {
    LORA4J_TYPE_F32,  LORA4J_TYPE_BF16, LORA4J_TYPE_F16,  LORA4J_TYPE_Q4_0, LORA4J_TYPE_Q4_1,
    LORA4J_TYPE_Q5_0, LORA4J_TYPE_Q5_1, LORA4J_TYPE_Q8_0, LORA4J_TYPE_IQ4_NL, LORA4J_TYPE_Q2_K,
    LORA4J_TYPE_Q3_K, LORA4J_TYPE_Q4_K, LORA4J_TYPE_Q5_K, LORA4J_TYPE_Q6_K};

static bool is_dense(int32_t t) { return t == LORA4J_TYPE_F32 || t == LORA4J_TYPE_BF16; }

/* out[r][c] for every element of rows of n elements, one 8-element chunk per thread, chunks
 * taken in a scrambled order so no kernel state carries from one chunk to the next. */
template <int T>
__global__ void dequant_all(const uint8_t *m, int64_t row_bytes, int64_t rows, int64_t n, float *out) {
    const int64_t chunks = n / 8, total = rows * chunks;
    const int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    const int64_t j = (i * 7919) % total; /* 7919 is prime and no total here is its multiple */
    dq_load8<T>(m + (j / chunks) * row_bytes, 8 * (j % chunks), n, out + (j / chunks) * n + 8 * (j % chunks));
}

struct dequant_launch {
    const uint8_t *m;
    int64_t row_bytes, rows, n;
    float *out;
    template <int T> void run() {
        auto *k = dequant_all<T>;
        const int64_t total = rows * n / 8;
        LCU_LAUNCH(k, dim3((unsigned)lcu_cdiv(total, 128)), dim3(128), 0, 0, m, row_bytes, rows, n, out);
    }
};

/* Bitwise equality, any NaN equal to any NaN. */
static bool same(float a, float b) {
    if (a != a && b != b) return true;
    uint32_t x, y;
    memcpy(&x, &a, 4);
    memcpy(&y, &b, 4);
    return x == y;
}

/* The encoded bytes of a rows x n matrix of type t: lora4j_quantize of data drawn with the given
 * seed and scale, or (scale 0) random bytes. */
static std::vector<uint8_t> encode(int32_t t, int64_t rows, int64_t n, unsigned seed, float scale) {
    const int64_t rb = lora4j_row_bytes(t, n);
    std::vector<uint8_t> q((size_t)(rows * rb));
    if (scale == 0.0f) {
        std::vector<float> r(q.size());
        lcu_test_fill(r.data(), r.size(), seed, 0.0f, 256.0f);
        for (size_t i = 0; i < q.size(); i++) q[i] = (uint8_t)r[i];
        return q;
    }
    std::vector<float> x((size_t)(rows * n));
    lcu_test_fill(x.data(), x.size(), seed, -scale, scale);
    /* a few outliers per row, as real weights have */
    for (int64_t r = 0; r < rows; r++) x[(size_t)(r * n + (r * 37) % n)] *= 9.0f;
    LCU_TEST_CHECK(lora4j_quantize(t, x.data(), rows, n, q.data(), q.size()) == LORA4J_OK, "quantize type %d", t);
    return q;
}

static void check_dequant(int32_t t, int64_t rows, int64_t n, unsigned seed, float scale, int64_t offset) {
    const int64_t rb = lora4j_row_bytes(t, n);
    const std::vector<uint8_t> q = encode(t, rows, n, seed, scale);
    std::vector<float> want((size_t)(rows * n)), got(want.size());
    LCU_TEST_CHECK(lora4j_dequantize(t, q.data(), q.size(), want.data(), rows * n) == LORA4J_OK, "dequantize %d", t);

    std::vector<uint8_t> placed(q.size() + (size_t)offset);
    memcpy(placed.data() + offset, q.data(), q.size());
    uint8_t *dq = lcu_test_upload(placed.data(), placed.size());
    float *dout = nullptr;
    LCU_TEST_CUDA(cudaMalloc((void **)&dout, got.size() * sizeof(float)));
    dequant_launch l = {dq + offset, rb, rows, n, dout};
    LCU_TEST_CHECK(dq_dispatch(t, l), "type %d not dispatched", t);
    LCU_TEST_CUDA(cudaGetLastError());
    lcu_test_download(got.data(), dout, got.size());
    int64_t bad = 0;
    for (size_t i = 0; i < got.size(); i++) {
        if (!same(got[i], want[i]) && bad++ < 3)
            fprintf(stderr, "type %d scale %g: element %zu: device %.9g, cpu %.9g\n", t, scale, i, got[i], want[i]);
    }
    LCU_TEST_CHECK(bad == 0, "type %d scale %g: %lld of %zu elements differ", t, scale, (long long)bad, got.size());
    cudaFree(dq);
    cudaFree(dout);
}

/* lcu_embed gathers rows exactly; a dense row length not a multiple of 8 and an id outside the
 * vocabulary (a zero row) are covered. */
static void check_embed(int32_t t, int64_t vocab, int64_t dim, int64_t ld) {
    const int64_t rb = lora4j_row_bytes(t, dim);
    /* quantized rows are ld bytes apart, dense rows ld elements: pad the stored rows */
    const int64_t stride = is_dense(t) ? ld * (rb / dim) : ld;
    const std::vector<uint8_t> q = encode(t, vocab, dim, 11u + (unsigned)t, 1.0f);
    std::vector<uint8_t> stored((size_t)(vocab * stride), 0xAB);
    for (int64_t r = 0; r < vocab; r++) memcpy(&stored[(size_t)(r * stride)], &q[(size_t)(r * rb)], (size_t)rb);

    const int32_t tokens[] = {3, 0, (int32_t)vocab - 1, 3, 5, (int32_t)vocab, -1};
    const int64_t n = sizeof tokens / sizeof tokens[0];
    uint8_t *demb = lcu_test_upload(stored.data(), stored.size());
    int32_t *dtok = lcu_test_upload(tokens, (size_t)n);
    float *dx = nullptr;
    LCU_TEST_CUDA(cudaMalloc((void **)&dx, (size_t)(n * dim) * sizeof(float)));
    const lcu_mat emb = {t, demb, vocab, dim, ld, 0};
    lcu_embed(0, &emb, dtok, n, dx);
    LCU_TEST_CUDA(cudaGetLastError());
    std::vector<float> got((size_t)(n * dim)), want((size_t)dim);
    lcu_test_download(got.data(), dx, got.size());
    for (int64_t i = 0; i < n; i++) {
        const bool valid = tokens[i] >= 0 && tokens[i] < vocab;
        if (valid) lora4j_dequantize(t, &q[(size_t)(tokens[i] * rb)], (size_t)rb, want.data(), dim);
        int64_t bad = 0;
        for (int64_t c = 0; c < dim; c++) bad += !same(got[(size_t)(i * dim + c)], valid ? want[(size_t)c] : 0.0f);
        LCU_TEST_CHECK(bad == 0, "embed type %d token %d: %lld of %lld values differ", t, tokens[i], (long long)bad,
                       (long long)dim);
    }
    cudaFree(demb);
    cudaFree(dtok);
    cudaFree(dx);
}

int main(void) {
    const int skip = lcu_test_require_device();
    if (skip) return skip;
    for (int32_t t : k_types) {
        const int64_t n = t >= LORA4J_TYPE_Q2_K && t <= LORA4J_TYPE_Q6_K ? 512 : 96; /* whole blocks */
        check_dequant(t, 3, n, 1, 1.0f, 0);
        check_dequant(t, 3, n, 2, 3e-6f, 0); /* f16 scales go subnormal */
        check_dequant(t, 2, n, 3, 1000.0f, 0);
        if (!is_dense(t)) {
            check_dequant(t, 4, n, 4, 0.0f, 0);
            check_dequant(t, 4, n, 5, 0.0f, 1);
        }

        const int64_t dim = is_dense(t) || t == LORA4J_TYPE_F16 ? 45 : n;
        check_embed(t, 9, dim, is_dense(t) ? dim + 3 : lora4j_row_bytes(t, dim) + (t == LORA4J_TYPE_F16 ? 6 : 0));
    }
    LCU_TEST_CHECK(!lcu_gemm_supports(LORA4J_TYPE_I8) && !lcu_gemm_supports(12345), "unsupported types reported");
    for (int32_t t : k_types) LCU_TEST_CHECK(lcu_gemm_supports(t), "type %d not reported as supported", t);
    return lcu_test_finish("test_cuda_dequant");
}
