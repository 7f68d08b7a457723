/* The ggml type table: names and block geometry for every id, plus the kernels of the
 * types this engine implements (filled in by the per-type files). */
#include "quant/quant.h"

static const l4_type_traits k_traits[LORA4J_TYPE_COUNT] = {
    [LORA4J_TYPE_F32] = {"f32", 1, 4, 0, 0, 0},
    [LORA4J_TYPE_F16] = {"f16", 1, 2, 0, 0, 0},
    [LORA4J_TYPE_Q4_0] = {"q4_0", 32, 18, 0, 0, 0},
    [LORA4J_TYPE_Q4_1] = {"q4_1", 32, 20, 0, 0, 0},
    [LORA4J_TYPE_Q5_0] = {"q5_0", 32, 22, 0, 0, 0},
    [LORA4J_TYPE_Q5_1] = {"q5_1", 32, 24, 0, 0, 0},
    [LORA4J_TYPE_Q8_0] = {"q8_0", 32, 34, 0, 0, 0},
    [9] = {"q8_1", 32, 36, 0, 0, 0},
    [LORA4J_TYPE_Q2_K] = {"q2_K", 256, 84, 0, 0, 0},
    [LORA4J_TYPE_Q3_K] = {"q3_K", 256, 110, 0, 0, 0},
    [LORA4J_TYPE_Q4_K] = {"q4_K", 256, 144, 0, 0, 0},
    [LORA4J_TYPE_Q5_K] = {"q5_K", 256, 176, 0, 0, 0},
    [LORA4J_TYPE_Q6_K] = {"q6_K", 256, 210, 0, 0, 0},
    [15] = {"q8_K", 256, 292, 0, 0, 0},
    [16] = {"iq2_xxs", 256, 66, 0, 0, 0},
    [17] = {"iq2_xs", 256, 74, 0, 0, 0},
    [18] = {"iq3_xxs", 256, 98, 0, 0, 0},
    [19] = {"iq1_s", 256, 50, 0, 0, 0},
    [LORA4J_TYPE_IQ4_NL] = {"iq4_nl", 32, 18, 0, 0, 0},
    [21] = {"iq3_s", 256, 110, 0, 0, 0},
    [22] = {"iq2_s", 256, 82, 0, 0, 0},
    [23] = {"iq4_xs", 256, 136, 0, 0, 0},
    [LORA4J_TYPE_I8] = {"i8", 1, 1, 0, 0, 0},
    [LORA4J_TYPE_I16] = {"i16", 1, 2, 0, 0, 0},
    [LORA4J_TYPE_I32] = {"i32", 1, 4, 0, 0, 0},
    [LORA4J_TYPE_I64] = {"i64", 1, 8, 0, 0, 0},
    [LORA4J_TYPE_F64] = {"f64", 1, 8, 0, 0, 0},
    [29] = {"iq1_m", 256, 56, 0, 0, 0},
    [LORA4J_TYPE_BF16] = {"bf16", 1, 2, 0, 0, 0},
    [34] = {"tq1_0", 256, 54, 0, 0, 0},
    [35] = {"tq2_0", 256, 66, 0, 0, 0},
};

const l4_type_traits *l4_traits(int32_t type) {
    if (type < 0 || type >= LORA4J_TYPE_COUNT || k_traits[type].name == 0) return 0;
    return &k_traits[type];
}

int64_t l4_row_bytes(int32_t type, int64_t n) {
    const l4_type_traits *t = l4_traits(type);
    if (!t || n < 0 || n % t->blck != 0) return -1;
    return n / t->blck * t->block_bytes;
}
