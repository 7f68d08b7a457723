/* Finite-difference gradient checks for the backward kernels (test_grad_*.c). A test writes its
 * op's forward as an objective L = sum(dout . out) evaluated in double, gc_numeric_grad
 * differentiates it by central differences, and gc_compare measures the analytic gradient
 * against that: err = max_i |analytic_i - numeric_i| / max_i |numeric_i|, the error relative to
 * the largest component, so tiny components' rounding noise does not dominate. Header-only;
 * builds on quant_test.h (failure counting, seeded RNG). */
#ifndef LORA4J_GRAD_CHECK_H
#define LORA4J_GRAD_CHECK_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "quant_test.h"

typedef double (*gc_objective)(void *ctx);

/* sum a_i * b_i in double */
static inline double gc_dot(const float *a, const float *b, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* numeric[i] = dL/dparam[i] for i = 0, stride, 2*stride, ... (others left untouched), by
 * central differences with step rel * max(|param|, 1). The step actually taken is measured
 * in float, so the rounding of param +- h does not bias the quotient. */
static inline void gc_numeric_grad(float *param, int64_t n, int64_t stride, double rel, gc_objective f,
                                   void *ctx, double *numeric) {
    for (int64_t i = 0; i < n; i += stride) {
        const float x0 = param[i];
        const double h = rel * fmax(fabs((double)x0), 1.0);
        const float xp = (float)(x0 + h), xm = (float)(x0 - h);
        param[i] = xp;
        const double lp = f(ctx);
        param[i] = xm;
        const double lm = f(ctx);
        param[i] = x0;
        numeric[i] = (lp - lm) / ((double)xp - (double)xm);
    }
}

/* Max error relative to the largest numeric component over the checked indices; prints it and
 * records a failure above bound. Returns the error. */
static inline double gc_compare(const char *what, const float *analytic, const double *numeric, int64_t n,
                                int64_t stride, double bound) {
    double max_ref = 0.0, max_err = 0.0;
    for (int64_t i = 0; i < n; i += stride) {
        max_ref = fmax(max_ref, fabs(numeric[i]));
        max_err = fmax(max_err, fabs((double)analytic[i] - numeric[i]));
    }
    const double err = max_ref > 0.0 ? max_err / max_ref : max_err;
    printf("  %-40s err %.2e (bound %.0e)\n", what, err, bound);
    QT_CHECK(err <= bound, "%s: gradient error %.3e > %.1e (max |grad| %.3e)", what, err, bound, max_ref);
    return err;
}

/* The same measure between two float results (a SIMD level against another, a kernel against
 * a double reference stored as float). */
static inline double gc_compare_f(const char *what, const float *got, const float *want, int64_t n, double bound) {
    double max_ref = 0.0, max_err = 0.0;
    for (int64_t i = 0; i < n; i++) {
        max_ref = fmax(max_ref, fabs((double)want[i]));
        max_err = fmax(max_err, fabs((double)got[i] - want[i]));
    }
    const double err = max_ref > 0.0 ? max_err / max_ref : max_err;
    printf("  %-40s err %.2e (bound %.0e)\n", what, err, bound);
    QT_CHECK(err <= bound, "%s: error %.3e > %.1e (max |ref| %.3e)", what, err, bound, max_ref);
    return err;
}

static inline float *gc_alloc(int64_t n) {
    float *p = calloc((size_t)(n > 0 ? n : 1), sizeof(float));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static inline double *gc_alloc_d(int64_t n) {
    double *p = calloc((size_t)(n > 0 ? n : 1), sizeof(double));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static inline float *gc_gauss(int64_t n, float scale) {
    float *p = gc_alloc(n);
    qt_fill_gauss(p, n, scale);
    return p;
}

/* The SIMD levels this CPU runs, lowest first; returns the count. */
static inline int gc_simd_levels(int32_t *levels) {
    const int32_t top = lora4j_simd_detected();
    int n = 0;
    for (int32_t l = LORA4J_SIMD_SCALAR; l <= top; l++) levels[n++] = l;
    return n;
}

#endif
