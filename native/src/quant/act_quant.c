/* Int8 quantization of activations for the fast matmul path: symmetric, one scale per block
 * (32 for kind A weights, 256 for kind B), q = rint(clamp(x * 127/amax, +-127)), plus the
 * integer and scaled sums of each group of 16 codes. Run once per product. */
#include "core/simd.h"
#include "quant/gemm.h"

/* Quantize one block of len values; returns its scale. Rounding is to nearest even by the
 * 1.5 * 2^23 trick, without libm calls; a NaN activation yields code 0 and the clamp keeps
 * the product defined when 127/amax overflows (subnormal amax). */
static float quantize_block(const float *restrict x, int len, int8_t *restrict q) {
    float amax = 0.0f;
    for (int i = 0; i < len; i++) {
        const float a = fabsf(x[i]);
        amax = a > amax ? a : amax;
    }
    const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
    for (int i = 0; i < len; i++) {
        float v = x[i] * id;
        v = v == v ? v : 0.0f;
        v = v < 127.0f ? v : 127.0f;
        v = v > -127.0f ? v : -127.0f;
        q[i] = (int8_t)((v + 12582912.0f) - 12582912.0f);
    }
    return amax / 127.0f;
}

void l4_quantize_acts(const float *x, int64_t ldx, int64_t t0, int64_t t1, int64_t n, int kind,
                      const l4_qact *out) {
    if (l4_simd_level() >= LORA4J_SIMD_AVX2) {
        l4_quantize_acts_avx2(x, ldx, t0, t1, n, kind, out);
        return;
    }
    const int blk = kind == L4_KIND_A ? L4_QK : L4_QK_K;
    for (int64_t t = t0; t < t1; t++) {
        const float *xt = x + t * ldx;
        int8_t *q = out->q + t * n;
        float *s = out->s + t * (n / 16);
        int16_t *bs = out->bs + t * (n / 16);
        for (int64_t b = 0; b < n / blk; b++) {
            const float d = quantize_block(xt + b * blk, blk, q + b * blk);
            if (kind == L4_KIND_A) {
                for (int i = 0; i < 8; i++) out->dexp[t * (n / 4) + b * 8 + i] = d;
            } else {
                out->d[t * (n / L4_QK_K) + b] = d;
            }
            for (int g = 0; g < blk / 16; g++) {
                int sum = 0;
                for (int i = 0; i < 16; i++) sum += q[b * blk + g * 16 + i];
                bs[b * (blk / 16) + g] = (int16_t)sum;
                s[b * (blk / 16) + g] = d * (float)sum;
            }
        }
    }
}
