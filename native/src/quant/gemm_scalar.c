/* Portable kernels: the reference the SIMD kernels are tested against, and the fallback. */
#include "quant/gemm.h"

static void gemm_f32(const float *w, int64_t ldw, int64_t nr, const float *x, int64_t ldx,
                     int64_t nt, int64_t k, float *y, int64_t ldy, int accumulate) {
    for (int64_t t = 0; t < nt; t++) {
        const float *xt = x + t * ldx;
        for (int64_t r = 0; r < nr; r++) {
            const float *wr = w + r * ldw;
            float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
            int64_t i = 0;
            for (; i + 4 <= k; i += 4) {
                s0 += wr[i] * xt[i];
                s1 += wr[i + 1] * xt[i + 1];
                s2 += wr[i + 2] * xt[i + 2];
                s3 += wr[i + 3] * xt[i + 3];
            }
            for (; i < k; i++) s0 += wr[i] * xt[i];
            const float s = (s0 + s1) + (s2 + s3);
            y[t * ldy + r] = accumulate ? y[t * ldy + r] + s : s;
        }
    }
}

static float h16_at(const uint8_t *p, int bf16) {
    const uint16_t h = l4_rd16(p);
    return bf16 ? l4_bf16_to_fp32(h) : l4_fp16_to_fp32(h);
}

static void gemm_h16(const uint8_t *w, int64_t ldw, int64_t nr, const float *x, int64_t ldx, int64_t nt,
                     int64_t k, float *y, int64_t ldy, int bf16) {
    for (int64_t t = 0; t < nt; t++) {
        const float *xt = x + t * ldx;
        for (int64_t r = 0; r < nr; r++) {
            const uint8_t *wr = w + 2 * r * ldw;
            float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
            int64_t i = 0;
            for (; i + 4 <= k; i += 4) {
                s0 += h16_at(wr + 2 * i, bf16) * xt[i];
                s1 += h16_at(wr + 2 * i + 2, bf16) * xt[i + 1];
                s2 += h16_at(wr + 2 * i + 4, bf16) * xt[i + 2];
                s3 += h16_at(wr + 2 * i + 6, bf16) * xt[i + 3];
            }
            for (; i < k; i++) s0 += h16_at(wr + 2 * i, bf16) * xt[i];
            y[t * ldy + r] = (s0 + s1) + (s2 + s3);
        }
    }
}

static void gemm_t_f32(const float *w, int64_t ldw, int64_t no, const float *dy, int64_t lddy,
                       int64_t nt, int64_t nc, float *dx, int64_t lddx) {
    for (int64_t t = 0; t < nt; t++) {
        float *dxt = dx + t * lddx;
        for (int64_t o = 0; o < no; o++) {
            const float g = dy[t * lddy + o];
            const float *wo = w + o * ldw;
            for (int64_t c = 0; c < nc; c++) dxt[c] += wo[c] * g;
        }
    }
}

/* sum_g c[g] * s[g]: the weights' per-group terms against the activations' group sums. */
static float group_terms(const float *c, const float *s, int64_t ng) {
    float acc = 0.0f;
    for (int64_t g = 0; g < ng; g++) acc += c[g] * s[g];
    return acc;
}

static void gemm_qa(const l4_unpacked *w, int64_t nr, const l4_qact *x, int64_t nt, int64_t n,
                    float *y, int64_t ldy) {
    for (int64_t t = 0; t < nt; t++) {
        const int8_t *xq = x->q + t * n;
        const float *xd = x->dexp + t * (n / 4);
        for (int64_t r = 0; r < nr; r++) {
            const uint8_t *u = w->u + r * n;
            const float *wd = w->dexp + r * (n / 4);
            float acc = 0.0f;
            for (int64_t b = 0; b < n / L4_QK; b++) {
                int32_t isum = 0;
                for (int i = 0; i < L4_QK; i++) isum += (int32_t)u[b * L4_QK + i] * xq[b * L4_QK + i];
                acc += (float)isum * (wd[8 * b] * xd[8 * b]);
            }
            y[t * ldy + r] = acc + group_terms(w->c + r * (n / 16), x->s + t * (n / 16), n / 16);
        }
    }
}

static void gemm_qb(const l4_unpacked *w, int64_t nr, const l4_qact *x, int64_t nt, int64_t n,
                    float *y, int64_t ldy) {
    for (int64_t t = 0; t < nt; t++) {
        const int8_t *xq = x->q + t * n;
        const float *xd = x->d + t * (n / L4_QK_K);
        for (int64_t r = 0; r < nr; r++) {
            const uint8_t *u = w->u + r * n;
            const int16_t *scx = w->scx + r * (n / 2);
            const float *wd = w->d + r * (n / L4_QK_K);
            float acc = 0.0f;
            for (int64_t b = 0; b < n / L4_QK_K; b++) {
                int32_t isum = 0;
                for (int g = 0; g < 16; g++) {
                    const int64_t k0 = b * L4_QK_K + g * 16;
                    int32_t gsum = 0;
                    for (int i = 0; i < 16; i++) gsum += (int32_t)u[k0 + i] * xq[k0 + i];
                    isum += gsum * scx[k0 / 2];
                }
                acc += (float)isum * (wd[b] * xd[b]);
            }
            y[t * ldy + r] = acc + group_terms(w->c + r * (n / 16), x->s + t * (n / 16), n / 16);
        }
    }
}

const l4_gemm_kernels l4_gemm_scalar = {gemm_f32, gemm_h16, gemm_t_f32, gemm_qa, gemm_qb, 0};
