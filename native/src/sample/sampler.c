/* The public sampler: parameters, lifecycle, history and the chain run per token. */
#include <math.h>
#include <stdlib.h>

#include "core/error.h"
#include "sample/candidates.h"
#include "sample/filters.h"
#include "sample/history.h"
#include "sample/logprobs.h"
#include "sample/rng.h"

/* llama.cpp's LLAMA_DEFAULT_SEED: draw a random seed. */
#define L4_SEED_RANDOM 0xFFFFFFFFull

struct lora4j_sampler {
    lora4j_sampler_params params;
    int32_t n_vocab;
    uint64_t seed;   /* the seed the generator started from */
    l4_rng rng;
    l4_cands cands;  /* data: [n_vocab], the chain's working set */
    l4_history history;
};

LORA4J_API lora4j_sampler_params lora4j_sampler_default_params(void) {
    return (lora4j_sampler_params){
        .seed = L4_SEED_RANDOM,
        .top_k = 40,
        .top_p = 0.95f,
        .min_p = 0.05f,
        .temp = 0.8f,
        .penalty_last_n = 64,
        .penalty_repeat = 1.0f,
        .penalty_freq = 0.0f,
        .penalty_present = 0.0f,
        .min_keep = 0,
        .n_probs = 0,
    };
}

/* NaN fails every comparison, so each check is written to reject it. */
static int32_t check_params(const lora4j_sampler_params *p, int32_t n_vocab) {
    const int32_t bad = LORA4J_ERR_INVALID_ARGUMENT;
    if (!(p->temp >= 0.0f && isfinite(p->temp)))
        return l4_fail(bad, "sampler: temp = %g, must be finite and >= 0", (double)p->temp);
    if (p->top_k < 0) return l4_fail(bad, "sampler: top_k = %d, must be >= 0 (0 = off)", (int)p->top_k);
    if (!(p->top_p > 0.0f && p->top_p <= 1.0f))
        return l4_fail(bad, "sampler: top_p = %g, must be in (0, 1]", (double)p->top_p);
    if (!(p->min_p >= 0.0f && p->min_p <= 1.0f))
        return l4_fail(bad, "sampler: min_p = %g, must be in [0, 1]", (double)p->min_p);
    if (p->penalty_last_n < -1)
        return l4_fail(bad, "sampler: penalty_last_n = %d, must be >= -1", (int)p->penalty_last_n);
    if (!(p->penalty_repeat > 0.0f && isfinite(p->penalty_repeat)))
        return l4_fail(bad, "sampler: penalty_repeat = %g, must be finite and > 0",
                       (double)p->penalty_repeat);
    if (!isfinite(p->penalty_freq))
        return l4_fail(bad, "sampler: penalty_freq = %g, must be finite", (double)p->penalty_freq);
    if (!isfinite(p->penalty_present))
        return l4_fail(bad, "sampler: penalty_present = %g, must be finite", (double)p->penalty_present);
    if (p->min_keep < 0) return l4_fail(bad, "sampler: min_keep = %d, must be >= 0", (int)p->min_keep);
    if (p->n_probs < 0 || p->n_probs > n_vocab)
        return l4_fail(bad, "sampler: n_probs = %d, must be in [0, n_vocab = %d]", (int)p->n_probs,
                       (int)n_vocab);
    return LORA4J_OK;
}

static void start_rng(lora4j_sampler *s) {
    uint64_t seed = s->params.seed;
    if (seed == L4_SEED_RANDOM) {
        seed = l4_rng_random_seed();
        /* Reported seeds must reproduce the run, so never report the "random" marker. */
        if (seed == L4_SEED_RANDOM) seed ^= 1ull << 63;
    }
    s->seed = seed;
    l4_rng_seed(&s->rng, seed);
}

LORA4J_API lora4j_status_t lora4j_sampler_new(const lora4j_sampler_params *params, int32_t n_vocab,
                                              lora4j_sampler **out) {
    l4_clear_error();
    if (!params || !out) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "sampler_new: NULL %s", !params ? "params" : "out");
    }
    *out = NULL;
    if (n_vocab <= 0) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "sampler_new: n_vocab = %d, must be > 0", (int)n_vocab);
    }
    int32_t st = check_params(params, n_vocab);
    if (st != LORA4J_OK) return st;

    lora4j_sampler *s = calloc(1, sizeof *s);
    if (!s) return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "sampler_new: sampler");
    s->params = *params;
    s->n_vocab = n_vocab;
    s->cands.data = malloc((size_t)n_vocab * sizeof *s->cands.data);
    if (!s->cands.data) {
        free(s);
        return l4_fail(LORA4J_ERR_OUT_OF_MEMORY, "sampler_new: candidates for %d tokens", (int)n_vocab);
    }
    /* Penalties that cannot change a logit need no history (llama.cpp skips them the same way). */
    int penalties_on = params->penalty_repeat != 1.0f || params->penalty_freq != 0.0f ||
                       params->penalty_present != 0.0f;
    st = l4_history_init(&s->history, penalties_on ? params->penalty_last_n : 0, n_vocab);
    if (st != LORA4J_OK) {
        free(s->cands.data);
        free(s);
        return l4_fail_context(st, "sampler_new");
    }
    start_rng(s);
    *out = s;
    return LORA4J_OK;
}

LORA4J_API void lora4j_sampler_free(lora4j_sampler *s) {
    if (!s) return;
    l4_history_free(&s->history);
    free(s->cands.data);
    free(s);
}

LORA4J_API lora4j_status_t lora4j_sampler_reset(lora4j_sampler *s) {
    l4_clear_error();
    if (!s) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "sampler_reset: NULL sampler");
    l4_history_clear(&s->history);
    start_rng(s);
    return LORA4J_OK;
}

LORA4J_API uint64_t lora4j_sampler_seed(const lora4j_sampler *s) { return s ? s->seed : 0; }

LORA4J_API lora4j_status_t lora4j_sampler_accept(lora4j_sampler *s, int32_t token) {
    l4_clear_error();
    if (!s) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "sampler_accept: NULL sampler");
    if (token < 0 || token >= s->n_vocab) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "sampler_accept: token %d outside [0, %d)", (int)token,
                       (int)s->n_vocab);
    }
    l4_history_push(&s->history, token);
    return LORA4J_OK;
}

/* Penalties, then either the arg-max (temp 0) or the filters, temperature and a draw. */
static int32_t run_chain(lora4j_sampler *s, const float *logits, int32_t *out_token) {
    const lora4j_sampler_params *p = &s->params;
    l4_cands *c = &s->cands;
    l4_cands_load(c, logits, s->n_vocab);
    if (s->history.counts) {
        int32_t st = l4_penalize(c, s->history.counts, p->penalty_repeat, p->penalty_freq,
                                 p->penalty_present);
        if (st != LORA4J_OK) return st;
    }
    if (p->temp == 0.0f) {
        /* Every filter keeps the best candidate, so greedy is the arg-max of the penalized set. */
        *out_token = l4_cands_best(c).id;
        return LORA4J_OK;
    }
    l4_top_k(c, p->top_k);
    l4_top_p(c, p->top_p, p->min_keep);
    l4_min_p(c, p->min_p, p->min_keep);
    l4_temperature(c, p->temp);
    *out_token = l4_draw(c, &s->rng);
    return LORA4J_OK;
}

/* The n_probs most likely raw tokens, best first; reuses the chain's buffer, which is free
 * once the token is chosen. */
static void report_top(lora4j_sampler *s, const float *logits, double lse, int32_t *ids,
                       float *logprobs) {
    l4_cands *c = &s->cands;
    l4_cands_load(c, logits, s->n_vocab);
    l4_cands_keep_best(c, s->params.n_probs);
    l4_cands_sort(c);
    for (int32_t i = 0; i < c->n; i++) {
        ids[i] = c->data[i].id;
        logprobs[i] = (float)((double)c->data[i].logit - lse);
    }
}

LORA4J_API lora4j_status_t lora4j_sampler_sample_ex(lora4j_sampler *s, const float *logits,
                                                    int32_t *out_token, float *out_logprob,
                                                    int32_t *top_ids, float *top_logprobs) {
    l4_clear_error();
    if (!s || !logits || !out_token) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "sampler_sample: NULL %s",
                       !s ? "sampler" : !logits ? "logits" : "out_token");
    }
    if ((top_ids == NULL) != (top_logprobs == NULL)) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT,
                       "sampler_sample: top_ids and top_logprobs must both be NULL or both be set");
    }
    int32_t st = l4_check_logits(logits, s->n_vocab);
    if (st != LORA4J_OK) return l4_fail_context(st, "sampler_sample");
    int32_t token;
    st = run_chain(s, logits, &token);
    if (st != LORA4J_OK) return l4_fail_context(st, "sampler_sample");

    int want_top = top_ids && s->params.n_probs > 0;
    if (out_logprob || want_top) {
        double lse = l4_log_sum_exp(logits, s->n_vocab);
        if (out_logprob) *out_logprob = (float)((double)logits[token] - lse);
        if (want_top) report_top(s, logits, lse, top_ids, top_logprobs);
    }
    *out_token = token;
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_sampler_sample(lora4j_sampler *s, const float *logits,
                                                 int32_t *out_token) {
    return lora4j_sampler_sample_ex(s, logits, out_token, NULL, NULL, NULL);
}
