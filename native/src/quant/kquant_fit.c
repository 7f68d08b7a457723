#include <stdint.h>

#include "quant/kquant_fit.h"
#include "quant/quant_impl.h"

#define FIT_MAX_N 32 /* sub-blocks have 16 or 32 elements */

/* Least squares for x ~ A*q + B (B = -min); keeps B <= 0 as the formats require. */
static void solve_affine(const float *x, const uint8_t *q, int n, float *A, float *B) {
    float sq = 0, sqq = 0, sx = 0, sqx = 0;
    for (int i = 0; i < n; i++) {
        sq += q[i];
        sqq += (float)q[i] * q[i];
        sx += x[i];
        sqx += q[i] * x[i];
    }
    const float det = n * sqq - sq * sq;
    float a = 0.0f, bb = 0.0f;
    if (det > 0.0f) {
        a = (n * sqx - sq * sx) / det;
        bb = (sqq * sx - sq * sqx) / det;
    }
    if (bb > 0.0f || det <= 0.0f) {
        bb = 0.0f;
        a = sqq > 0.0f ? sqx / sqq : 0.0f;
    }
    *A = a > 0.0f ? a : 0.0f;
    *B = bb;
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
    float lo = 0.0f, hi = x[0];
    for (int i = 0; i < n; i++) {
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
    }
    uint8_t q[FIT_MAX_N];
    if (!(hi > lo)) { /* constant non-positive block (or NaN): the min alone represents it */
        *a = 0.0f;
        *b = lo == lo ? -lo : 0.0f;
        *weight = 0.0f;
        return;
    }
    float best_a = (hi - lo) / (float)nmax, best_b = -lo;
    float best_err = l4_assign_scale_min(x, n, nmax, best_a, best_b, q);
    /* candidate quantizations: stretch the [lo, hi] range a little either way, refit each */
    for (int s = -10; s <= 10; s++) {
        const float iscale = ((float)nmax + 0.1f * (float)s) / (hi - lo);
        for (int i = 0; i < n; i++) q[i] = (uint8_t)l4_round_clamp((x[i] - lo) * iscale, 0, nmax);
        float A, B;
        solve_affine(x, q, n, &A, &B);
        for (int iter = 0; iter < 2; iter++) {
            const float err = l4_assign_scale_min(x, n, nmax, A, -B, q);
            if (err < best_err) {
                best_err = err;
                best_a = A;
                best_b = -B;
            }
            solve_affine(x, q, n, &A, &B);
        }
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
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < n; i++) {
        if (fabsf(x[i]) > amax) {
            amax = fabsf(x[i]);
            max = x[i];
        }
    }
    *weight = 0.0f;
    if (!(amax > 0.0f)) return 0.0f;
    uint8_t q[FIT_MAX_N];
    float best_s = max / (float)-nneg;
    float best_err = l4_assign_scale_sym(x, n, -nneg, nneg - 1, best_s, q);
    /* the extreme value on the long (negative) end or the short end of the range, and nearby */
    for (int end = 0; end < 2; end++) {
        const float target = end == 0 ? (float)-nneg : (float)(nneg - 1);
        for (int t = -8; t <= 8; t++) {
            float s = max / (target + 0.1f * (float)t * (end == 0 ? 1.0f : -1.0f));
            for (int iter = 0; iter < 2; iter++) {
                const float err = l4_assign_scale_sym(x, n, -nneg, nneg - 1, s, q);
                if (err < best_err) {
                    best_err = err;
                    best_s = s;
                }
                float sqx = 0.0f, sqq = 0.0f;
                for (int i = 0; i < n; i++) {
                    const float v = (float)((int)q[i] - nneg);
                    sqx += v * x[i];
                    sqq += v * v;
                }
                if (!(sqq > 0.0f)) break;
                s = sqx / sqq;
            }
        }
    }
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
