/* Device discovery: count, properties and free memory, with the reasons a runtime cannot be used
 * spelled out (no driver, a driver too old for the CUDA 13 runtime linked into the backend). */
#include <stdio.h>
#include <string.h>

#include "engine/device.h"

int32_t lcu_device_count(int32_t *out) {
    *out = 0;
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e == cudaErrorNoDevice) {
        cudaGetLastError();
        return LORA4J_OK;
    }
    if (e == cudaErrorInsufficientDriver) {
        cudaGetLastError();
        int v = 0;
        cudaDriverGetVersion(&v);
        if (v == 0) {
            return lcu_fail(LORA4J_ERR_UNSUPPORTED, "no NVIDIA driver is installed (the CUDA backend is built with the "
                            "CUDA 13 runtime, which needs an NVIDIA driver >= 580)");
        }
        return lcu_fail(LORA4J_ERR_UNSUPPORTED, "the CUDA backend is built with the CUDA 13 runtime, which needs an "
                        "NVIDIA driver >= 580 (the installed one supports CUDA %d.%d; install a newer driver)", v / 1000,
                        (v % 1000) / 10);
    }
    if (e != cudaSuccess) return lcu_check(e, "counting CUDA devices");
    *out = n;
    return LORA4J_OK;
}

int32_t lcu_device_use(int32_t device, const char *what) {
    int32_t n = 0;
    int32_t st = lcu_device_count(&n);
    if (st != LORA4J_OK) return st;
    if (device < 0 || device >= n) {
        return lcu_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: CUDA device %d does not exist (%d device%s)", what, device, n,
                        n == 1 ? "" : "s");
    }
    return lcu_check(cudaSetDevice(device), what);
}

int32_t lcu_device_free_bytes(int32_t device, size_t *out) {
    *out = 0;
    int32_t st = lcu_device_use(device, "device memory");
    size_t total = 0;
    if (st == LORA4J_OK) st = lcu_check(cudaMemGetInfo(out, &total), "cudaMemGetInfo");
    return st;
}

int32_t lcu_device_info(int32_t device, lora4j_device_info *out) {
    memset(out, 0, sizeof *out);
    int32_t st = lcu_device_use(device, "device_info");
    if (st != LORA4J_OK) return st;
    cudaDeviceProp p;
    st = lcu_check(cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties");
    size_t free_b = 0, total_b = 0;
    if (st == LORA4J_OK) st = lcu_check(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
    if (st != LORA4J_OK) return st;
    snprintf(out->name, sizeof out->name, "%.127s", p.name);
    out->total_memory = (int64_t)p.totalGlobalMem;
    out->free_memory = (int64_t)free_b;
    out->cc_major = p.major;
    out->cc_minor = p.minor;
    out->multiprocessors = p.multiProcessorCount;
#ifdef LCU_EMU
    out->emulated = 1;
#endif
    return LORA4J_OK;
}
