/* Exact IEEE binary16 and bfloat16 conversions (round to nearest, ties to even), in integer
 * arithmetic so the results do not depend on the FPU's denormal modes. NaNs are quieted the
 * way F16C does it, so scalar and SIMD paths agree bit for bit. */
#include <string.h>

#include "quant/quant.h"

static inline uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float l4_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t mant = h & 0x3FFu;
    if (exp == 0x1F) return bits_f32(sign | 0x7F800000u | (mant << 13) | (mant ? 0x400000u : 0));
    if (exp != 0) return bits_f32(sign | ((exp + 112) << 23) | (mant << 13));
    if (mant == 0) return bits_f32(sign);
    /* subnormal: mant * 2^-24, normalised around its highest set bit p */
    int p = 31 - __builtin_clz(mant);
    return bits_f32(sign | ((uint32_t)(p + 103) << 23) | ((mant << (23 - p)) & 0x7FFFFFu));
}

uint16_t l4_fp32_to_fp16(float f) {
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t a = x & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return sign | 0x7E00u | (uint16_t)((a >> 13) & 0x3FFu); /* NaN */
    if (a >= 0x477FF000u) return sign | 0x7C00u; /* >= 65520 rounds to infinity */
    if (a >= 0x38800000u) {                       /* normal half: rebias, round the 13 dropped bits */
        uint32_t r = a - 0x38000000u;
        r += 0xFFFu + ((r >> 13) & 1u);
        return sign | (uint16_t)(r >> 13);
    }
    if (a < 0x33000000u) return sign; /* below half the smallest subnormal */
    /* subnormal half: (1.m * 2^(e-150)) / 2^-24 = m * 2^(e-126) */
    uint32_t e = a >> 23;
    uint32_t m = (a & 0x7FFFFFu) | 0x800000u;
    uint32_t shift = 126 - e;
    uint32_t q = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1);
    if (rem > half || (rem == half && (q & 1u))) q++;
    return sign | (uint16_t)q;
}

float l4_bf16_to_fp32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t l4_fp32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x40u); /* quiet NaN */
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}
