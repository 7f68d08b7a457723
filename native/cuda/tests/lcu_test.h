/* Helpers for the CUDA backend's tests (tests/test_cuda_*.cu), built both on the emulation and
 * with nvcc: failure checks, the skip when the nvcc build finds no GPU, random fills and
 * host<->device copies. */
#ifndef LORA4J_LCU_TEST_H
#define LORA4J_LCU_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lcu.h"

#define LCU_CHECK(cond)                                                                \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

#define LCU_CHECK_CUDA(call)                                                                       \
    do {                                                                                           \
        cudaError_t lcu_e_ = (call);                                                               \
        if (lcu_e_ != cudaSuccess) {                                                               \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(lcu_e_)); \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* 77 (CTest's skip) when no GPU is present, else 0. The emulation always has its device. */
static inline int lcu_test_skip_without_device(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
        printf("no CUDA device: skipped\n");
        return 77;
    }
    return 0;
}

/* Uniform in [lo, hi) from a xorshift64 state (deterministic across builds). */
static inline float lcu_test_uniform(uint64_t *state, float lo, float hi) {
    uint64_t x = *state;
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    *state = x;
    return lo + (hi - lo) * (float)((x >> 40) * (1.0 / 16777216.0));
}

static inline void lcu_test_fill(float *x, int64_t n, float lo, float hi, uint64_t *state) {
    for (int64_t i = 0; i < n; i++) x[i] = lcu_test_uniform(state, lo, hi);
}

/* A device copy of n bytes of host memory (host NULL: uninitialised). */
static inline void *lcu_test_upload(const void *host, size_t n) {
    void *d = NULL;
    LCU_CHECK_CUDA(cudaMalloc(&d, n));
    if (host) LCU_CHECK_CUDA(cudaMemcpy(d, host, n, cudaMemcpyHostToDevice));
    return d;
}

static inline void lcu_test_download(void *host, const void *dev, size_t n) {
    LCU_CHECK_CUDA(cudaDeviceSynchronize());
    LCU_CHECK_CUDA(cudaGetLastError());
    LCU_CHECK_CUDA(cudaMemcpy(host, dev, n, cudaMemcpyDeviceToHost));
}

#endif
