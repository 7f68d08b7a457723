#include "core/simd.h"

#include "core/error.h"

#include <cpuid.h>
#include <stdatomic.h>

static int32_t detect(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return LORA4J_SIMD_SCALAR;
    int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, f16c = (c >> 29) & 1;
    if (!(fma && osxsave && avx && f16c)) return LORA4J_SIMD_SCALAR;
    /* The OS must save the YMM (and, for AVX-512, the opmask/ZMM) state. */
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    if ((xlo & 0x6) != 0x6) return LORA4J_SIMD_SCALAR;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return LORA4J_SIMD_SCALAR;
    int avx2 = (b >> 5) & 1;
    if (!avx2) return LORA4J_SIMD_SCALAR;
    int avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1, avx512bw = (b >> 30) & 1,
        avx512vl = (b >> 31) & 1, vnni = (c >> 11) & 1;
    int zmm_state = (xlo & 0xE6) == 0xE6;
    if (avx512f && avx512dq && avx512bw && avx512vl && vnni && zmm_state) return LORA4J_SIMD_AVX512;
    return LORA4J_SIMD_AVX2;
}

static atomic_int g_detected = -1;
static atomic_int g_active = -1;

static int32_t detected(void) {
    int v = atomic_load_explicit(&g_detected, memory_order_relaxed);
    if (v < 0) {
        v = detect();
        atomic_store(&g_detected, v);
    }
    return v;
}

int32_t l4_simd_level(void) {
    int v = atomic_load_explicit(&g_active, memory_order_relaxed);
    if (v < 0) {
        v = detected();
        atomic_store(&g_active, v);
    }
    return v;
}

LORA4J_API int32_t lora4j_simd_detected(void) { return detected(); }

LORA4J_API int32_t lora4j_simd_active(void) { return l4_simd_level(); }

LORA4J_API lora4j_status_t lora4j_simd_set(int32_t level) {
    l4_clear_error();
    if (level < LORA4J_SIMD_SCALAR || level > detected()) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "SIMD level %d is not available (this CPU supports up to %d)",
                       level, detected());
    }
    atomic_store(&g_active, level);
    return LORA4J_OK;
}
