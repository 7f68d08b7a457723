/* Q5_1: blocks of 32 {half d; half m; uint8 qh[4]; uint8 qs[16]}, bits as Q5_0; y = d * q + m. */
#include "quant/quant_impl.h"

#define BLOCK_BYTES 24

void l4_q5_1_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / L4_QK; i++, b += BLOCK_BYTES, dst += L4_QK) {
        const float d = l4_rdh(b), m = l4_rdh(b + 2);
        const uint32_t h = l4_rd32le(b + 4);
        for (int j = 0; j < 16; j++) {
            const uint32_t x0 = (b[8 + j] & 0xFu) | (((h >> j) & 1u) << 4);
            const uint32_t x1 = (b[8 + j] >> 4) | (((h >> (j + 16)) & 1u) << 4);
            dst[j] = (float)x0 * d + m;
            dst[j + 16] = (float)x1 * d + m;
        }
    }
}

/* ggml's reference quantizer: d = (max-min)/31, q = (uint8)((x-min)/d + 0.5), no clamp. */
void l4_q5_1_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / L4_QK; i++, b += BLOCK_BYTES, src += L4_QK) {
        float min = 3.402823466e+38f, max = -3.402823466e+38f;
        for (int j = 0; j < L4_QK; j++) {
            if (src[j] < min) min = src[j];
            if (src[j] > max) max = src[j];
        }
        const float d = (max - min) / 31;
        const float id = l4_inv_or_zero(d);
        l4_wr16(b, l4_fp32_to_fp16(d));
        l4_wr16(b + 2, l4_fp32_to_fp16(min));
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            const uint8_t q0 = (uint8_t)(l4_trunc_i32((src[j] - min) * id + 0.5f) & 0xFF);
            const uint8_t q1 = (uint8_t)(l4_trunc_i32((src[j + 16] - min) * id + 0.5f) & 0xFF);
            b[8 + j] = (uint8_t)((q0 & 0xF) | ((q1 & 0xF) << 4));
            qh |= (uint32_t)((q0 & 0x10u) >> 4) << j;
            qh |= (uint32_t)((q1 & 0x10u) >> 4) << (j + 16);
        }
        for (int k = 0; k < 4; k++) b[4 + k] = (uint8_t)(qh >> (8 * k));
    }
}

void l4_q5_1_unpack(const void *row, int64_t n, const l4_unpacked *view) {
    const l4_unpacked out = *view; /* a local copy: stores through out.u cannot move it */
    const uint8_t *restrict b = row;
    for (int64_t i = 0; i < n / L4_QK; i++, b += BLOCK_BYTES) {
        uint8_t *restrict u = out.u + i * L4_QK;
        const uint32_t h = l4_rd32le(b + 4);
        for (int j = 0; j < 16; j++) {
            u[j] = (uint8_t)((b[8 + j] & 0xF) | (((h >> j) & 1u) << 4));
            u[j + 16] = (uint8_t)((b[8 + j] >> 4) | (((h >> (j + 16)) & 1u) << 4));
        }
        l4_unpack_a_scales(out, i, l4_rdh(b), l4_rdh(b + 2));
    }
}
