/* Q3_K: super-blocks of 256 {uint8 hmask[32]; uint8 qs[64]; uint8 scales[12]; half d}, 16
 * sub-blocks of 16 with 6-bit signed scales (stored +32); 3-bit codes: 2 low bits in qs, the
 * high bit in hmask; y = (d*sc)*(code - 4). */
#include "quant/kquant_fit.h"
#include "quant/quant_impl.h"

#define BLOCK_BYTES 110

/* Scale of sub-block k (-32..31) from the 12 packed bytes. */
static inline int q3k_scale(const uint8_t *s, int k) {
    const int lo = k < 8 ? s[k] & 0xF : s[k - 8] >> 4;
    const int hi = (s[8 + k % 4] >> (2 * (k / 4))) & 3;
    return (lo | (hi << 4)) - 32;
}

/* The 3-bit code (0..7) of element 128h + 32j + l, l = 0..31. */
static inline int q3k_code(const uint8_t *b, int h, int j, int l) {
    const int lo = (b[32 + 32 * h + l] >> (2 * j)) & 3;
    return lo | (((b[l] >> (4 * h + j)) & 1) << 2);
}

void l4_q3_k_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / L4_QK_K; i++, b += BLOCK_BYTES, dst += L4_QK_K) {
        const float d = l4_rdh(b + 108);
        for (int h = 0; h < 2; h++)
            for (int j = 0; j < 4; j++)
                for (int half = 0; half < 2; half++) {
                    const float dl = d * (float)q3k_scale(b + 96, 8 * h + 2 * j + half);
                    for (int l = 16 * half; l < 16 * half + 16; l++)
                        dst[128 * h + 32 * j + l] = dl * (float)(q3k_code(b, h, j, l) - 4);
                }
    }
}

void l4_q3_k_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *b = dst;
    l4_kq_sym k;
    for (int64_t i = 0; i < n / L4_QK_K; i++, b += BLOCK_BYTES, src += L4_QK_K) {
        l4_kquant_sym(src, 16, 16, 4, -32, 31, &k);
        memset(b, 0, 96);
        for (int h = 0; h < 2; h++)
            for (int j = 0; j < 4; j++)
                for (int l = 0; l < 32; l++) {
                    const int code = k.q[128 * h + 32 * j + l];
                    b[32 + 32 * h + l] |= (uint8_t)((code & 3) << (2 * j));
                    b[l] |= (uint8_t)((code >> 2) << (4 * h + j));
                }
        uint8_t *s = b + 96;
        memset(s, 0, 12);
        for (int g = 0; g < 16; g++) {
            const int v = k.sc[g] + 32;
            s[g < 8 ? g : g - 8] |= (uint8_t)((v & 0xF) << (g < 8 ? 0 : 4));
            s[8 + g % 4] |= (uint8_t)((v >> 4) << (2 * (g / 4)));
        }
        l4_wr16(b + 108, k.d);
    }
}

void l4_q3_k_unpack(const void *row, int64_t n, const l4_unpacked *view) {
    const l4_unpacked out = *view; /* a local copy: stores through out.u cannot move it */
    const uint8_t *restrict b = row;
    for (int64_t i = 0; i < n / L4_QK_K; i++, b += BLOCK_BYTES) {
        const float d = l4_rdh(b + 108);
        uint8_t *restrict u = out.u + i * L4_QK_K;
        for (int h = 0; h < 2; h++)
            for (int j = 0; j < 4; j++)
                for (int l = 0; l < 32; l++) u[128 * h + 32 * j + l] = (uint8_t)q3k_code(b, h, j, l);
        for (int g = 0; g < 16; g++) {
            const int sc = q3k_scale(b + 96, g);
            l4_unpack_b_scale(out, i * 16 + g, (int16_t)sc);
            out.c[i * 16 + g] = -4.0f * (d * (float)sc);
        }
        out.d[i] = d;
    }
}
