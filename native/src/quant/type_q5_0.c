/* Q5_0: blocks of 32 {half d; uint8 qh[4]; uint8 qs[16]}: low 4 bits as Q4_0, the 5th bit of
 * element j is bit j of qh read as a little-endian uint32; y = d * (q - 16). */
#include "quant/quant_impl.h"

#define BLOCK_BYTES 22

void l4_q5_0_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / L4_QK; i++, b += BLOCK_BYTES, dst += L4_QK) {
        const float d = l4_rdh(b);
        const uint32_t h = l4_rd32le(b + 2);
        for (int j = 0; j < 16; j++) {
            const int x0 = (int)((b[6 + j] & 0xF) | (((h >> j) & 1u) << 4));
            const int x1 = (int)((b[6 + j] >> 4) | (((h >> (j + 16)) & 1u) << 4));
            dst[j] = (float)(x0 - 16) * d;
            dst[j + 16] = (float)(x1 - 16) * d;
        }
    }
}

/* ggml's reference quantizer: the signed value of largest magnitude maps to -16,
 * q = min(31, (int8)(x/d + 16.5)). */
void l4_q5_0_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / L4_QK; i++, b += BLOCK_BYTES, src += L4_QK) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < L4_QK; j++) {
            if (amax < fabsf(src[j])) {
                amax = fabsf(src[j]);
                max = src[j];
            }
        }
        const float d = max / -16;
        const float id = l4_inv_or_zero(d);
        l4_wr16(b, l4_fp32_to_fp16(d));
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            int8_t s0 = l4_trunc_i8(src[j] * id + 16.5f);
            int8_t s1 = l4_trunc_i8(src[j + 16] * id + 16.5f);
            const uint8_t q0 = (uint8_t)(s0 < 31 ? s0 : 31);
            const uint8_t q1 = (uint8_t)(s1 < 31 ? s1 : 31);
            b[6 + j] = (uint8_t)((q0 & 0xF) | ((q1 & 0xF) << 4));
            qh |= (uint32_t)((q0 & 0x10u) >> 4) << j;
            qh |= (uint32_t)((q1 & 0x10u) >> 4) << (j + 16);
        }
        for (int k = 0; k < 4; k++) b[2 + k] = (uint8_t)(qh >> (8 * k));
    }
}

void l4_q5_0_unpack(const void *row, int64_t n, const l4_unpacked *view) {
    const l4_unpacked out = *view; /* a local copy: stores through out.u cannot move it */
    const uint8_t *restrict b = row;
    for (int64_t i = 0; i < n / L4_QK; i++, b += BLOCK_BYTES) {
        uint8_t *restrict u = out.u + i * L4_QK;
        const uint32_t h = l4_rd32le(b + 2);
        for (int j = 0; j < 16; j++) {
            u[j] = (uint8_t)((b[6 + j] & 0xF) | (((h >> j) & 1u) << 4));
            u[j + 16] = (uint8_t)((b[6 + j] >> 4) | (((h >> (j + 16)) & 1u) << 4));
        }
        const float d = l4_rdh(b);
        l4_unpack_a_scales(out, i, d, -16.0f * d);
    }
}
