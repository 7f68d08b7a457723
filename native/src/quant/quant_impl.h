/* Internals shared by the per-type files of the quantization layer: byte-level readers (block
 * data may sit at any address), float->int conversions with defined results for every input,
 * and the per-type entry points the type table and the matmul drivers use. */
#ifndef LORA4J_QUANT_IMPL_H
#define LORA4J_QUANT_IMPL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "quant/quant.h"

#define L4_QK 32    /* elements per block of the 32-block types */
#define L4_QK_K 256 /* elements per super-block of the K-quants */

static inline uint16_t l4_rd16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static inline void l4_wr16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

static inline uint32_t l4_rd32le(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline float l4_rdh(const uint8_t *p) { return l4_fp16_to_fp32(l4_rd16(p)); }

/* Truncating float->int32 with the x86 cvttss2si result for NaN and out-of-range values
 * (INT32_MIN): ggml's reference quantizers cast floats to small ints, and this is what those
 * casts do on x86, so edge cases reproduce its bytes without undefined behaviour. */
static inline int32_t l4_trunc_i32(float x) {
    if (!(x >= -2147483648.0f && x < 2147483648.0f)) return INT32_MIN;
    return (int32_t)x;
}

/* Low byte of that conversion, read as int8 (a C float->int8_t cast compiled for x86). */
static inline int8_t l4_trunc_i8(float x) { return (int8_t)(uint8_t)(l4_trunc_i32(x) & 0xFF); }

/* Clamp to [lo, hi] (NaN gives lo) and round to nearest, ties to even. Adding 1.5 * 2^23
 * leaves the rounded value in the low mantissa bits, without a libm call; the clamp keeps
 * |x| far below 2^22 where that holds. */
static inline int l4_round_clamp(float x, int lo, int hi) {
    if (!(x > (float)lo)) return lo;
    if (!(x < (float)hi)) return hi;
    const float v = x + 12582912.0f;
    int32_t bits;
    memcpy(&bits, &v, 4);
    return (int)((bits & 0x007FFFFF) - 0x00400000);
}

/* 1/x, or 0 for x == 0 (the reference quantizers' convention). */
static inline float l4_inv_or_zero(float x) { return x != 0.0f ? 1.0f / x : 0.0f; }

/* ---- per-type scalar kernels (n a multiple of the type's block size) --------------------- */

/* l4_<t>_to_float is the scalar reference; l4_<t>_from_float the quantizer. */
void l4_f32_to_float(const void *src, float *dst, int64_t n);
void l4_f32_from_float(const float *src, void *dst, int64_t n);
void l4_f16_to_float(const void *src, float *dst, int64_t n);
void l4_f16_from_float(const float *src, void *dst, int64_t n);
void l4_bf16_to_float(const void *src, float *dst, int64_t n);
void l4_bf16_from_float(const float *src, void *dst, int64_t n);
void l4_q8_0_to_float(const void *src, float *dst, int64_t n);
void l4_q8_0_from_float(const float *src, void *dst, int64_t n);
void l4_q4_0_to_float(const void *src, float *dst, int64_t n);
void l4_q4_0_from_float(const float *src, void *dst, int64_t n);
void l4_q4_1_to_float(const void *src, float *dst, int64_t n);
void l4_q4_1_from_float(const float *src, void *dst, int64_t n);
void l4_q5_0_to_float(const void *src, float *dst, int64_t n);
void l4_q5_0_from_float(const float *src, void *dst, int64_t n);
void l4_q5_1_to_float(const void *src, float *dst, int64_t n);
void l4_q5_1_from_float(const float *src, void *dst, int64_t n);
void l4_iq4_nl_to_float(const void *src, float *dst, int64_t n);
void l4_iq4_nl_from_float(const float *src, void *dst, int64_t n);
void l4_q2_k_to_float(const void *src, float *dst, int64_t n);
void l4_q2_k_from_float(const float *src, void *dst, int64_t n);
void l4_q3_k_to_float(const void *src, float *dst, int64_t n);
void l4_q3_k_from_float(const float *src, void *dst, int64_t n);
void l4_q4_k_to_float(const void *src, float *dst, int64_t n);
void l4_q4_k_from_float(const float *src, void *dst, int64_t n);
void l4_q5_k_to_float(const void *src, float *dst, int64_t n);
void l4_q5_k_from_float(const float *src, void *dst, int64_t n);
void l4_q6_k_to_float(const void *src, float *dst, int64_t n);
void l4_q6_k_from_float(const float *src, void *dst, int64_t n);

/* IQ4_NL's non-uniform 4-bit grid. */
extern const int8_t l4_iq4nl_grid[16];

/* ---- canonical integer form for the int8 (fast) matmul path ------------------------------ *
 *
 * Every quantized type is unpacked, a few rows at a time, into one of two forms in which
 * w[k] = scale(k) * u[k] + c[g(k)], u unsigned 8-bit, g(k) = k/16 (groups of 16):
 *
 *  kind A (32-blocks: Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 IQ4_NL): scale(k) = d[k/32], stored expanded
 *      to 8 floats per block (dexp) so SIMD lanes load it directly.
 *  kind B (K-quants): scale(k) = d[k/256] * sc[k/16], sc a small signed integer, stored
 *      expanded to one int16 per pair of elements (scx) to feed pmaddwd lanes directly.
 *
 * Signed quants are made unsigned by an offset that the per-group term c absorbs
 * (Q4_0: u = q, c = -8d; Q8_0: u = q+128, c = -128d; ...). A dot product with int8
 * activations is then an exact integer sum per block plus sum_g c[g] * dx * sum(x in g). */
typedef struct l4_unpacked {
    uint8_t *u;    /* [n] */
    float *dexp;   /* kind A: [n/32*8] */
    int16_t *scx;  /* kind B: [n/2] */
    float *d;      /* kind B: [n/256] */
    float *c;      /* [n/16] */
} l4_unpacked;

typedef void (*l4_unpack_fn)(const void *row, int64_t n, const l4_unpacked *out);

enum { L4_KIND_NONE = 0, L4_KIND_A = 1, L4_KIND_B = 2 };

/* Which form a type unpacks to (L4_KIND_NONE for float types) and how. */
int l4_unpack_kind(int32_t type);
l4_unpack_fn l4_unpack_for(int32_t type);

void l4_q8_0_unpack(const void *row, int64_t n, const l4_unpacked *out);
void l4_q4_0_unpack(const void *row, int64_t n, const l4_unpacked *out);
void l4_q4_1_unpack(const void *row, int64_t n, const l4_unpacked *out);
void l4_q5_0_unpack(const void *row, int64_t n, const l4_unpacked *out);
void l4_q5_1_unpack(const void *row, int64_t n, const l4_unpacked *out);
void l4_iq4_nl_unpack(const void *row, int64_t n, const l4_unpacked *out);
void l4_q2_k_unpack(const void *row, int64_t n, const l4_unpacked *out);
void l4_q3_k_unpack(const void *row, int64_t n, const l4_unpacked *out);
void l4_q4_k_unpack(const void *row, int64_t n, const l4_unpacked *out);
void l4_q5_k_unpack(const void *row, int64_t n, const l4_unpacked *out);
void l4_q6_k_unpack(const void *row, int64_t n, const l4_unpacked *out);

/* Fill a kind-A block's expanded scale and its two group terms. */
static inline void l4_unpack_a_scales(l4_unpacked out, int64_t b, float d, float c) {
    for (int i = 0; i < 8; i++) out.dexp[b * 8 + i] = d;
    out.c[2 * b] = c;
    out.c[2 * b + 1] = c;
}

/* Fill a kind-B group's expanded integer scale. */
static inline void l4_unpack_b_scale(l4_unpacked out, int64_t g, int16_t sc) {
    for (int i = 0; i < 8; i++) out.scx[g * 8 + i] = sc;
}

#endif
