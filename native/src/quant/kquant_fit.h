/* Scale searches shared by the K-quant quantizers (our own procedure, judged by round-trip
 * error): continuous per-sub-block fits, then quantization of the sub-block scales. */
#ifndef LORA4J_QUANT_KQUANT_FIT_H
#define LORA4J_QUANT_KQUANT_FIT_H

#include <stdint.h>

/* Least-squares fit of x[0..n) ~ a*q - b, q integer in [0, nmax], a >= 0, b >= 0 (the
 * "scale and min" sub-blocks of Q2_K/Q4_K/Q5_K). Tries a range of candidate quantizations
 * and refits (a, b) to each. *weight receives sum(q^2), the error's sensitivity to a. */
void l4_fit_scale_min(const float *x, int n, int nmax, float *a, float *b, float *weight);

/* Least-squares fit of x[0..n) ~ s*q, q integer in [-nneg, nneg-1], s signed (the symmetric
 * sub-blocks of Q3_K/Q6_K). *weight receives sum(q^2). */
float l4_fit_scale_sym(const float *x, int n, int nneg, float *weight);

/* Quantize non-negative sub-block values v[0..m) to integers q in [0, qmax] with one shared
 * step d (v ~ d*q), choosing d by weighted least squares; returns d. */
float l4_quantize_unsigned_scales(const float *v, const float *weight, int m, int qmax, int *q);

/* Same for signed values and q in [qmin, qmax] (qmin < 0): the largest magnitude maps near
 * qmin, then d is refined by weighted least squares; returns d (may be negative). */
float l4_quantize_signed_scales(const float *v, const float *weight, int m, int qmin, int qmax,
                                int *q);

/* Squared error of x ~ a*q - b with q = clamp(round((x+b)/a), 0, nmax), q written to out. */
float l4_assign_scale_min(const float *x, int n, int nmax, float a, float b, uint8_t *out);

/* Squared error of x ~ s*q with q = clamp(round(x/s), qmin, qmax), q + (-qmin) written to out. */
float l4_assign_scale_sym(const float *x, int n, int qmin, int qmax, float s, uint8_t *out);

/* A whole super-block of "scale and min" sub-blocks: sub-block g of `group` elements is
 * x ~ (d*sc[g])*q - dmin*m[g], q in [0, nmax], sc and m in [0, scale_max]. */
typedef struct l4_kq_affine {
    uint16_t d, dmin; /* half */
    int sc[16], m[16];
    uint8_t q[256];
} l4_kq_affine;
void l4_kquant_affine(const float *x, int n_groups, int group, int nmax, int scale_max,
                      l4_kq_affine *out);

/* A whole super-block of symmetric sub-blocks: x ~ (d*sc[g])*(q - nneg), q in [0, 2*nneg),
 * sc in [sc_min, sc_max]. */
typedef struct l4_kq_sym {
    uint16_t d; /* half */
    int sc[16];
    uint8_t q[256];
} l4_kq_sym;
void l4_kquant_sym(const float *x, int n_groups, int group, int nneg, int sc_min, int sc_max,
                   l4_kq_sym *out);

/* The 12-byte packed 6-bit (scale, min) pairs of Q4_K/Q5_K. */
static inline void l4_k4_get_scale_min(const uint8_t *s, int j, int *sc, int *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4);
        *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

static inline void l4_k4_pack_scale_min(const int *sc, const int *m, uint8_t *s) {
    for (int j = 0; j < 4; j++) {
        s[j] = (uint8_t)((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
        s[j + 4] = (uint8_t)((m[j] & 63) | ((m[j + 4] >> 4) << 6));
        s[j + 8] = (uint8_t)((sc[j + 4] & 0xF) | ((m[j + 4] & 0xF) << 4));
    }
}

#endif
