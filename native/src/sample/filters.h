/* The steps of the sampling chain, one function each, in chain order (llama.cpp semantics). */
#ifndef LORA4J_SAMPLE_FILTERS_H
#define LORA4J_SAMPLE_FILTERS_H

#include <stdint.h>

#include "sample/candidates.h"
#include "sample/rng.h"

/* Repetition/frequency/presence penalties for every token with counts[id] > 0. Must run right
 * after l4_cands_load (data[id] is token id). A penalty that overflows a logit to +inf or NaN,
 * or leaves no logit above -inf, is LORA4J_ERR_NUMERIC. */
int32_t l4_penalize(l4_cands *c, const int32_t *counts, float repeat, float freq, float present);

/* Keep the k best (k <= 0: all). */
void l4_top_k(l4_cands *c, int32_t k);

/* Keep the smallest best-first prefix whose probability (softmax over the current candidates)
 * reaches p, and at least min_keep candidates. p >= 1: keep all. */
void l4_top_p(l4_cands *c, float p, int32_t min_keep);

/* Keep candidates with p_i >= p * p_max (logit >= max + log p; the max always passes), and at
 * least min_keep. */
void l4_min_p(l4_cands *c, float p, int32_t min_keep);

/* Scale logits by 1/temp (temp > 0). */
void l4_temperature(l4_cands *c, float temp);

/* Draw a token from the softmax of the candidates with one uniform from rng. */
int32_t l4_draw(const l4_cands *c, l4_rng *rng);

#endif
