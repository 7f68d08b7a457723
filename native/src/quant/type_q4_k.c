/* Q4_K: super-blocks of 256 {half d; half dmin; uint8 scales[12]; uint8 qs[128]}, 8 sub-blocks
 * of 32 with 6-bit (scale, min) pairs; y = (d*sc)*q - dmin*m. */
#include "quant/kquant_fit.h"
#include "quant/quant_impl.h"

#define BLOCK_BYTES 144

void l4_q4_k_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / L4_QK_K; i++, b += BLOCK_BYTES, dst += L4_QK_K) {
        const float d = l4_rdh(b), dmin = l4_rdh(b + 2);
        const uint8_t *qs = b + 16;
        for (int c = 0; c < 4; c++) {
            int sc0, m0, sc1, m1;
            l4_k4_get_scale_min(b + 4, 2 * c, &sc0, &m0);
            l4_k4_get_scale_min(b + 4, 2 * c + 1, &sc1, &m1);
            const float d0 = d * (float)sc0, n0 = dmin * (float)m0;
            const float d1 = d * (float)sc1, n1 = dmin * (float)m1;
            for (int l = 0; l < 32; l++) {
                dst[64 * c + l] = d0 * (float)(qs[32 * c + l] & 0xF) - n0;
                dst[64 * c + 32 + l] = d1 * (float)(qs[32 * c + l] >> 4) - n1;
            }
        }
    }
}

void l4_q4_k_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *b = dst;
    l4_kq_affine k;
    for (int64_t i = 0; i < n / L4_QK_K; i++, b += BLOCK_BYTES, src += L4_QK_K) {
        l4_kquant_affine(src, 8, 32, 15, 63, &k);
        l4_wr16(b, k.d);
        l4_wr16(b + 2, k.dmin);
        l4_k4_pack_scale_min(k.sc, k.m, b + 4);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
                b[16 + 32 * c + l] = (uint8_t)(k.q[64 * c + l] | (k.q[64 * c + 32 + l] << 4));
    }
}

void l4_q4_k_unpack(const void *row, int64_t n, const l4_unpacked *view) {
    const l4_unpacked out = *view; /* a local copy: stores through out.u cannot move it */
    const uint8_t *restrict b = row;
    for (int64_t i = 0; i < n / L4_QK_K; i++, b += BLOCK_BYTES) {
        const float d = l4_rdh(b), dmin = l4_rdh(b + 2);
        uint8_t *restrict u = out.u + i * L4_QK_K;
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                u[64 * c + l] = b[16 + 32 * c + l] & 0xF;
                u[64 * c + 32 + l] = b[16 + 32 * c + l] >> 4;
            }
        }
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
