/* Device memory as one allocation carved into 256-byte aligned pieces: every size is planned
 * first, so a step never allocates. */
#include "engine/engine.h"

#define LCU_ALIGN 256

size_t lcu_arena_piece(size_t bytes) { return (bytes + LCU_ALIGN - 1) / LCU_ALIGN * LCU_ALIGN; }

int32_t lcu_arena_init(lcu_arena *a, size_t size, const char *what) {
    a->base = NULL;
    a->size = 0;
    a->used = 0;
    if (size == 0) return LORA4J_OK;
    void *p = NULL;
    const cudaError_t e = cudaMalloc(&p, size);
    if (e == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        size_t free_b = 0, total_b = 0;
        cudaMemGetInfo(&free_b, &total_b);
        return lcu_fail(LORA4J_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes of device memory (%zu bytes free "
                        "of %zu)", what, size, free_b, total_b);
    }
    if (e != cudaSuccess) return lcu_check(e, what);
    a->base = (uint8_t *)p;
    a->size = size;
    return LORA4J_OK;
}

void *lcu_arena_take(lcu_arena *a, size_t bytes) {
    const size_t piece = lcu_arena_piece(bytes);
    if (piece > a->size - a->used) return NULL;
    void *p = a->base + a->used;
    a->used += piece;
    return p;
}

void lcu_arena_free(lcu_arena *a) {
    if (a->base) cudaFree(a->base);
    a->base = NULL;
    a->size = 0;
    a->used = 0;
}
