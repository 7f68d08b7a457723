/* Public quantization API: type queries, and every kind of bad argument returning the right
 * status with a message (never a crash). */
#include <string.h>

#include "quant_test.h"

#define EXPECT_STATUS(call, want)                                                                  \
    do {                                                                                           \
        const lora4j_status_t st_ = (call);                                                        \
        QT_CHECK(st_ == (want), "%s returned %d, want %d (%s)", #call, st_, want, lora4j_last_error()); \
        if ((want) != LORA4J_OK) QT_CHECK(lora4j_last_error()[0] != '\0', "%s: no error message", #call); \
    } while (0)

int main(void) {
    /* type queries */
    QT_CHECK(strcmp(lora4j_type_name(LORA4J_TYPE_Q4_K), "q4_K") == 0, "name q4_K");
    QT_CHECK(strcmp(lora4j_type_name(LORA4J_TYPE_IQ4_NL), "iq4_nl") == 0, "name iq4_nl");
    QT_CHECK(strcmp(lora4j_type_name(LORA4J_TYPE_BF16), "bf16") == 0, "name bf16");
    const int32_t unknown[] = {-1, 4, 5, 31, 36, 43, 1000, INT32_MIN};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        QT_CHECK(lora4j_type_name(unknown[i]) == NULL, "name of id %d", unknown[i]);
        QT_CHECK(lora4j_type_block_size(unknown[i]) == 0 && lora4j_type_block_bytes(unknown[i]) == 0, "geometry of %d",
                 unknown[i]);
        QT_CHECK(!lora4j_type_supported(unknown[i]), "supported(%d)", unknown[i]);
        QT_CHECK(lora4j_row_bytes(unknown[i], 32) == -1 && lora4j_last_error()[0], "row_bytes of %d", unknown[i]);
    }
    for (int i = 0; i < QT_N_TYPES; i++) QT_CHECK(lora4j_type_supported(qt_types[i]), "supported %d", qt_types[i]);
    QT_CHECK(!lora4j_type_supported(15) && lora4j_type_block_bytes(15) == 292, "q8_K known but unsupported");
    QT_CHECK(lora4j_type_block_size(LORA4J_TYPE_Q6_K) == 256 && lora4j_type_block_bytes(LORA4J_TYPE_Q6_K) == 210, "q6_K");

    /* row sizes */
    QT_CHECK(lora4j_row_bytes(LORA4J_TYPE_Q4_0, 64) == 36, "q4_0 row");
    QT_CHECK(lora4j_row_bytes(LORA4J_TYPE_Q4_K, 512) == 288, "q4_K row");
    QT_CHECK(lora4j_row_bytes(LORA4J_TYPE_F32, 0) == 0 && lora4j_last_error()[0] == '\0', "empty row");
    QT_CHECK(lora4j_row_bytes(LORA4J_TYPE_Q4_0, 33) == -1 && strstr(lora4j_last_error(), "multiple"), "not a multiple");
    QT_CHECK(lora4j_row_bytes(LORA4J_TYPE_Q4_0, -32) == -1, "negative");
    QT_CHECK(lora4j_row_bytes(LORA4J_TYPE_F32, INT64_MAX) == -1 && strstr(lora4j_last_error(), "overflow"), "overflow");

    float f[512] = {0};
    uint8_t q[1024] = {0};
    /* dequantize */
    EXPECT_STATUS(lora4j_dequantize(LORA4J_TYPE_Q4_0, q, 18, f, 32), LORA4J_OK);
    QT_CHECK(lora4j_last_error()[0] == '\0', "error cleared after success");
    EXPECT_STATUS(lora4j_dequantize(LORA4J_TYPE_Q4_0, NULL, 18, f, 32), LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_dequantize(LORA4J_TYPE_Q4_0, q, 18, NULL, 32), LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_dequantize(LORA4J_TYPE_Q4_0, q, 17, f, 32), LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_dequantize(LORA4J_TYPE_Q4_0, q, 18, f, 31), LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_dequantize(LORA4J_TYPE_Q4_0, q, 18, f, -32), LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_dequantize(LORA4J_TYPE_Q4_0, q, 18, (float *)((char *)f + 1), 32), LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_dequantize(15, q, sizeof q, f, 256), LORA4J_ERR_UNSUPPORTED);
    EXPECT_STATUS(lora4j_dequantize(99, q, sizeof q, f, 256), LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_dequantize(LORA4J_TYPE_Q4_K, NULL, 0, NULL, 0), LORA4J_OK);
    EXPECT_STATUS(lora4j_dequantize(LORA4J_TYPE_F32, q, SIZE_MAX, f, INT64_MAX), LORA4J_ERR_INVALID_ARGUMENT);

    /* quantize */
    EXPECT_STATUS(lora4j_quantize(LORA4J_TYPE_Q4_K, f, 2, 256, q, 288), LORA4J_OK);
    EXPECT_STATUS(lora4j_quantize(LORA4J_TYPE_Q4_K, f, 2, 256, q, 287), LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_quantize(LORA4J_TYPE_Q4_K, f, 2, 255, q, 288), LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_quantize(LORA4J_TYPE_Q4_K, f, -1, 256, q, 288), LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_quantize(LORA4J_TYPE_Q4_K, NULL, 1, 256, q, 288), LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_quantize(LORA4J_TYPE_Q4_K, f, 1, 256, NULL, 288), LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_quantize(LORA4J_TYPE_Q8_0, f, INT64_MAX / 16, 64, q, sizeof q), LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_quantize(16, f, 1, 256, q, sizeof q), LORA4J_ERR_UNSUPPORTED);
    EXPECT_STATUS(lora4j_quantize(LORA4J_TYPE_Q8_0, f, 0, 32, NULL, 0), LORA4J_OK);
    f[37] = NAN;
    EXPECT_STATUS(lora4j_quantize(LORA4J_TYPE_Q8_0, f, 2, 32, q, 68), LORA4J_ERR_NUMERIC);
    QT_CHECK(strstr(lora4j_last_error(), "row 1, column 5") != NULL, "NaN position in message: %s", lora4j_last_error());
    f[37] = INFINITY;
    EXPECT_STATUS(lora4j_quantize(LORA4J_TYPE_Q4_K, f, 1, 256, q, 144), LORA4J_ERR_NUMERIC);
    EXPECT_STATUS(lora4j_quantize(LORA4J_TYPE_F16, f, 1, 64, q, 128), LORA4J_OK); /* float types carry inf */
    f[37] = 0.0f;

    /* matmul */
    float x[512] = {0}, y[64];
    for (int i = 0; i < 64; i++) y[i] = 1.0f;
    EXPECT_STATUS(lora4j_matmul(LORA4J_TYPE_Q4_0, q, 36, 2, 32, x, 1, y, 1, 0), LORA4J_OK);
    EXPECT_STATUS(lora4j_matmul(LORA4J_TYPE_Q4_0, q, 35, 2, 32, x, 1, y, 1, 0), LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_matmul(LORA4J_TYPE_Q4_0, NULL, 36, 2, 32, x, 1, y, 1, 0), LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_matmul(LORA4J_TYPE_Q4_0, q, 36, 2, 32, NULL, 1, y, 1, 0), LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_matmul(LORA4J_TYPE_Q4_0, q, 36, 2, 32, x, 1, NULL, 1, 0), LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_matmul(LORA4J_TYPE_Q4_0, q, 36, -2, 32, x, 1, y, 1, 0), LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_matmul(LORA4J_TYPE_Q4_0, q, 36, 2, 32, x, -1, y, 1, 0), LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_matmul(LORA4J_TYPE_Q4_0, q, 36, 2, 48, x, 1, y, 1, 0), LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_matmul(LORA4J_TYPE_Q4_0, q, 36, 2, 32, (float *)((char *)x + 2), 1, y, 1, 0),
                  LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_matmul(LORA4J_TYPE_F32, q, SIZE_MAX, INT64_MAX / 2, 4, x, 1, y, 1, 0),
                  LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_matmul(LORA4J_TYPE_F32, q, SIZE_MAX, 2, 4, x, INT64_MAX / 3, y, 1, 0),
                  LORA4J_ERR_INVALID_ARGUMENT);
    EXPECT_STATUS(lora4j_matmul(LORA4J_TYPE_I32, q, sizeof q, 2, 4, x, 1, y, 1, 0), LORA4J_ERR_UNSUPPORTED);
    EXPECT_STATUS(lora4j_matmul(-5, q, sizeof q, 2, 4, x, 1, y, 1, 0), LORA4J_ERR_INVALID_ARGUMENT);
    /* empty shapes: nothing to do, or y = 0 when there are no inputs */
    EXPECT_STATUS(lora4j_matmul(LORA4J_TYPE_Q4_0, NULL, 0, 0, 32, NULL, 0, y, 1, 1), LORA4J_OK);
    EXPECT_STATUS(lora4j_matmul(LORA4J_TYPE_F32, NULL, 0, 3, 0, NULL, 2, y, 1, 1), LORA4J_OK);
    QT_CHECK(y[0] == 0.0f && y[5] == 0.0f && y[6] == 1.0f, "n_in = 0 gives y = 0 (and only 3x2 of it)");
    /* F32 weights at an odd address work (they are copied, not read as floats in place) */
    float wf[9] = {0};
    uint8_t wbytes[8 * 4 + 1];
    for (int i = 0; i < 8; i++) wf[i] = (float)(i + 1);
    memcpy(wbytes + 1, wf, 32);
    x[0] = 1.0f, x[1] = 2.0f, x[2] = 3.0f, x[3] = 4.0f;
    EXPECT_STATUS(lora4j_matmul(LORA4J_TYPE_F32, wbytes + 1, 32, 2, 4, x, 1, y, 1, 1), LORA4J_OK);
    QT_CHECK(y[0] == 30.0f && y[1] == 70.0f, "misaligned f32 weights: %g %g", (double)y[0], (double)y[1]);
    return qt_finish("test_quant_api");
}
