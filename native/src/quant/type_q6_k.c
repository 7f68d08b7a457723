/* Q6_K: super-blocks of 256 {uint8 ql[128]; uint8 qh[64]; int8 scales[16]; half d}, 16
 * sub-blocks of 16 with int8 scales; y = (d*sc)*(q - 32), q 6-bit. */
#include "quant/kquant_fit.h"
#include "quant/quant_impl.h"

#define BLOCK_BYTES 210

/* The 6-bit code (0..63) of element 128h + 32k + l, k = 0..3. */
static inline int q6k_code(const uint8_t *b, int h, int k, int l) {
    const uint8_t *ql = b + 64 * h, *qh = b + 128 + 32 * h;
    const int lo = (k & 1) ? ql[l + 32] : ql[l];
    return ((k & 2) ? lo >> 4 : lo & 0xF) | (((qh[l] >> (2 * k)) & 3) << 4);
}

void l4_q6_k_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / L4_QK_K; i++, b += BLOCK_BYTES, dst += L4_QK_K) {
        const float d = l4_rdh(b + 208);
        const int8_t *sc = (const int8_t *)(b + 192);
        for (int h = 0; h < 2; h++)
            for (int k = 0; k < 4; k++)
                for (int l = 0; l < 32; l++) {
                    const int e = 128 * h + 32 * k + l;
                    dst[e] = d * (float)sc[e / 16] * (float)(q6k_code(b, h, k, l) - 32);
                }
    }
}

void l4_q6_k_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *b = dst;
    l4_kq_sym k;
    for (int64_t i = 0; i < n / L4_QK_K; i++, b += BLOCK_BYTES, src += L4_QK_K) {
        l4_kquant_sym(src, 16, 16, 32, -128, 127, &k);
        for (int h = 0; h < 2; h++) {
            const uint8_t *q = k.q + 128 * h;
            for (int l = 0; l < 32; l++) {
                b[64 * h + l] = (uint8_t)((q[l] & 0xF) | ((q[l + 64] & 0xF) << 4));
                b[64 * h + l + 32] = (uint8_t)((q[l + 32] & 0xF) | ((q[l + 96] & 0xF) << 4));
                b[128 + 32 * h + l] = (uint8_t)((q[l] >> 4) | ((q[l + 32] >> 4) << 2) |
                                                ((q[l + 64] >> 4) << 4) | ((q[l + 96] >> 4) << 6));
            }
        }
        for (int g = 0; g < 16; g++) b[192 + g] = (uint8_t)(int8_t)k.sc[g];
        l4_wr16(b + 208, k.d);
    }
}

void l4_q6_k_unpack(const void *row, int64_t n, const l4_unpacked *view) {
    const l4_unpacked out = *view; /* a local copy: stores through out.u cannot move it */
    const uint8_t *restrict b = row;
    for (int64_t i = 0; i < n / L4_QK_K; i++, b += BLOCK_BYTES) {
        const float d = l4_rdh(b + 208);
        uint8_t *restrict u = out.u + i * L4_QK_K;
        for (int h = 0; h < 2; h++)
            for (int k = 0; k < 4; k++)
                for (int l = 0; l < 32; l++) u[128 * h + 32 * k + l] = (uint8_t)q6k_code(b, h, k, l);
        for (int g = 0; g < 16; g++) {
            const int sc = (int8_t)b[192 + g];
            l4_unpack_b_scale(out, i * 16 + g, (int16_t)sc);
            out.c[i * 16 + g] = -32.0f * (d * (float)sc);
        }
        out.d[i] = d;
    }
}
