/* Q5_K: super-blocks of 256 {half d; half dmin; uint8 scales[12]; uint8 qh[32]; uint8 qs[128]},
 * as Q4_K plus a 5th bit: chunk c's low-nibble value l has bit 2c of qh[l], its high-nibble
 * value bit 2c+1. */
#include "quant/kquant_fit.h"
#include "quant/quant_impl.h"

#define BLOCK_BYTES 176

/* The 5-bit code of element 64c + 32h + l. */
static inline int q5k_code(const uint8_t *b, int c, int h, int l) {
    const uint8_t q = b[48 + 32 * c + l];
    return (h ? q >> 4 : q & 0xF) | (((b[16 + l] >> (2 * c + h)) & 1) << 4);
}

void l4_q5_k_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / L4_QK_K; i++, b += BLOCK_BYTES, dst += L4_QK_K) {
        const float d = l4_rdh(b), dmin = l4_rdh(b + 2);
        for (int c = 0; c < 4; c++) {
            for (int h = 0; h < 2; h++) {
                int sc, m;
                l4_k4_get_scale_min(b + 4, 2 * c + h, &sc, &m);
                const float d1 = d * (float)sc, m1 = dmin * (float)m;
                for (int l = 0; l < 32; l++) dst[64 * c + 32 * h + l] = d1 * (float)q5k_code(b, c, h, l) - m1;
            }
        }
    }
}

void l4_q5_k_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *b = dst;
    l4_kq_affine k;
    for (int64_t i = 0; i < n / L4_QK_K; i++, b += BLOCK_BYTES, src += L4_QK_K) {
        l4_kquant_affine(src, 8, 32, 31, 63, &k);
        l4_wr16(b, k.d);
        l4_wr16(b + 2, k.dmin);
        l4_k4_pack_scale_min(k.sc, k.m, b + 4);
        memset(b + 16, 0, 32);
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                const int lo = k.q[64 * c + l], hi = k.q[64 * c + 32 + l];
                b[48 + 32 * c + l] = (uint8_t)((lo & 0xF) | ((hi & 0xF) << 4));
                b[16 + l] |= (uint8_t)(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
            }
        }
    }
}

void l4_q5_k_unpack(const void *row, int64_t n, const l4_unpacked *view) {
    const l4_unpacked out = *view; /* a local copy: stores through out.u cannot move it */
    const uint8_t *restrict b = row;
    for (int64_t i = 0; i < n / L4_QK_K; i++, b += BLOCK_BYTES) {
        const float d = l4_rdh(b), dmin = l4_rdh(b + 2);
        uint8_t *restrict u = out.u + i * L4_QK_K;
        for (int c = 0; c < 4; c++)
            for (int h = 0; h < 2; h++)
                for (int l = 0; l < 32; l++) u[64 * c + 32 * h + l] = (uint8_t)q5k_code(b, c, h, l);
        for (int j = 0; j < 8; j++) {
            int sc, m;
            l4_k4_get_scale_min(b + 4, j, &sc, &m);
            for (int h = 0; h < 2; h++) {
                l4_unpack_b_scale(out, i * 16 + 2 * j + h, (int16_t)sc);
                out.c[i * 16 + 2 * j + h] = -dmin * (float)m;
            }
        }
        out.d[i] = d;
    }
}
