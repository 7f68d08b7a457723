/* Small helpers for the quantization tests: failure counting, a seeded RNG, the list of
 * supported types. Header-only; each test program includes it once. */
#ifndef LORA4J_QUANT_TEST_H
#define LORA4J_QUANT_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lora4j.h"

static int qt_failures;

#define QT_CHECK(cond, ...)                                           \
    do {                                                              \
        if (!(cond)) {                                                \
            qt_failures++;                                            \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);      \
            fprintf(stderr, __VA_ARGS__);                             \
            fprintf(stderr, "\n");                                    \
        }                                                             \
    } while (0)

static inline int qt_finish(const char *name) {
    if (qt_failures) {
        fprintf(stderr, "%s: %d failure(s)\n", name, qt_failures);
        return 1;
    }
    printf("%s: ok\n", name);
    return 0;
}

/* xorshift64* */
static uint64_t qt_rng_state = 0x9E3779B97F4A7C15ull;

static inline void qt_seed(uint64_t s) { qt_rng_state = s ? s : 1; }

static inline uint64_t qt_next(void) {
    qt_rng_state ^= qt_rng_state >> 12;
    qt_rng_state ^= qt_rng_state << 25;
    qt_rng_state ^= qt_rng_state >> 27;
    return qt_rng_state * 0x2545F4914F6CDD1Dull;
}

/* uniform in [0, 1) */
static inline double qt_uniform(void) { return (double)(qt_next() >> 11) * (1.0 / 9007199254740992.0); }

static inline float qt_gauss(void) {
    const double u1 = qt_uniform() + 1e-300, u2 = qt_uniform();
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

static inline void qt_fill_gauss(float *x, int64_t n, float scale) {
    for (int64_t i = 0; i < n; i++) x[i] = scale * qt_gauss();
}

/* The types the engine implements, in a fixed order. */
static const int32_t qt_types[] = {
    LORA4J_TYPE_F32,  LORA4J_TYPE_F16,  LORA4J_TYPE_BF16, LORA4J_TYPE_Q8_0, LORA4J_TYPE_Q4_0,
    LORA4J_TYPE_Q4_1, LORA4J_TYPE_Q5_0, LORA4J_TYPE_Q5_1, LORA4J_TYPE_IQ4_NL, LORA4J_TYPE_Q2_K,
    LORA4J_TYPE_Q3_K, LORA4J_TYPE_Q4_K, LORA4J_TYPE_Q5_K, LORA4J_TYPE_Q6_K};
#define QT_N_TYPES ((int)(sizeof qt_types / sizeof qt_types[0]))

/* sqrt(sum (a-b)^2 / sum a^2) */
static inline double qt_rel_rms(const float *a, const float *b, int64_t n) {
    double num = 0.0, den = 0.0;
    for (int64_t i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)a[i] * a[i];
    }
    return den > 0.0 ? sqrt(num / den) : sqrt(num);
}

#endif
