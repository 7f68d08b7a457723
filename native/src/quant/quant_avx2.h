/* AVX2 versions of the per-type kernels (quant_avx2.c); callers check l4_simd_level(). */
#ifndef LORA4J_QUANT_AVX2_H
#define LORA4J_QUANT_AVX2_H

#include "quant/quant_impl.h"

#define L4_AVX2_TYPE(t)                                                      \
    void l4_##t##_to_float_avx2(const void *src, float *dst, int64_t n);    \
    void l4_##t##_unpack_avx2(const void *row, int64_t n, const l4_unpacked *out);

L4_AVX2_TYPE(q8_0)
L4_AVX2_TYPE(q4_0)
L4_AVX2_TYPE(q4_1)
L4_AVX2_TYPE(q5_0)
L4_AVX2_TYPE(q5_1)
L4_AVX2_TYPE(iq4_nl)
L4_AVX2_TYPE(q2_k)
L4_AVX2_TYPE(q3_k)
L4_AVX2_TYPE(q4_k)
L4_AVX2_TYPE(q5_k)
L4_AVX2_TYPE(q6_k)

#undef L4_AVX2_TYPE

void l4_f16_to_float_avx2(const void *src, float *dst, int64_t n);
void l4_f16_from_float_avx2(const float *src, void *dst, int64_t n);
void l4_bf16_to_float_avx2(const void *src, float *dst, int64_t n);
void l4_bf16_from_float_avx2(const float *src, void *dst, int64_t n);

#endif
