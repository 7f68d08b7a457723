/* Q4_1: blocks of 32 {half d; half m; uint8 qs[16]}, nibbles as Q4_0; y = d * q + m. */
#include "quant/quant_impl.h"

#define BLOCK_BYTES 20

void l4_q4_1_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / L4_QK; i++, b += BLOCK_BYTES, dst += L4_QK) {
        const float d = l4_rdh(b), m = l4_rdh(b + 2);
        for (int j = 0; j < 16; j++) {
            dst[j] = (float)(b[4 + j] & 0xF) * d + m;
            dst[j + 16] = (float)(b[4 + j] >> 4) * d + m;
        }
    }
}

/* ggml's reference quantizer: d = (max-min)/15, q = min(15, (int8)((x-min)/d + 0.5)). */
void l4_q4_1_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / L4_QK; i++, b += BLOCK_BYTES, src += L4_QK) {
        float min = 3.402823466e+38f, max = -3.402823466e+38f;
        for (int j = 0; j < L4_QK; j++) {
            if (src[j] < min) min = src[j];
            if (src[j] > max) max = src[j];
        }
        const float d = (max - min) / 15;
        const float id = l4_inv_or_zero(d);
        l4_wr16(b, l4_fp32_to_fp16(d));
        l4_wr16(b + 2, l4_fp32_to_fp16(min));
        for (int j = 0; j < 16; j++) {
            int8_t q0 = l4_trunc_i8((src[j] - min) * id + 0.5f);
            int8_t q1 = l4_trunc_i8((src[j + 16] - min) * id + 0.5f);
            q0 = q0 < 15 ? q0 : 15;
            q1 = q1 < 15 ? q1 : 15;
            b[4 + j] = (uint8_t)((uint8_t)q0 | (uint8_t)(q1 << 4));
        }
    }
}

void l4_q4_1_unpack(const void *row, int64_t n, const l4_unpacked *view) {
    const l4_unpacked out = *view; /* a local copy: stores through out.u cannot move it */
    const uint8_t *restrict b = row;
    for (int64_t i = 0; i < n / L4_QK; i++, b += BLOCK_BYTES) {
        uint8_t *restrict u = out.u + i * L4_QK;
        for (int j = 0; j < 16; j++) {
            u[j] = b[4 + j] & 0xF;
            u[j + 16] = b[4 + j] >> 4;
        }
        l4_unpack_a_scales(out, i, l4_rdh(b), l4_rdh(b + 2));
    }
}
