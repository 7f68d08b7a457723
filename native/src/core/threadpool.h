/* A persistent pthread pool for data-parallel kernels (llama.cpp style: the caller's thread
 * works too). One process-wide pool; concurrent callers are serialised. */
#ifndef LORA4J_CORE_THREADPOOL_H
#define LORA4J_CORE_THREADPOOL_H

#include <stdint.h>

/* fn is called once per worker index ith in [0, nth); each call covers its own share. */
typedef void (*l4_task_fn)(void *ctx, int ith, int nth);

/* Run fn on n_threads threads (<= 0: number of cores) and wait for all of them. */
void l4_parallel(l4_task_fn fn, void *ctx, int n_threads);

/* Number of online cores. */
int l4_n_cores(void);

/* Split [0, n) into nth nearly equal ranges; range of worker ith. */
static inline void l4_split(int64_t n, int ith, int nth, int64_t *begin, int64_t *end) {
    int64_t per = (n + nth - 1) / nth;
    int64_t b = per * ith;
    int64_t e = b + per;
    *begin = b < n ? b : n;
    *end = e < n ? e : n;
}

#endif
