/* Q8_0: blocks of 32 {half d; int8 qs[32]}, y = d * qs. */
#include "quant/quant_impl.h"

#define BLOCK_BYTES 34

void l4_q8_0_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / L4_QK; i++, b += BLOCK_BYTES, dst += L4_QK) {
        const float d = l4_rdh(b);
        const int8_t *qs = (const int8_t *)(b + 2);
        for (int j = 0; j < L4_QK; j++) dst[j] = (float)qs[j] * d;
    }
}

/* ggml's reference quantizer: d = amax/127, q = round(x * (1/d)) (ties away from zero). */
void l4_q8_0_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / L4_QK; i++, b += BLOCK_BYTES, src += L4_QK) {
        float amax = 0.0f;
        for (int j = 0; j < L4_QK; j++) {
            const float a = fabsf(src[j]);
            amax = amax > a ? amax : a;
        }
        const float d = amax / 127;
        const float id = l4_inv_or_zero(d);
        l4_wr16(b, l4_fp32_to_fp16(d));
        for (int j = 0; j < L4_QK; j++) b[2 + j] = (uint8_t)l4_trunc_i8(roundf(src[j] * id));
    }
}

void l4_q8_0_unpack(const void *row, int64_t n, const l4_unpacked *view) {
    const l4_unpacked out = *view; /* a local copy: stores through out.u cannot move it */
    const uint8_t *restrict b = row;
    for (int64_t i = 0; i < n / L4_QK; i++, b += BLOCK_BYTES) {
        const float d = l4_rdh(b);
        for (int j = 0; j < L4_QK; j++) out.u[i * L4_QK + j] = b[2 + j] ^ 0x80u; /* q + 128 */
        l4_unpack_a_scales(out, i, d, -128.0f * d);
    }
}
