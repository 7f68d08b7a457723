/* Helpers for the CUDA backend's tests (tests/test_cuda_*.cu), on top of native/tests/quant_test.h
 * (QT_CHECK failure counting, qt_finish, the seeded RNG): the skip of GPU builds without a GPU,
 * device buffers, and the error measure of results against the CPU engine's. */
#ifndef LORA4J_CUDA_LCU_TEST_H
#define LORA4J_CUDA_LCU_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "lcu.h"
#include "quant_test.h"

/* CTest's "skipped" exit code (SKIP_RETURN_CODE of the _gpu tests). */
#define LCU_TEST_SKIP 77

/* 1 when there is no device to run on (a GPU build on a machine without a GPU). */
static inline int lcu_test_no_device(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n < 1) {
        printf("no CUDA device: skipped\n");
        return 1;
    }
    return 0;
}

/* A failed runtime call ends the test program. */
#define LCU_TRY(call)                                                                            \
    do {                                                                                         \
        const cudaError_t e_ = (call);                                                           \
        if (e_ != cudaSuccess) {                                                                 \
            fprintf(stderr, "FAIL %s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
            exit(1);                                                                             \
        }                                                                                        \
    } while (0)

/* A zeroed device buffer of n T. */
template <class T> static inline T *lcu_test_alloc(int64_t n) {
    void *p = NULL;
    const size_t bytes = (size_t)(n > 0 ? n : 1) * sizeof(T);
    LCU_TRY(cudaMalloc(&p, bytes));
    LCU_TRY(cudaMemset(p, 0, bytes));
    return (T *)p;
}

/* A device copy of n host values. */
template <class T> static inline T *lcu_test_upload(const T *h, int64_t n) {
    T *d = lcu_test_alloc<T>(n);
    LCU_TRY(cudaMemcpy(d, h, (size_t)n * sizeof(T), cudaMemcpyHostToDevice));
    return d;
}

/* n device values into h, after the work queued so far (and its launch errors). */
template <class T> static inline void lcu_test_download(T *h, const T *d, int64_t n) {
    LCU_TRY(cudaDeviceSynchronize());
    LCU_TRY(cudaGetLastError());
    LCU_TRY(cudaMemcpy(h, d, (size_t)n * sizeof(T), cudaMemcpyDeviceToHost));
}

/* A zeroed host array of n T (ends the program when out of memory). */
template <class T> static inline T *lcu_test_host(int64_t n) {
    T *p = (T *)calloc((size_t)(n > 0 ? n : 1), sizeof(T));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* max_i |got_i - want_i| / max_i |want_i| (the error relative to the largest reference value,
 * so rounding noise of tiny components does not dominate); prints it and records a failure
 * above bound. */
static inline double lcu_test_compare(const char *what, const float *got, const float *want, int64_t n,
                                      double bound) {
    double max_ref = 0.0, max_err = 0.0;
    for (int64_t i = 0; i < n; i++) {
        max_ref = fmax(max_ref, fabs((double)want[i]));
        max_err = fmax(max_err, fabs((double)got[i] - want[i]));
    }
    const double err = max_ref > 0.0 ? max_err / max_ref : max_err;
    printf("  %-44s err %.2e (bound %.0e)\n", what, err, bound);
    QT_CHECK(err <= bound, "%s: error %.3e > %.1e (max |ref| %.3e)", what, err, bound, max_ref);
    return err;
}

/* bf16 values as floats (exact). */
static inline void lcu_test_bf16_to_f32(const lcu_bf16 *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = __bfloat162float(x[i]);
}

#endif
