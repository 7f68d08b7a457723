/* A small seeded generator for adapter initialisation and dropout masks: splitmix64 for streams,
 * and its finalizer as a counter-based hash (so a mask element can be regenerated from its
 * coordinates alone, without state). */
#ifndef LORA4J_LORA_RNG_H
#define LORA4J_LORA_RNG_H

#include <math.h>
#include <stdint.h>

/* The hash and its uniform are also compiled into the CUDA backend's dropout kernels, so GPU
 * masks are bit-identical to the CPU's. */
#if defined(__CUDACC__) || defined(LCU_EMU)
#define L4_HD __host__ __device__
#else
#define L4_HD
#endif

L4_HD static inline uint64_t l4_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t l4_rng_next(uint64_t *state) {
    *state += 0x9e3779b97f4a7c15ULL;
    return l4_mix64(*state);
}

/* Uniform in [0, 1) with 24 random bits (exactly representable as float). */
L4_HD static inline float l4_u01_from_bits(uint64_t bits) { return (float)(bits >> 40) * (1.0f / 16777216.0f); }

/* Dropout mask key of the trainable pair (layer, target index t) in the micro-step whose key is
 * step_key: the CPU trainer and the CUDA backend derive the same masks from it. */
L4_HD static inline uint64_t l4_tr_dropout_key(uint64_t step_key, int layer, int t) {
    return l4_mix64(step_key ^ l4_mix64(((uint64_t)(uint32_t)layer << 8 | (uint64_t)t) + 1));
}

static inline float l4_rng_uniform(uint64_t *state) { return l4_u01_from_bits(l4_rng_next(state)); }

/* Standard normal (Box-Muller on two uniforms; the first is kept away from 0). */
static inline float l4_rng_normal(uint64_t *state) {
    double u1 = ((double)(l4_rng_next(state) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(l4_rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

#endif
