/* Q2_K: super-blocks of 256 {uint8 scales[16]; uint8 qs[64]; half d; half dmin}, 16
 * sub-blocks of 16 with 4-bit scale (low nibble) and min (high nibble); 2-bit codes;
 * y = (d*sc)*q - dmin*m. */
#include "quant/kquant_fit.h"
#include "quant/quant_impl.h"

#define BLOCK_BYTES 84

/* The 2-bit code of element 128h + 32j + l, l = 0..31. */
static inline int q2k_code(const uint8_t *b, int h, int j, int l) {
    return (b[16 + 32 * h + l] >> (2 * j)) & 3;
}

void l4_q2_k_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / L4_QK_K; i++, b += BLOCK_BYTES, dst += L4_QK_K) {
        const float d = l4_rdh(b + 80), dmin = l4_rdh(b + 82);
        for (int h = 0; h < 2; h++)
            for (int j = 0; j < 4; j++)
                for (int half = 0; half < 2; half++) {
                    const uint8_t sc = b[8 * h + 2 * j + half];
                    const float dl = d * (float)(sc & 0xF), ml = dmin * (float)(sc >> 4);
                    for (int l = 16 * half; l < 16 * half + 16; l++)
                        dst[128 * h + 32 * j + l] = dl * (float)q2k_code(b, h, j, l) - ml;
                }
    }
}

void l4_q2_k_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *b = dst;
    l4_kq_affine k;
    for (int64_t i = 0; i < n / L4_QK_K; i++, b += BLOCK_BYTES, src += L4_QK_K) {
        l4_kquant_affine(src, 16, 16, 3, 15, &k);
        for (int g = 0; g < 16; g++) b[g] = (uint8_t)(k.sc[g] | (k.m[g] << 4));
        memset(b + 16, 0, 64);
        for (int h = 0; h < 2; h++)
            for (int j = 0; j < 4; j++)
                for (int l = 0; l < 32; l++)
                    b[16 + 32 * h + l] |= (uint8_t)(k.q[128 * h + 32 * j + l] << (2 * j));
        l4_wr16(b + 80, k.d);
        l4_wr16(b + 82, k.dmin);
    }
}

void l4_q2_k_unpack(const void *row, int64_t n, const l4_unpacked *view) {
    const l4_unpacked out = *view; /* a local copy: stores through out.u cannot move it */
    const uint8_t *restrict b = row;
    for (int64_t i = 0; i < n / L4_QK_K; i++, b += BLOCK_BYTES) {
        const float d = l4_rdh(b + 80), dmin = l4_rdh(b + 82);
        uint8_t *restrict u = out.u + i * L4_QK_K;
        for (int h = 0; h < 2; h++)
            for (int j = 0; j < 4; j++)
                for (int l = 0; l < 32; l++) u[128 * h + 32 * j + l] = (uint8_t)q2k_code(b, h, j, l);
        for (int g = 0; g < 16; g++) {
            l4_unpack_b_scale(out, i * 16 + g, (int16_t)(b[g] & 0xF));
            out.c[i * 16 + g] = -dmin * (float)(b[g] >> 4);
        }
        out.d[i] = d;
    }
}
