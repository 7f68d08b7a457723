/* Dequantization of hand-built blocks: raw bytes written per the layouts in FORMATS.md, the
 * expected values worked out by hand from the same descriptions (see the comments). Every
 * element is checked; elements left at zero bytes have the value the zero code implies. */
#include <string.h>

#include "quant_test.h"

static float out[256];

static void dequant(int32_t type, const uint8_t *block, int64_t n) {
    const int64_t bytes = lora4j_type_block_bytes(type);
    QT_CHECK(lora4j_dequantize(type, block, (size_t)bytes, out, n) == LORA4J_OK, "%s: %s", lora4j_type_name(type),
             lora4j_last_error());
}

/* Check element i; `other` is the expected value of every element not listed. */
typedef struct {
    int i;
    float v;
} expect_t;

static void check(int32_t type, int n, const expect_t *e, int ne, float other) {
    for (int i = 0; i < n; i++) {
        float want = other;
        for (int k = 0; k < ne; k++)
            if (e[k].i == i) want = e[k].v;
        QT_CHECK(out[i] == want, "%s element %d = %g, want %g", lora4j_type_name(type), i, (double)out[i], (double)want);
    }
}

int main(void) {
    uint8_t b[256];

    /* F16: 0x3C00 = 1, 0xC000 = -2, 0x7BFF = 65504, 0x0001 = 2^-24 (little-endian bytes) */
    const uint8_t f16[8] = {0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B, 0x01, 0x00};
    QT_CHECK(lora4j_dequantize(LORA4J_TYPE_F16, f16, 8, out, 4) == LORA4J_OK, "f16");
    QT_CHECK(out[0] == 1.0f && out[1] == -2.0f && out[2] == 65504.0f && out[3] == ldexpf(1.0f, -24), "f16 values");
    /* BF16: 0x3F80 = 1, 0xC040 = -3 */
    const uint8_t bf16[4] = {0x80, 0x3F, 0x40, 0xC0};
    QT_CHECK(lora4j_dequantize(LORA4J_TYPE_BF16, bf16, 4, out, 2) == LORA4J_OK, "bf16");
    QT_CHECK(out[0] == 1.0f && out[1] == -3.0f, "bf16 values");

    /* Q8_0: d = 0.5 (0x3800); qs[0] = -128 -> -64, qs[1] = -1 -> -0.5, qs[5] = 127 -> 63.5 */
    memset(b, 0, sizeof b);
    b[0] = 0x00, b[1] = 0x38, b[2] = 0x80, b[3] = 0xFF, b[7] = 0x7F;
    dequant(LORA4J_TYPE_Q8_0, b, 32);
    check(LORA4J_TYPE_Q8_0, 32, (expect_t[]){{0, -64.0f}, {1, -0.5f}, {5, 63.5f}}, 3, 0.0f);

    /* Q4_0: d = 2 (0x4000); qs[0] = 0x1F: element 0 = (15-8)*2 = 14, element 16 = (1-8)*2 = -14;
     * zero bytes give (0-8)*2 = -16 */
    memset(b, 0, sizeof b);
    b[1] = 0x40, b[2] = 0x1F;
    dequant(LORA4J_TYPE_Q4_0, b, 32);
    check(LORA4J_TYPE_Q4_0, 32, (expect_t[]){{0, 14.0f}, {16, -14.0f}}, 2, -16.0f);

    /* Q4_1: d = 1 (0x3C00), m = -2 (0xC000); qs[3] = 0xA5: element 3 = 5-2 = 3, element 19 = 10-2 = 8 */
    memset(b, 0, sizeof b);
    b[1] = 0x3C, b[3] = 0xC0, b[4 + 3] = 0xA5;
    dequant(LORA4J_TYPE_Q4_1, b, 32);
    check(LORA4J_TYPE_Q4_1, 32, (expect_t[]){{3, 3.0f}, {19, 8.0f}}, 2, -2.0f);

    /* Q5_0: d = 1; qh = {0x01, 0, 0, 0x80}: bit 0 (element 0) and bit 31 (element 31) set;
     * qs[15] = 0xF0: element 15 = 0-16, element 31 = (15|16)-16 = 15; element 0 = 16-16 = 0 */
    memset(b, 0, sizeof b);
    b[1] = 0x3C, b[2] = 0x01, b[5] = 0x80, b[6 + 15] = 0xF0;
    dequant(LORA4J_TYPE_Q5_0, b, 32);
    check(LORA4J_TYPE_Q5_0, 32, (expect_t[]){{0, 0.0f}, {31, 15.0f}}, 2, -16.0f);

    /* Q5_1: d = 0.5 (0x3800), m = 1 (0x3C00); qh bit 17 (element 17); qs[1] = 0x93:
     * element 1 = 3*0.5+1 = 2.5, element 17 = (9|16)*0.5+1 = 13.5 */
    memset(b, 0, sizeof b);
    b[1] = 0x38, b[3] = 0x3C, b[4 + 2] = 0x02, b[8 + 1] = 0x93;
    dequant(LORA4J_TYPE_Q5_1, b, 32);
    check(LORA4J_TYPE_Q5_1, 32, (expect_t[]){{1, 2.5f}, {17, 13.5f}}, 2, 1.0f);

    /* IQ4_NL: d = 0.5; qs[0] = 0xF0: element 0 = 0.5*-127, element 16 = 0.5*113;
     * qs[2] = 0x98: element 2 = 0.5*1, element 18 = 0.5*13; zero nibbles give 0.5*-127 */
    memset(b, 0, sizeof b);
    b[1] = 0x38, b[2] = 0xF0, b[4] = 0x98;
    dequant(LORA4J_TYPE_IQ4_NL, b, 32);
    check(LORA4J_TYPE_IQ4_NL, 32, (expect_t[]){{16, 56.5f}, {2, 0.5f}, {18, 6.5f}}, 3, -63.5f);

    /* Q2_K: d = 1 (bytes 80-81), dmin = 0.5 (82-83). scales[0] = 0x23 (sc 3, min 2),
     * scales[9] = 0x4F (sc 15, min 4); others 0. Element 0: qs byte 16+0 = 0x02 -> q 2:
     * 3*2 - 0.5*2 = 5; element 64 (h0, j2, l0) shares that byte, shift 4 -> q 0, sub-block 4 -> 0;
     * element 1 (q 0, sub-block 0) = -1; sub-block 9 = elements 144..159 (h1, j0, l 16..31):
     * element 150 is byte 16+32+22, shift 0, = 0x03 -> 15*3 - 2 = 43, the rest of it -2. */
    memset(b, 0, sizeof b);
    b[80] = 0x00, b[81] = 0x3C, b[82] = 0x00, b[83] = 0x38;
    b[0] = 0x23, b[9] = 0x4F, b[16] = 0x02, b[16 + 32 + 22] = 0x03;
    dequant(LORA4J_TYPE_Q2_K, b, 256);
    {
        expect_t e[32];
        int ne = 0;
        e[ne++] = (expect_t){0, 5.0f};
        for (int i = 1; i < 16; i++) e[ne++] = (expect_t){i, -1.0f};
        for (int i = 144; i < 160; i++) e[ne++] = (expect_t){i, i == 150 ? 43.0f : -2.0f};
        check(LORA4J_TYPE_Q2_K, 256, e, ne, 0.0f);
    }

    /* Q3_K: d = 1 (bytes 108-109). Scales (6-bit, stored +32): sub-block 0 = 33 (sc 1): low
     * nibble of scales[0] = 1, bits 0-1 of scales[8] = 2; sub-block 13 = 40 (sc 8): high nibble
     * of scales[5] = 8, bits 6-7 of scales[9] = 2; all others 0 (sc -32).
     * Element 0: qs[0] bits 0-1 = 3, hmask[0] bit 0 set -> code 7 -> 1*(7-4) = 3.
     * Element 210 (h1, j2, l18): qs[32+18] bits 4-5 = 2, hmask[18] bit 6 clear -> 8*(2-4) = -16;
     * rest of sub-block 13 (208..223): 8*(0-4) = -32; everything else -32*(0-4) = 128, except
     * the rest of sub-block 0 (1..15): 1*(0-4) = -4. */
    memset(b, 0, sizeof b);
    b[108] = 0x00, b[109] = 0x3C;
    b[96 + 0] = 0x01, b[96 + 8] = 0x02, b[96 + 5] = 0x80, b[96 + 9] = 0x80;
    b[32 + 0] = 0x03, b[0] = 0x01, b[32 + 32 + 18] = 0x20;
    dequant(LORA4J_TYPE_Q3_K, b, 256);
    {
        expect_t e[32];
        int ne = 0;
        e[ne++] = (expect_t){0, 3.0f};
        for (int i = 1; i < 16; i++) e[ne++] = (expect_t){i, -4.0f};
        for (int i = 208; i < 224; i++) e[ne++] = (expect_t){i, i == 210 ? -16.0f : -32.0f};
        check(LORA4J_TYPE_Q3_K, 256, e, ne, 128.0f);
    }

    /* Q4_K: d = 1, dmin = 0.5. Sub-block 0: sc 2, min 4 (scales[0] = 2, scales[4] = 4).
     * Sub-block 5: sc 35, min 17: scales[9] = (35&15) | (17&15)<<4 = 0x13, scales[1] bits 6-7 =
     * 35>>4 = 2 (0x80), scales[5] bits 6-7 = 17>>4 = 1 (0x40). Element 0: qs[0] low nibble 7 ->
     * 2*7 - 0.5*4 = 12; rest of sub-block 0: -2. Sub-block 5 = elements 160..191 (chunk 2, high
     * nibbles of qs[64..95]): qs[67] = 0xA0 -> element 163 = 35*10 - 8.5 = 341.5, the rest -8.5. */
    memset(b, 0, sizeof b);
    b[1] = 0x3C, b[3] = 0x38;
    b[4 + 0] = 2, b[4 + 4] = 4, b[4 + 9] = 0x13, b[4 + 1] = 0x80, b[4 + 5] = 0x40;
    b[16 + 0] = 0x07, b[16 + 67] = 0xA0;
    dequant(LORA4J_TYPE_Q4_K, b, 256);
    {
        expect_t e[64];
        int ne = 0;
        e[ne++] = (expect_t){0, 12.0f};
        for (int i = 1; i < 32; i++) e[ne++] = (expect_t){i, -2.0f};
        for (int i = 160; i < 192; i++) e[ne++] = (expect_t){i, i == 163 ? 341.5f : -8.5f};
        check(LORA4J_TYPE_Q4_K, 256, e, ne, 0.0f);
    }

    /* Q5_K: the same scales (bytes 4..15); qh at 16..47, qs at 48..175. Element 0: low nibble
     * 7 + 16 (qh[0] bit 0) = 23 -> 2*23 - 2 = 44. Element 163: high nibble of qs[67] = 10, + 16
     * from qh[3] bit 5 (chunk 2, high) -> 35*26 - 8.5 = 901.5 (bit 0 of qh[3] is clear, so
     * element 3 stays -2). */
    memset(b, 0, sizeof b);
    b[1] = 0x3C, b[3] = 0x38;
    b[4 + 0] = 2, b[4 + 4] = 4, b[4 + 9] = 0x13, b[4 + 1] = 0x80, b[4 + 5] = 0x40;
    b[16 + 0] = 0x01, b[16 + 3] = 0x20, b[48 + 0] = 0x07, b[48 + 67] = 0xA0;
    dequant(LORA4J_TYPE_Q5_K, b, 256);
    {
        expect_t e[64];
        int ne = 0;
        e[ne++] = (expect_t){0, 44.0f};
        for (int i = 1; i < 32; i++) e[ne++] = (expect_t){i, -2.0f};
        for (int i = 160; i < 192; i++) e[ne++] = (expect_t){i, i == 163 ? 901.5f : -8.5f};
        check(LORA4J_TYPE_Q5_K, 256, e, ne, 0.0f);
    }

    /* Q6_K: d = 0.5 (bytes 208-209, 0x3800); scales[0] = 2, scales[15] = -3.
     * Element 0: ql[0] low nibble 5, qh[0] bits 0-1 = 2 -> code 37 -> 0.5*2*5 = 5.
     * Element 255 (h1, k3, l31): ql[64+32+31] high nibble 15, qh[32+31] bits 6-7 = 3 -> code 63
     * -> 0.5*-3*31 = -46.5. Zero codes give q = -32: sub-block 0 -> -32, sub-block 15 -> 48,
     * the others (scale 0) -> 0. */
    memset(b, 0, sizeof b);
    b[208] = 0x00, b[209] = 0x38, b[192 + 0] = 2, b[192 + 15] = 0xFD;
    b[0] = 0x05, b[128 + 0] = 0x02, b[127] = 0xF0, b[128 + 63] = 0xC0;
    dequant(LORA4J_TYPE_Q6_K, b, 256);
    {
        expect_t e[32];
        int ne = 0;
        for (int i = 0; i < 16; i++) e[ne++] = (expect_t){i, i == 0 ? 5.0f : -32.0f};
        for (int i = 240; i < 256; i++) e[ne++] = (expect_t){i, i == 255 ? -46.5f : 48.0f};
        check(LORA4J_TYPE_Q6_K, 256, e, ne, 0.0f);
    }
    return qt_finish("test_quant_known_blocks");
}
