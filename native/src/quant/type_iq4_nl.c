/* IQ4_NL: blocks of 32 {half d; uint8 qs[16]}, 4-bit indices (nibble order as Q4_0) into a
 * fixed non-uniform grid; y = d * grid[idx]. */
#include "quant/quant_impl.h"

#define BLOCK_BYTES 18

const int8_t l4_iq4nl_grid[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                  1,    13,   25,  38,  53,  69,  89,  113};

void l4_iq4_nl_to_float(const void *src, float *dst, int64_t n) {
    const uint8_t *b = src;
    for (int64_t i = 0; i < n / L4_QK; i++, b += BLOCK_BYTES, dst += L4_QK) {
        const float d = l4_rdh(b);
        for (int j = 0; j < 16; j++) {
            dst[j] = d * (float)l4_iq4nl_grid[b[2 + j] & 0xF];
            dst[j + 16] = d * (float)l4_iq4nl_grid[b[2 + j] >> 4];
        }
    }
}

/* Midpoints between neighbouring grid values. */
static const float k_mid[15] = {-115.5f, -93.5f, -74.0f, -57.0f, -42.0f, -28.5f, -16.0f, -4.5f,
                                7.0f,    19.0f,  31.5f,  45.5f,  61.0f,  79.0f,  101.0f};

/* Index of the grid value nearest to v: a branch-free binary search over the midpoints (NaN
 * gives 0). */
static inline int nearest_index(float v) {
    int lo = 0;
    lo += v > k_mid[lo + 7] ? 8 : 0;
    lo += v > k_mid[lo + 3] ? 4 : 0;
    lo += v > k_mid[lo + 1] ? 2 : 0;
    lo += v > k_mid[lo] ? 1 : 0;
    return lo;
}

/* For scale d: assign every value its nearest grid point; return the least-squares scale for
 * those points and (through err) the squared error it leaves, sxx - sxk^2/skk. */
static float assign_and_refit(const float *x, float sxx, float d, float *err) {
    const float id = l4_inv_or_zero(d);
    float sxk = 0.0f, skk = 0.0f;
    for (int j = 0; j < L4_QK; j++) {
        const float k = (float)l4_iq4nl_grid[nearest_index(x[j] * id)];
        sxk += x[j] * k;
        skk += k * k;
    }
    *err = skk > 0.0f ? sxx - sxk * sxk / skk : sxx;
    return skk > 0.0f ? sxk / skk : 0.0f;
}

/* Scale search: map the largest-magnitude value onto either end of the grid (and nearby
 * points), refit the scale by least squares for the indices that gives, keep the best. */
void l4_iq4_nl_from_float(const float *src, void *dst, int64_t n) {
    uint8_t *b = dst;
    for (int64_t i = 0; i < n / L4_QK; i++, b += BLOCK_BYTES, src += L4_QK) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < L4_QK; j++) {
            if (amax < fabsf(src[j])) {
                amax = fabsf(src[j]);
                max = src[j];
            }
        }
        float sxx = 0.0f;
        for (int j = 0; j < L4_QK; j++) sxx += src[j] * src[j];
        float best_d = 0.0f, best_err = INFINITY;
        if (amax > 0.0f) {
            for (int end = 0; end < 2; end++) {
                const float k_end = end == 0 ? (float)l4_iq4nl_grid[0] : (float)l4_iq4nl_grid[15];
                for (int t = -6; t <= 6; t++) {
                    float err;
                    const float d = assign_and_refit(src, sxx, max / (k_end + (end == 0 ? (float)t : -(float)t)), &err);
                    if (err < best_err) {
                        best_err = err;
                        best_d = d;
                    }
                }
            }
            /* one more reassignment with the winner */
            float err;
            const float d = assign_and_refit(src, sxx, best_d, &err);
            if (err < best_err) best_d = d;
        }
        /* final indices for the scale as stored (rounded to half) */
        const uint16_t dh = l4_fp32_to_fp16(best_d);
        const float d = l4_fp16_to_fp32(dh);
        const float id = l4_inv_or_zero(d);
        l4_wr16(b, dh);
        for (int j = 0; j < 16; j++) {
            const int q0 = d != 0.0f ? nearest_index(src[j] * id) : 8;
            const int q1 = d != 0.0f ? nearest_index(src[j + 16] * id) : 8;
            b[2 + j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void l4_iq4_nl_unpack(const void *row, int64_t n, const l4_unpacked *view) {
    const l4_unpacked out = *view; /* a local copy: stores through out.u cannot move it */
    const uint8_t *restrict b = row;
    for (int64_t i = 0; i < n / L4_QK; i++, b += BLOCK_BYTES) {
        uint8_t *restrict u = out.u + i * L4_QK;
        for (int j = 0; j < 16; j++) {
            u[j] = (uint8_t)(l4_iq4nl_grid[b[2 + j] & 0xF] + 128);
            u[j + 16] = (uint8_t)(l4_iq4nl_grid[b[2 + j] >> 4] + 128);
        }
        const float d = l4_rdh(b);
        l4_unpack_a_scales(out, i, d, -128.0f * d);
    }
}
