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
    c->n_sorted = 0;
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
    double target = (double)p * total;
    /* The kept set is usually tiny: sort a growing prefix rather than the whole vocabulary. */
    double cum = 0.0;
    int32_t i = 0, block = 64;
    while (i < c->n) {
        l4_cands_sort_prefix(c, block < c->n - i ? i + block : c->n);
        for (; i < c->n_sorted; i++) {
            cum += expf(c->data[i].logit - max);
            if (cum >= target && i + 1 >= min_keep) {
                c->n = i + 1;
                return;
            }
        }
        if (block < (1 << 24)) block *= 2;
    }
}

void l4_min_p(l4_cands *c, float p, int32_t min_keep) {
    if (p <= 0.0f || c->n <= 1) return;
    float threshold = l4_cands_best(c).logit + logf(p);
    int32_t count = 0;
    for (int32_t i = 0; i < c->n; i++) count += c->data[i].logit >= threshold;
    int32_t floor = min_keep > 1 ? min_keep : 1;
    if (count < floor) {
        l4_cands_keep_best(c, floor);
        return;
    }
    /* Compacting in order keeps the sorted prefix a prefix: the survivors are the best ones. */
    int32_t kept = 0;
    for (int32_t i = 0; i < c->n; i++) {
        if (c->data[i].logit >= threshold) c->data[kept++] = c->data[i];
    }
    c->n = kept;
    if (c->n_sorted > kept) c->n_sorted = kept;
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
