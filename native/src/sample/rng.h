/* The sampler's random generator: xoshiro256** seeded through splitmix64, so any 64-bit seed
 * (0 included) gives a well-mixed state and the same seed always gives the same stream. */
#ifndef LORA4J_SAMPLE_RNG_H
#define LORA4J_SAMPLE_RNG_H

#include <stdint.h>

typedef struct l4_rng {
    uint64_t s[4];
} l4_rng;

void l4_rng_seed(l4_rng *rng, uint64_t seed);
uint64_t l4_rng_next(l4_rng *rng);
/* Uniform double in [0, 1) with 53 random bits. */
double l4_rng_uniform(l4_rng *rng);
/* A seed from the OS entropy source (clock and address mixing if that is unavailable). */
uint64_t l4_rng_random_seed(void);

#endif
