/* The closed-form quantizers (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1) must reproduce ggml's reference
 * output byte for byte. The reference here is a direct transcription of the formulas in
 * FORMATS.md, written independently of the engine's code; inputs are random blocks at many
 * scales plus edge cases (all zeros, one huge value, a negative maximum, ties). */
#include <string.h>

#include "quant/quant.h"
#include "quant_test.h"

static void put_half(uint8_t *p, float v) {
    const uint16_t h = l4_fp32_to_fp16(v);
    memcpy(p, &h, 2);
}

/* signed value of largest magnitude (the first one on ties) */
static float signed_max(const float *x) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < 32; j++)
        if (amax < fabsf(x[j])) amax = fabsf(x[j]), max = x[j];
    return max;
}

static void ref_q8_0(const float *x, uint8_t *y) {
    float amax = 0.0f;
    for (int j = 0; j < 32; j++) amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
    const float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    put_half(y, d);
    for (int j = 0; j < 32; j++) y[2 + j] = (uint8_t)(int8_t)roundf(x[j] * id);
}

static void ref_q4_0(const float *x, uint8_t *y) {
    const float d = signed_max(x) / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    put_half(y, d);
    for (int j = 0; j < 16; j++) {
        int q0 = (int8_t)(x[j] * id + 8.5f), q1 = (int8_t)(x[j + 16] * id + 8.5f);
        q0 = q0 < 15 ? q0 : 15;
        q1 = q1 < 15 ? q1 : 15;
        y[2 + j] = (uint8_t)(q0 | (q1 << 4));
    }
}

static void ref_q4_1(const float *x, uint8_t *y) {
    float min = x[0], max = x[0];
    for (int j = 1; j < 32; j++) min = x[j] < min ? x[j] : min, max = x[j] > max ? x[j] : max;
    const float d = (max - min) / 15.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    put_half(y, d);
    put_half(y + 2, min);
    for (int j = 0; j < 16; j++) {
        int q0 = (int8_t)((x[j] - min) * id + 0.5f), q1 = (int8_t)((x[j + 16] - min) * id + 0.5f);
        q0 = q0 < 15 ? q0 : 15;
        q1 = q1 < 15 ? q1 : 15;
        y[4 + j] = (uint8_t)(q0 | (q1 << 4));
    }
}

static void ref_q5_0(const float *x, uint8_t *y) {
    const float d = signed_max(x) / -16.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    put_half(y, d);
    uint32_t qh = 0;
    for (int j = 0; j < 16; j++) {
        int q0 = (int8_t)(x[j] * id + 16.5f), q1 = (int8_t)(x[j + 16] * id + 16.5f);
        q0 = q0 < 31 ? q0 : 31;
        q1 = q1 < 31 ? q1 : 31;
        y[6 + j] = (uint8_t)((q0 & 15) | ((q1 & 15) << 4));
        qh |= (uint32_t)(q0 >> 4) << j | (uint32_t)(q1 >> 4) << (j + 16);
    }
    for (int k = 0; k < 4; k++) y[2 + k] = (uint8_t)(qh >> (8 * k));
}

static void ref_q5_1(const float *x, uint8_t *y) {
    float min = x[0], max = x[0];
    for (int j = 1; j < 32; j++) min = x[j] < min ? x[j] : min, max = x[j] > max ? x[j] : max;
    const float d = (max - min) / 31.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    put_half(y, d);
    put_half(y + 2, min);
    uint32_t qh = 0;
    for (int j = 0; j < 16; j++) {
        const int q0 = (uint8_t)((x[j] - min) * id + 0.5f), q1 = (uint8_t)((x[j + 16] - min) * id + 0.5f);
        y[8 + j] = (uint8_t)((q0 & 15) | ((q1 & 15) << 4));
        qh |= (uint32_t)((q0 >> 4) & 1) << j | (uint32_t)((q1 >> 4) & 1) << (j + 16);
    }
    for (int k = 0; k < 4; k++) y[4 + k] = (uint8_t)(qh >> (8 * k));
}

typedef struct {
    int32_t type;
    void (*ref)(const float *, uint8_t *);
} case_t;

static const case_t k_cases[] = {{LORA4J_TYPE_Q8_0, ref_q8_0}, {LORA4J_TYPE_Q4_0, ref_q4_0},
                                 {LORA4J_TYPE_Q4_1, ref_q4_1}, {LORA4J_TYPE_Q5_0, ref_q5_0},
                                 {LORA4J_TYPE_Q5_1, ref_q5_1}};

static int compare_block(const case_t *c, const float *x, const char *what) {
    uint8_t got[34], want[34];
    const int bytes = (int)lora4j_type_block_bytes(c->type);
    QT_CHECK(lora4j_quantize(c->type, x, 1, 32, got, sizeof got) == LORA4J_OK, "%s", lora4j_last_error());
    c->ref(x, want);
    if (memcmp(got, want, (size_t)bytes) != 0) {
        int at = 0;
        while (got[at] == want[at]) at++;
        QT_CHECK(0, "%s %s: byte %d is 0x%02x, reference 0x%02x", lora4j_type_name(c->type), what, at, got[at], want[at]);
        return 1;
    }
    return 0;
}

int main(void) {
    float x[32];
    for (size_t ci = 0; ci < sizeof k_cases / sizeof k_cases[0]; ci++) {
        const case_t *c = &k_cases[ci];
        qt_seed(100 + ci);
        int bad = 0;
        for (int iter = 0; iter < 200000 && bad < 5; iter++) {
            const float scale = ldexpf(1.0f, (int)(qt_next() % 40) - 20);
            const int shape = iter % 4;
            for (int j = 0; j < 32; j++) {
                const float g = qt_gauss();
                x[j] = scale * (shape == 0 ? g : shape == 1 ? fabsf(g) : shape == 2 ? -fabsf(g) : g * g * g);
            }
            bad += compare_block(c, x, "random");
        }
        /* all zeros */
        memset(x, 0, sizeof x);
        compare_block(c, x, "zeros");
        /* one huge value among small ones, positive and negative */
        for (int j = 0; j < 32; j++) x[j] = 0.01f * qt_gauss();
        x[7] = 1000.0f;
        compare_block(c, x, "huge positive");
        x[7] = -1000.0f;
        compare_block(c, x, "huge negative");
        /* negative maximum and a tie in magnitude (the first one wins) */
        for (int j = 0; j < 32; j++) x[j] = qt_gauss();
        x[3] = -9.0f;
        x[20] = 9.0f;
        compare_block(c, x, "tie -9/9");
        x[3] = 9.0f;
        x[20] = -9.0f;
        compare_block(c, x, "tie 9/-9");
        /* values landing exactly on rounding ties: multiples of half a step */
        for (int j = 0; j < 32; j++) x[j] = 0.5f * (float)(j - 16);
        x[31] = 127.0f;
        compare_block(c, x, "half steps");
        /* a constant block */
        for (int j = 0; j < 32; j++) x[j] = 3.0f;
        compare_block(c, x, "constant");
    }
    /* Hand-checked bytes. Q8_0 rounds half away from zero: with amax 127 (d = 1), 2.5 -> 3 and
     * -2.5 -> -3 (a round-to-even quantizer would give 2 and -2). */
    uint8_t q[34];
    for (int j = 0; j < 32; j++) x[j] = 0.0f;
    x[0] = 127.0f, x[1] = 2.5f, x[2] = -2.5f, x[3] = 0.5f;
    lora4j_quantize(LORA4J_TYPE_Q8_0, x, 1, 32, q, sizeof q);
    QT_CHECK(q[0] == 0x00 && q[1] == 0x3C, "Q8_0 d = 1.0 (0x3C00), got 0x%02x%02x", q[1], q[0]);
    QT_CHECK((int8_t)q[3] == 3 && (int8_t)q[4] == -3 && (int8_t)q[5] == 1, "Q8_0 ties away from zero: %d %d %d",
             (int8_t)q[3], (int8_t)q[4], (int8_t)q[5]);
    /* Q4_0 all zeros: d = 0 / -8 = -0 (half 0x8000), every code (0 + 8.5) -> 8 */
    memset(x, 0, sizeof x);
    lora4j_quantize(LORA4J_TYPE_Q4_0, x, 1, 32, q, sizeof q);
    QT_CHECK(q[0] == 0 && q[1] == 0x80 && q[2] == 0x88 && q[17] == 0x88, "Q4_0 zeros: %02x %02x %02x", q[0], q[1], q[2]);
    /* Q4_0 with maximum -8 (d = 1): -8 -> 0, 7 -> 15, 7.5 -> min(15, 16) = 15 */
    x[0] = -8.0f, x[16] = 7.0f, x[1] = 7.4f;
    lora4j_quantize(LORA4J_TYPE_Q4_0, x, 1, 32, q, sizeof q);
    QT_CHECK(q[1] == 0x3C && q[2] == 0xF0 && q[3] == 0x8F, "Q4_0 extremes: 0x%02x 0x%02x", q[2], q[3]);
    /* Values so small that 1/d overflows: the x86 conversions give code 0 and d rounds to 0. */
    for (int j = 0; j < 32; j++) x[j] = ldexpf((float)(j % 3), -140);
    lora4j_quantize(LORA4J_TYPE_Q8_0, x, 1, 32, q, sizeof q);
    int nonzero = 0;
    for (int j = 0; j < 34; j++) nonzero |= q[j];
    QT_CHECK(nonzero == 0, "Q8_0 of subnormal inputs should be all zero bytes");
    return qt_finish("test_quant_reference");
}
