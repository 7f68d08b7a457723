/* The working set of the sampling chain: (logit, id) pairs in a buffer the sampler owns.
 * Filters shrink it by moving the candidates they keep to the front; none of them sorts:
 * the selections below are a heap pass (few kept) or quickselect partitions, linear on average.
 * "Better" is a strict total order: higher logit, then lower id (ties are deterministic). */
#ifndef LORA4J_SAMPLE_CANDIDATES_H
#define LORA4J_SAMPLE_CANDIDATES_H

#include <stdint.h>

typedef struct l4_cand {
    float logit;
    int32_t id;
} l4_cand;

typedef struct l4_cands {
    l4_cand *data;
    int32_t n; /* live candidates: data[0..n) */
} l4_cands;

static inline int l4_cand_better(l4_cand a, l4_cand b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

/* Fill the set with logits[0..n) as ids 0..n-1 (so data[id] is token id until reordered). */
void l4_cands_load(l4_cands *c, const float *logits, int32_t n);

/* The best candidate; c->n >= 1. */
l4_cand l4_cands_best(const l4_cands *c);

/* Keep only the m best candidates (1 <= m; m >= c->n keeps all), in no particular order. */
void l4_cands_keep_best(l4_cands *c, int32_t m);

/* Sort the set best first (for reporting; the chain itself never sorts). */
void l4_cands_sort(l4_cands *c);

/* Move the best candidates to the front and return m, the smallest count whose weights
 * exp(logit - max) sum to at least target (c->n if none do). c->n is unchanged. */
int32_t l4_cands_best_by_mass(l4_cands *c, float max, double target);

#endif
