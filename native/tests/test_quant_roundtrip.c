/* Round trip f32 -> type -> f32 on seeded gaussian data: the relative RMS error of every type
 * must stay under a bound a little above what this implementation achieves (and near what
 * ggml's quantizers achieve), so a regression in a scale search fails here. */
#include <string.h>

#include "quant_test.h"

typedef struct {
    int32_t type;
    double max_rel_rms;
} bound_t;

/* Measured (seed 42, 64 rows of 4096): see the printout; bounds leave ~5% headroom. */
static const bound_t k_bounds[] = {
    {LORA4J_TYPE_F32, 0.0},       {LORA4J_TYPE_F16, 0.0004},   {LORA4J_TYPE_BF16, 0.0025},
    {LORA4J_TYPE_Q8_0, 0.0056},   {LORA4J_TYPE_Q4_0, 0.090},   {LORA4J_TYPE_Q4_1, 0.082},
    {LORA4J_TYPE_Q5_0, 0.045},    {LORA4J_TYPE_Q5_1, 0.040},   {LORA4J_TYPE_IQ4_NL, 0.078},
    {LORA4J_TYPE_Q2_K, 0.275},     {LORA4J_TYPE_Q3_K, 0.152},    {LORA4J_TYPE_Q4_K, 0.074},
    {LORA4J_TYPE_Q5_K, 0.0365},     {LORA4J_TYPE_Q6_K, 0.0178},
};

int main(void) {
    const int64_t rows = 64, cols = 4096, n = rows * cols;
    float *x = malloc((size_t)n * sizeof(float)), *y = malloc((size_t)n * sizeof(float));
    uint8_t *q = malloc((size_t)n * 4);
    qt_seed(42);
    qt_fill_gauss(x, n, 1.0f);
    for (size_t i = 0; i < sizeof k_bounds / sizeof k_bounds[0]; i++) {
        const int32_t type = k_bounds[i].type;
        const int64_t row_bytes = lora4j_row_bytes(type, cols);
        const size_t bytes = (size_t)(row_bytes * rows);
        QT_CHECK(lora4j_quantize(type, x, rows, cols, q, bytes) == LORA4J_OK, "%s: quantize: %s",
                 lora4j_type_name(type), lora4j_last_error());
        QT_CHECK(lora4j_dequantize(type, q, bytes, y, n) == LORA4J_OK, "%s: dequantize: %s", lora4j_type_name(type),
                 lora4j_last_error());
        const double e = qt_rel_rms(x, y, n);
        printf("%-7s rel_rms %.5f (bound %.4f)\n", lora4j_type_name(type), e, k_bounds[i].max_rel_rms);
        QT_CHECK(e <= k_bounds[i].max_rel_rms, "%s: relative RMS %.5f above bound %.4f", lora4j_type_name(type), e,
                 k_bounds[i].max_rel_rms);
        /* scaled data quantizes to the scaled result (scales are relative), within fp16 rounding */
        for (int64_t j = 0; j < cols; j++) x[j] *= 1000.0f;
        lora4j_quantize(type, x, 1, cols, q, (size_t)row_bytes);
        lora4j_dequantize(type, q, (size_t)row_bytes, y, cols);
        const double e_scaled = qt_rel_rms(x, y, cols);
        for (int64_t j = 0; j < cols; j++) x[j] /= 1000.0f;
        QT_CHECK(e_scaled <= k_bounds[i].max_rel_rms * 1.5, "%s: relative RMS %.5f on data x1000",
                 lora4j_type_name(type), e_scaled);
    }
    free(x);
    free(y);
    free(q);
    return qt_finish("test_quant_roundtrip");
}
