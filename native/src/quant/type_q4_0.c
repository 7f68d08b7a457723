/* Q4_0: blocks of 32 {half d; uint8 qs[16]}, element j<16 in the low nibble of qs[j],
 * element j+16 in its high nibble; y = d * (q - 8). */
#include "quant/quant_impl.h"

#define BLOCK_BYTES 18

void l4_q4_0_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / L4_QK; i++, b += BLOCK_BYTES, dst += L4_QK) {
        const float d = l4_rdh(b);
        for (int j = 0; j < 16; j++) {
            dst[j] = (float)((b[2 + j] & 0xF) - 8) * d;
            dst[j + 16] = (float)((b[2 + j] >> 4) - 8) * d;
        }
    }
}

/* ggml's reference quantizer: the signed value of largest magnitude maps to -8,
 * q = min(15, (int8)(x/d + 8.5)). */
void l4_q4_0_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / L4_QK; i++, b += BLOCK_BYTES, src += L4_QK) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < L4_QK; j++) {
            if (amax < fabsf(src[j])) {
                amax = fabsf(src[j]);
                max = src[j];
            }
        }
        const float d = max / -8;
        const float id = l4_inv_or_zero(d);
        l4_wr16(b, l4_fp32_to_fp16(d));
        for (int j = 0; j < 16; j++) {
            int8_t q0 = l4_trunc_i8(src[j] * id + 8.5f);
            int8_t q1 = l4_trunc_i8(src[j + 16] * id + 8.5f);
            q0 = q0 < 15 ? q0 : 15;
            q1 = q1 < 15 ? q1 : 15;
            b[2 + j] = (uint8_t)((uint8_t)q0 | (uint8_t)(q1 << 4));
        }
    }
}

void l4_q4_0_unpack(const void *row, int64_t n, const l4_unpacked *view) {
    const l4_unpacked out = *view; /* a local copy: stores through out.u cannot move it */
    const uint8_t *restrict b = row;
    for (int64_t i = 0; i < n / L4_QK; i++, b += BLOCK_BYTES) {
        uint8_t *restrict u = out.u + i * L4_QK;
        for (int j = 0; j < 16; j++) {
            u[j] = b[2 + j] & 0xF;
            u[j + 16] = b[2 + j] >> 4;
        }
        const float d = l4_rdh(b);
        l4_unpack_a_scales(out, i, d, -8.0f * d);
    }
}
