/* Run-time CPU feature detection: which SIMD kernels the dispatchers may call. */
#ifndef LORA4J_CORE_SIMD_H
#define LORA4J_CORE_SIMD_H

#include "lora4j.h"

/* The level in force (lora4j_simd_level); cheap, read in dispatchers. */
int32_t l4_simd_level(void);

#endif
