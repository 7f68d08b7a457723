#include "sample/filters.h"

#include <math.h>

#include "core/error.h"

int32_t l4_penalize(l4_cands *c, const int32_t *counts, float repeat, float freq, float present) {
    int any_finite = 0;
    for (int32_t id = 0; id < c->n; id++) {
        float x = c->data[id].logit;
        int32_t count = counts[id];
        if (count > 0) {
            /* Dividing a negative logit would make the token more likely: multiply it instead. */
            x = x <= 0.0f ? x * repeat : x / repeat;
            x -= (float)count * freq + present;
            if (isnan(x) || x == INFINITY) {
                return l4_fail(LORA4J_ERR_NUMERIC, "penalties overflow the logit of token %d", (int)id);
            }
            c->data[id].logit = x;
        }
        any_finite |= x > -INFINITY;
    }
    if (!any_finite) return l4_fail(LORA4J_ERR_NUMERIC, "penalties leave every logit at -inf");
    return LORA4J_OK;
}

void l4_top_k(l4_cands *c, int32_t k) {
    if (k > 0) l4_cands_keep_best(c, k);
}

void l4_top_p(l4_cands *c, float p, int32_t min_keep) {
    if (p >= 1.0f || c->n <= 1) return;
    float max = l4_cands_best(c).logit;
    double total = 0.0;
    for (int32_t i = 0; i < c->n; i++) total += expf(c->data[i].logit - max);
    /* total >= 1 (the max weighs exp(0)), so the target is positive and m >= 1. */
    int32_t m = l4_cands_best_by_mass(c, max, (double)p * total);
    if (m < min_keep) {
        l4_cands_keep_best(c, min_keep);
    } else {
        c->n = m;
    }
}

void l4_min_p(l4_cands *c, float p, int32_t min_keep) {
    if (p <= 0.0f || c->n <= 1) return;
    float threshold = l4_cands_best(c).logit + logf(p);
    int32_t count = 0;
    for (int32_t i = 0; i < c->n; i++) count += c->data[i].logit >= threshold;
    if (count < min_keep) {
        l4_cands_keep_best(c, min_keep);
        return;
    }
    int32_t kept = 0;
    for (int32_t i = 0; i < c->n; i++) {
        if (c->data[i].logit >= threshold) c->data[kept++] = c->data[i];
    }
    c->n = kept;
}

void l4_temperature(l4_cands *c, float temp) {
    /* Shift by the max first (softmax is shift-invariant), so a tiny temp cannot overflow. */
    float max = l4_cands_best(c).logit;
    for (int32_t i = 0; i < c->n; i++) c->data[i].logit = (c->data[i].logit - max) / temp;
}

int32_t l4_draw(const l4_cands *c, l4_rng *rng) {
    float max = l4_cands_best(c).logit;
    double total = 0.0;
    for (int32_t i = 0; i < c->n; i++) total += expf(c->data[i].logit - max);
    double target = l4_rng_uniform(rng) * total;
    /* Strictly greater: a zero-probability candidate can never be chosen. */
    double cum = 0.0;
    int32_t last_possible = 0;
    for (int32_t i = 0; i < c->n; i++) {
        float w = expf(c->data[i].logit - max);
        if (w == 0.0f) continue;
        cum += w;
        last_possible = i;
        if (cum > target) return c->data[i].id;
    }
    return c->data[last_possible].id; /* rounding left target at or above the running sum */
}
