/* Shared by the CUDA backend's tests (each built twice: on the emulation and, with nvcc, on the
 * GPU). Checks that count failures, a GPU-presence gate, and seeded random fills. */
#ifndef LORA4J_LCU_TEST_H
#define LORA4J_LCU_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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

#endif
