/* Small helpers shared by the benchmark programs: a monotonic clock, sorting of samples, and
 * exiting with the engine's message. */
#ifndef LORA4J_BENCH_UTIL_H
#define LORA4J_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lora4j.h"

static inline double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts n samples in place (min, median and max are then t[0], t[n/2], t[n-1]). */
static inline void bench_sort(double *t, int n) { qsort(t, (size_t)n, sizeof *t, bench_cmp_double); }

static inline void bench_fail(const char *what) {
    fprintf(stderr, "%s: %s\n", what, lora4j_last_error());
    exit(1);
}

#endif
