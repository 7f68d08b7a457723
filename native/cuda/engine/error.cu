/* The backend's error reporting: one thread-local message, as lora4j_last_error() on the engine
 * side (the engine copies it into its own after a failed call). */
#include <stdarg.h>
#include <stdio.h>

#include "engine/engine.h"

static thread_local char tl_message[1024];

int32_t lcu_fail(int32_t status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tl_message, sizeof tl_message, fmt, ap);
    va_end(ap);
    return status;
}

const char *lcu_last_error(void) { return tl_message; }

int32_t lcu_check(cudaError_t e, const char *what) {
    if (e == cudaSuccess) return LORA4J_OK;
    cudaGetLastError(); /* clear a non-sticky error so the next call starts clean */
    if (e == cudaErrorMemoryAllocation) {
        return lcu_fail(LORA4J_ERR_OUT_OF_MEMORY, "%s: out of device memory (%s)", what, cudaGetErrorString(e));
    }
    return lcu_fail(LORA4J_ERR_STATE, "%s: CUDA error %d (%s)", what, (int)e, cudaGetErrorString(e));
}

int32_t lcu_check_launch(const char *what) { return lcu_check(cudaGetLastError(), what); }
