/* The plain float types: F32 (copy), F16 and BF16 (element-wise conversion). */
#include "quant/quant_impl.h"

void l4_f32_to_float(const void *src, float *dst, int64_t n) { memcpy(dst, src, (size_t)n * 4); }

void l4_f32_from_float(const float *src, void *dst, int64_t n) { memcpy(dst, src, (size_t)n * 4); }

void l4_f16_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *s = src;
    for (int64_t i = 0; i < n; i++) dst[i] = l4_fp16_to_fp32(l4_rd16(s + 2 * i));
}

void l4_f16_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *d = dst;
    for (int64_t i = 0; i < n; i++) l4_wr16(d + 2 * i, l4_fp32_to_fp16(src[i]));
}

void l4_bf16_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *s = src;
    for (int64_t i = 0; i < n; i++) dst[i] = l4_bf16_to_fp32(l4_rd16(s + 2 * i));
}

void l4_bf16_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *d = dst;
    for (int64_t i = 0; i < n; i++) l4_wr16(d + 2 * i, l4_fp32_to_bf16(src[i]));
}
