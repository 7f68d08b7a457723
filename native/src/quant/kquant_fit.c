/* Scale searches for the K-quants (see kquant_fit.h). */
#include <stdint.h>

#include "quant/kquant_fit.h"
#include "quant/quant_impl.h"

#define FIT_MAX_N 32 /* sub-blocks have 16 or 32 elements */

/* The sums of a candidate quantization q of x that least squares needs. */
typedef struct {
    float n, sq, sqq, sx, sqx, sxx;
} fit_sums;

/* Least squares for x ~ A*q + B (B = -min); keeps A >= 0 and B <= 0 as the formats require.
 * Returns the squared error of the fit. */
static float solve_affine(const fit_sums *s, float *A, float *B) {
    const float det = s->n * s->sqq - s->sq * s->sq;
    float a = 0.0f, b = 0.0f;
    if (det > 0.0f) {
        a = (s->n * s->sqx - s->sq * s->sx) / det;
        b = (s->sqq * s->sx - s->sq * s->sqx) / det;
    }
    if (b > 0.0f || det <= 0.0f) {
        b = 0.0f;
        a = s->sqq > 0.0f ? s->sqx / s->sqq : 0.0f;
    }
    if (a < 0.0f) a = 0.0f;
    *A = a;
    *B = b;
    /* sum (x - a q - b)^2 expanded over the sums */
    return s->sxx - 2.0f * a * s->sqx - 2.0f * b * s->sx + a * a * s->sqq + 2.0f * a * b * s->sq + s->n * b * b;
}

/* round(clamp(v * scale, lo, hi)) in float arithmetic, branch-free (ties to even; adding and
 * subtracting 1.5 * 2^23 rounds any |v| < 2^22 to an integer). */
static inline float round_clamp_f(float v, float scale, float lo, float hi) {
    float t = v * scale;
    t = t > lo ? t : lo;
    t = t < hi ? t : hi;
    return (t + 12582912.0f) - 12582912.0f;
}

static void affine_sums(const float *x, const uint8_t *q, int n, float sxx, fit_sums *s) {
    float sq = 0, sqq = 0, sx = 0, sqx = 0;
    for (int i = 0; i < n; i++) {
        sq += q[i];
        sqq += (float)q[i] * q[i];
        sx += x[i];
        sqx += q[i] * x[i];
    }
    *s = (fit_sums){(float)n, sq, sqq, sx, sqx, sxx};
}

float l4_assign_scale_min(const float *x, int n, int nmax, float a, float b, uint8_t *out) {
    const float ia = l4_inv_or_zero(a);
    float err = 0.0f;
    for (int i = 0; i < n; i++) {
        const int q = l4_round_clamp((x[i] + b) * ia, 0, nmax);
        out[i] = (uint8_t)q;
        const float r = x[i] - (a * (float)q - b);
        err += r * r;
    }
    return err;
}

void l4_fit_scale_min(const float *x, int n, int nmax, float *a, float *b, float *weight) {
    float lo = 0.0f, hi = x[0], sxx = 0.0f;
    for (int i = 0; i < n; i++) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
        sxx += x[i] * x[i];
    }
    uint8_t q[FIT_MAX_N];
    if (!(hi > lo)) { /* constant non-positive block (or NaN): the min alone represents it */
        *a = 0.0f;
        *b = lo == lo ? -lo : 0.0f;
        *weight = 0.0f;
        return;
    }
    /* candidate quantizations: stretch the [lo, hi] range a little either way and refit
     * (scale, min) to each; the best by least-squares error is refined by reassigning */
    float best_a = (hi - lo) / (float)nmax, best_b = -lo;
    float best_err = l4_assign_scale_min(x, n, nmax, best_a, best_b, q);
    fit_sums sums;
    for (int s = -10; s <= 10; s++) {
        const float iscale = ((float)nmax + 0.1f * (float)s) / (hi - lo);
        float sq = 0, sqq = 0, sx = 0, sqx = 0;
        for (int i = 0; i < n; i++) {
            const float v = round_clamp_f(x[i] - lo, iscale, 0.0f, (float)nmax);
            sq += v;
            sqq += v * v;
            sx += x[i];
            sqx += v * x[i];
        }
        sums = (fit_sums){(float)n, sq, sqq, sx, sqx, sxx};
        float A, B;
        const float err = solve_affine(&sums, &A, &B);
        if (err < best_err) {
            best_err = err;
            best_a = A;
            best_b = -B;
        }
    }
    for (int iter = 0; iter < 2; iter++) {
        l4_assign_scale_min(x, n, nmax, best_a, best_b, q);
        affine_sums(x, q, n, sxx, &sums);
        float A, B;
        solve_affine(&sums, &A, &B);
        const float err = l4_assign_scale_min(x, n, nmax, A, -B, q);
        if (!(err < best_err)) break;
        best_err = err;
        best_a = A;
        best_b = -B;
    }
    l4_assign_scale_min(x, n, nmax, best_a, best_b, q);
    float w = 0.0f;
    for (int i = 0; i < n; i++) w += (float)q[i] * q[i];
    *a = best_a;
    *b = best_b;
    *weight = w;
}

float l4_assign_scale_sym(const float *x, int n, int qmin, int qmax, float s, uint8_t *out) {
    const float is = l4_inv_or_zero(s);
    float err = 0.0f;
    for (int i = 0; i < n; i++) {
        const int q = l4_round_clamp(x[i] * is, qmin, qmax);
        out[i] = (uint8_t)(q - qmin);
        const float r = x[i] - s * (float)q;
        err += r * r;
    }
    return err;
}

float l4_fit_scale_sym(const float *x, int n, int nneg, float *weight) {
    float amax = 0.0f, max = 0.0f, sxx = 0.0f;
    for (int i = 0; i < n; i++) {
        if (fabsf(x[i]) > amax) {
            amax = fabsf(x[i]);
            max = x[i];
        }
        sxx += x[i] * x[i];
    }
    *weight = 0.0f;
    if (!(amax > 0.0f)) return 0.0f;
    uint8_t q[FIT_MAX_N];
    float best_s = max / (float)-nneg;
    float best_err = l4_assign_scale_sym(x, n, -nneg, nneg - 1, best_s, q);
    /* the extreme value on the long (negative) end or the short end of the range, and nearby;
     * each candidate's codes get their least-squares scale, error sxx - sqx^2/sqq */
    for (int end = 0; end < 2; end++) {
        const float target = end == 0 ? (float)-nneg : (float)(nneg - 1);
        for (int t = -8; t <= 8; t++) {
            const float iscale = (target + 0.1f * (float)t * (end == 0 ? 1.0f : -1.0f)) / max;
            float sqx = 0.0f, sqq = 0.0f;
            for (int i = 0; i < n; i++) {
                const float v = round_clamp_f(x[i], iscale, (float)-nneg, (float)(nneg - 1));
                sqx += v * x[i];
                sqq += v * v;
            }
            if (!(sqq > 0.0f)) continue;
            const float err = sxx - sqx * sqx / sqq;
            if (err < best_err) {
                best_err = err;
                best_s = sqx / sqq;
            }
        }
    }
    /* reassign with the winner and refit once more */
    l4_assign_scale_sym(x, n, -nneg, nneg - 1, best_s, q);
    float sqx = 0.0f, sqq = 0.0f;
    for (int i = 0; i < n; i++) {
        const float v = (float)((int)q[i] - nneg);
        sqx += v * x[i];
        sqq += v * v;
    }
    if (sqq > 0.0f && l4_assign_scale_sym(x, n, -nneg, nneg - 1, sqx / sqq, q) < best_err) best_s = sqx / sqq;
    l4_assign_scale_sym(x, n, -nneg, nneg - 1, best_s, q);
    float w = 0.0f;
    for (int i = 0; i < n; i++) w += (float)(((int)q[i] - nneg) * ((int)q[i] - nneg));
    *weight = w;
    return best_s;
}

/* Refine a shared step for integer codes by weighted least squares, re-rounding each time. */
static float refine_step(const float *v, const float *weight, int m, int qmin, int qmax, float d,
                         int *q) {
    for (int iter = 0; iter < 3; iter++) {
        const float id = l4_inv_or_zero(d);
        float num = 0.0f, den = 0.0f;
        for (int j = 0; j < m; j++) {
            q[j] = l4_round_clamp(v[j] * id, qmin, qmax);
            const float w = !weight ? 1.0f : weight[j] > 0.0f ? weight[j] : 1e-6f;
            num += w * v[j] * (float)q[j];
            den += w * (float)q[j] * (float)q[j];
        }
        if (!(den > 0.0f)) break;
        d = num / den;
    }
    const float id = l4_inv_or_zero(d);
    for (int j = 0; j < m; j++) q[j] = l4_round_clamp(v[j] * id, qmin, qmax);
    return d;
}

float l4_quantize_unsigned_scales(const float *v, const float *weight, int m, int qmax, int *q) {
    float vmax = 0.0f;
    for (int j = 0; j < m; j++) vmax = v[j] > vmax ? v[j] : vmax;
    if (!(vmax > 0.0f)) {
        for (int j = 0; j < m; j++) q[j] = 0;
        return 0.0f;
    }
    return refine_step(v, weight, m, 0, qmax, vmax / (float)qmax, q);
}

float l4_quantize_signed_scales(const float *v, const float *weight, int m, int qmin, int qmax,
                                int *q) {
    float vamax = 0.0f, vmax = 0.0f;
    for (int j = 0; j < m; j++) {
        if (fabsf(v[j]) > vamax) {
            vamax = fabsf(v[j]);
            vmax = v[j];
        }
    }
    if (!(vamax > 0.0f)) {
        for (int j = 0; j < m; j++) q[j] = 0;
        return 0.0f;
    }
    return refine_step(v, weight, m, qmin, qmax, vmax / (float)qmin, q);
}

void l4_kquant_affine(const float *x, int n_groups, int group, int nmax, int scale_max,
                      l4_kq_affine *out) {
    float a[16] = {0}, b[16] = {0}, w[16] = {0};
    for (int g = 0; g < n_groups; g++) l4_fit_scale_min(x + g * group, group, nmax, &a[g], &b[g], &w[g]);
    const float d = l4_quantize_unsigned_scales(a, w, n_groups, scale_max, out->sc);
    const float dmin = l4_quantize_unsigned_scales(b, 0, n_groups, scale_max, out->m);
    out->d = l4_fp32_to_fp16(d);
    out->dmin = l4_fp32_to_fp16(dmin);
    const float dh = l4_fp16_to_fp32(out->d), dminh = l4_fp16_to_fp32(out->dmin);
    /* with the scales as stored, try each sub-block's codes and their neighbours */
    uint8_t q[FIT_MAX_N];
    for (int g = 0; g < n_groups; g++) {
        const float *xg = x + g * group;
        const int sc0 = out->sc[g], m0 = out->m[g];
        float best = INFINITY;
        for (int ds = -1; ds <= 1; ds++) {
            const int sc = sc0 + ds;
            if (sc < 0 || sc > scale_max) continue;
            for (int dm = -1; dm <= 1; dm++) {
                const int m = m0 + dm;
                if (m < 0 || m > scale_max) continue;
                const float err = l4_assign_scale_min(xg, group, nmax, dh * (float)sc, dminh * (float)m, q);
                if (err < best) {
                    best = err;
                    out->sc[g] = sc;
                    out->m[g] = m;
                    memcpy(out->q + g * group, q, (size_t)group);
                }
            }
        }
    }
}

void l4_kquant_sym(const float *x, int n_groups, int group, int nneg, int sc_min, int sc_max,
                   l4_kq_sym *out) {
    float s[16] = {0}, w[16] = {0};
    for (int g = 0; g < n_groups; g++) s[g] = l4_fit_scale_sym(x + g * group, group, nneg, &w[g]);
    const float d = l4_quantize_signed_scales(s, w, n_groups, sc_min, sc_max, out->sc);
    out->d = l4_fp32_to_fp16(d);
    const float dh = l4_fp16_to_fp32(out->d);
    uint8_t q[FIT_MAX_N];
    for (int g = 0; g < n_groups; g++) {
        const float *xg = x + g * group;
        const int sc0 = out->sc[g];
        float best = INFINITY;
        for (int ds = -1; ds <= 1; ds++) {
            const int sc = sc0 + ds;
            if (sc < sc_min || sc > sc_max) continue;
            const float err = l4_assign_scale_sym(xg, group, -nneg, nneg - 1, dh * (float)sc, q);
            if (err < best) {
                best = err;
                out->sc[g] = sc;
                memcpy(out->q + g * group, q, (size_t)group);
            }
        }
    }
}
