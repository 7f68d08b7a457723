/* The working set of the sampling chain: (logit, id) pairs in a buffer the sampler owns.
 * Filters shrink it from the end; data[0..n_sorted) are the n_sorted best candidates in order,
 * so a filter that needs the best few sorts only those, never the whole vocabulary.
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
    int32_t n;        /* live candidates */
    int32_t n_sorted; /* data[0..n_sorted) are the best n_sorted, best first */
} l4_cands;

static inline int l4_cand_better(l4_cand a, l4_cand b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

/* Fill the set with logits[0..n) as ids 0..n-1 (so data[id] is token id until reordered). */
void l4_cands_load(l4_cands *c, const float *logits, int32_t n);

/* The best candidate (the first one when sorted); c->n >= 1. */
l4_cand l4_cands_best(const l4_cands *c);

/* Keep only the m best candidates (m < c->n), in no particular order beyond the sorted prefix. */
void l4_cands_keep_best(l4_cands *c, int32_t m);

/* Make data[0..min(m, n)) the best candidates, sorted best first. */
void l4_cands_sort_prefix(l4_cands *c, int32_t m);

#endif
