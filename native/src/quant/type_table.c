/* The ggml type table: names and block geometry for every id, plus the kernels of the
 * types this engine implements (filled in by the per-type files). */
#include "core/simd.h"
#include "quant/quant_avx2.h"
#include "quant/quant_impl.h"

/* Run-time dispatch between the scalar reference and the AVX2 kernels of a type. */
#define DISPATCH_TO_FLOAT(t)                                                                    \
    static void t##_to_float(const void *src, float *dst, int64_t n) {                          \
        if (l4_simd_level() >= LORA4J_SIMD_AVX2) {                                              \
            l4_##t##_to_float_avx2(src, dst, n);                                                \
        } else {                                                                                \
            l4_##t##_to_float(src, dst, n);                                                     \
        }                                                                                       \
    }
#define DISPATCH_UNPACK(t)                                                                      \
    static void t##_unpack(const void *row, int64_t n, const l4_unpacked *out) {                       \
        if (l4_simd_level() >= LORA4J_SIMD_AVX2) {                                              \
            l4_##t##_unpack_avx2(row, n, out);                                                  \
        } else {                                                                                \
            l4_##t##_unpack(row, n, out);                                                       \
        }                                                                                       \
    }
#define DISPATCH_FROM_FLOAT(t)                                                                  \
    static void t##_from_float(const float *src, void *dst, int64_t n) {                        \
        if (l4_simd_level() >= LORA4J_SIMD_AVX2) {                                              \
            l4_##t##_from_float_avx2(src, dst, n);                                              \
        } else {                                                                                \
            l4_##t##_from_float(src, dst, n);                                                   \
        }                                                                                       \
    }
#define DISPATCH_QUANT(t) DISPATCH_TO_FLOAT(t) DISPATCH_UNPACK(t)

DISPATCH_TO_FLOAT(f16)
DISPATCH_FROM_FLOAT(f16)
DISPATCH_TO_FLOAT(bf16)
DISPATCH_FROM_FLOAT(bf16)
DISPATCH_QUANT(q8_0)
DISPATCH_QUANT(q4_0)
DISPATCH_QUANT(q4_1)
DISPATCH_QUANT(q5_0)
DISPATCH_QUANT(q5_1)
DISPATCH_QUANT(iq4_nl)
DISPATCH_QUANT(q2_k)
DISPATCH_QUANT(q3_k)
DISPATCH_QUANT(q4_k)
DISPATCH_QUANT(q5_k)
DISPATCH_QUANT(q6_k)

static const l4_type_traits k_traits[LORA4J_TYPE_COUNT] = {
    [LORA4J_TYPE_F32] = {"f32", 1, 4, 1, l4_f32_to_float, l4_f32_from_float},
    [LORA4J_TYPE_F16] = {"f16", 1, 2, 1, f16_to_float, f16_from_float},
    [LORA4J_TYPE_Q4_0] = {"q4_0", 32, 18, 1, q4_0_to_float, l4_q4_0_from_float},
    [LORA4J_TYPE_Q4_1] = {"q4_1", 32, 20, 1, q4_1_to_float, l4_q4_1_from_float},
    [LORA4J_TYPE_Q5_0] = {"q5_0", 32, 22, 1, q5_0_to_float, l4_q5_0_from_float},
    [LORA4J_TYPE_Q5_1] = {"q5_1", 32, 24, 1, q5_1_to_float, l4_q5_1_from_float},
    [LORA4J_TYPE_Q8_0] = {"q8_0", 32, 34, 1, q8_0_to_float, l4_q8_0_from_float},
    [9] = {"q8_1", 32, 36, 0, 0, 0},
    [LORA4J_TYPE_Q2_K] = {"q2_K", 256, 84, 1, q2_k_to_float, l4_q2_k_from_float},
    [LORA4J_TYPE_Q3_K] = {"q3_K", 256, 110, 1, q3_k_to_float, l4_q3_k_from_float},
    [LORA4J_TYPE_Q4_K] = {"q4_K", 256, 144, 1, q4_k_to_float, l4_q4_k_from_float},
    [LORA4J_TYPE_Q5_K] = {"q5_K", 256, 176, 1, q5_k_to_float, l4_q5_k_from_float},
    [LORA4J_TYPE_Q6_K] = {"q6_K", 256, 210, 1, q6_k_to_float, l4_q6_k_from_float},
    [15] = {"q8_K", 256, 292, 0, 0, 0},
    [16] = {"iq2_xxs", 256, 66, 0, 0, 0},
    [17] = {"iq2_xs", 256, 74, 0, 0, 0},
    [18] = {"iq3_xxs", 256, 98, 0, 0, 0},
    [19] = {"iq1_s", 256, 50, 0, 0, 0},
    [LORA4J_TYPE_IQ4_NL] = {"iq4_nl", 32, 18, 1, iq4_nl_to_float, l4_iq4_nl_from_float},
    [21] = {"iq3_s", 256, 110, 0, 0, 0},
    [22] = {"iq2_s", 256, 82, 0, 0, 0},
    [23] = {"iq4_xs", 256, 136, 0, 0, 0},
    [LORA4J_TYPE_I8] = {"i8", 1, 1, 0, 0, 0},
    [LORA4J_TYPE_I16] = {"i16", 1, 2, 0, 0, 0},
    [LORA4J_TYPE_I32] = {"i32", 1, 4, 0, 0, 0},
    [LORA4J_TYPE_I64] = {"i64", 1, 8, 0, 0, 0},
    [LORA4J_TYPE_F64] = {"f64", 1, 8, 0, 0, 0},
    [29] = {"iq1_m", 256, 56, 0, 0, 0},
    [LORA4J_TYPE_BF16] = {"bf16", 1, 2, 1, bf16_to_float, bf16_from_float},
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

int l4_unpack_kind(int32_t type) {
    switch (type) {
    case LORA4J_TYPE_Q8_0:
    case LORA4J_TYPE_Q4_0:
    case LORA4J_TYPE_Q4_1:
    case LORA4J_TYPE_Q5_0:
    case LORA4J_TYPE_Q5_1:
    case LORA4J_TYPE_IQ4_NL: return L4_KIND_A;
    case LORA4J_TYPE_Q2_K:
    case LORA4J_TYPE_Q3_K:
    case LORA4J_TYPE_Q4_K:
    case LORA4J_TYPE_Q5_K:
    case LORA4J_TYPE_Q6_K: return L4_KIND_B;
    default: return L4_KIND_NONE;
    }
}

l4_unpack_fn l4_unpack_for(int32_t type) {
    switch (type) {
    case LORA4J_TYPE_Q8_0: return q8_0_unpack;
    case LORA4J_TYPE_Q4_0: return q4_0_unpack;
    case LORA4J_TYPE_Q4_1: return q4_1_unpack;
    case LORA4J_TYPE_Q5_0: return q5_0_unpack;
    case LORA4J_TYPE_Q5_1: return q5_1_unpack;
    case LORA4J_TYPE_IQ4_NL: return iq4_nl_unpack;
    case LORA4J_TYPE_Q2_K: return q2_k_unpack;
    case LORA4J_TYPE_Q3_K: return q3_k_unpack;
    case LORA4J_TYPE_Q4_K: return q4_k_unpack;
    case LORA4J_TYPE_Q5_K: return q5_k_unpack;
    case LORA4J_TYPE_Q6_K: return q6_k_unpack;
    default: return 0;
    }
}
