/* Shared by the CUDA backend's tests (each built twice: on the emulation and, with nvcc, on the
 * GPU). Checks that count failures, a GPU-presence gate, and seeded random fills. */
#ifndef LORA4J_LCU_TEST_H
#define LORA4J_LCU_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <vector>

#include "lcu.h"

static int lcu_test_failures = 0;

#define LCU_TEST_CHECK(cond, ...)                                         \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                 \
            fprintf(stderr, "\n");                                        \
            lcu_test_failures++;                                          \
        }                                                                 \
    } while (0)

#define LCU_TEST_CUDA(call)                                                           \
    do {                                                                              \
        cudaError_t e_ = (call);                                                      \
        if (e_ != cudaSuccess) {                                                      \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

/* The exit code CTest counts as skipped (SKIP_RETURN_CODE 77). */
#define LCU_TEST_SKIP 77

/* 0 when a device is usable; else prints why and returns LCU_TEST_SKIP (only possible on the GPU
 * build: the emulation always has its one device). */
static inline int lcu_test_require_device(void) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        printf("SKIP: no CUDA device (%s)\n", e != cudaSuccess ? cudaGetErrorString(e) : "0 devices");
        return LCU_TEST_SKIP;
    }
    return 0;
}

/* Summary line and exit code. */
static inline int lcu_test_finish(const char *name) {
    if (lcu_test_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, lcu_test_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}

/* Deterministic uniform values in [lo, hi). */
static inline void lcu_test_fill(float *x, size_t n, unsigned seed, float lo, float hi) {
    uint64_t s = 0x9e3779b97f4a7c15ULL * (seed + 1);
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        x[i] = lo + (hi - lo) * (float)((s >> 40) * (1.0 / 16777216.0));
    }
}

/* n values of lcu_test_fill in [-a, a). */
static inline std::vector<float> lcu_test_rnd(size_t n, unsigned seed, float a) {
    std::vector<float> v(n);
    lcu_test_fill(v.data(), n, seed, -a, a);
    return v;
}

/* A device copy of n host values (the caller frees it with cudaFree). */
template <class T> static inline T *lcu_test_upload(const T *host, size_t n) {
    T *d = nullptr;
    LCU_TEST_CUDA(cudaMalloc((void **)&d, n * sizeof(T) + 1));
    LCU_TEST_CUDA(cudaMemcpy(d, host, n * sizeof(T), cudaMemcpyHostToDevice));
    return d;
}

template <class T> static inline void lcu_test_download(T *host, const T *dev, size_t n) {
    LCU_TEST_CUDA(cudaMemcpy(host, dev, n * sizeof(T), cudaMemcpyDeviceToHost));
}

/* Waits for the queued work; a launch or kernel error ends the test program. */
static inline void lcu_test_sync(void) {
    LCU_TEST_CUDA(cudaGetLastError());
    LCU_TEST_CUDA(cudaDeviceSynchronize());
}

/* Mean milliseconds of fn() over `iters` runs on the default stream after `warmups` runs, by CUDA
 * events (the benchmarks' timing). */
template <class F> static inline float lcu_test_time_ms(F fn, int warmups, int iters) {
    for (int i = 0; i < warmups; i++) fn();
    cudaEvent_t e0, e1;
    LCU_TEST_CUDA(cudaEventCreate(&e0));
    LCU_TEST_CUDA(cudaEventCreate(&e1));
    LCU_TEST_CUDA(cudaEventRecord(e0, 0));
    for (int i = 0; i < iters; i++) fn();
    LCU_TEST_CUDA(cudaEventRecord(e1, 0));
    lcu_test_sync();
    float ms = 0.0f;
    LCU_TEST_CUDA(cudaEventElapsedTime(&ms, e0, e1));
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    return ms / (float)iters;
}

/* The n device values at d, once the queued work is done. */
template <class T> static inline std::vector<T> lcu_test_fetch(const T *d, size_t n) {
    std::vector<T> v(n);
    lcu_test_sync();
    lcu_test_download(v.data(), d, n);
    return v;
}

/* A zeroed device buffer of n T (the caller frees it with cudaFree). */
template <class T> static inline T *lcu_test_alloc(size_t n) {
    T *d = nullptr;
    LCU_TEST_CUDA(cudaMalloc((void **)&d, n * sizeof(T) + 1));
    LCU_TEST_CUDA(cudaMemset(d, 0, n * sizeof(T) + 1));
    return d;
}

/* max_i |got_i - want_i| / max_i |want_i|: the error relative to the largest reference value (so
 * the rounding noise of tiny components does not dominate); prints it and counts a failure above
 * bound. */
static inline double lcu_test_compare(const char *what, const float *got, const float *want, size_t n,
                                      double bound) {
    double max_ref = 0.0, max_err = 0.0;
    for (size_t i = 0; i < n; i++) {
        max_ref = fmax(max_ref, fabs((double)want[i]));
        max_err = fmax(max_err, fabs((double)got[i] - want[i]));
    }
    const double err = max_ref > 0.0 ? max_err / max_ref : max_err;
    printf("  %-46s err %.2e (bound %.0e)\n", what, err, bound);
    LCU_TEST_CHECK(err <= bound, "%s: error %.3e (max |ref| %.3e)", what, err, max_ref);
    return err;
}

#endif
