/* Sampler tests: each chain step against hand-computed or brute-force results, the public API's
 * determinism, distribution, log-probs and error handling. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lora4j.h"
#include "sample/candidates.h"
#include "sample/filters.h"
#include "sample/history.h"
#include "sample/rng.h"

static int g_failures = 0;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            g_failures++;                                                 \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                 \
            fprintf(stderr, "\n");                                        \
        }                                                                 \
    } while (0)

#define CHECK_OK(expr)                                                                 \
    do {                                                                               \
        int32_t st_ = (expr);                                                          \
        CHECK(st_ == LORA4J_OK, "%s -> %d (%s)", #expr, (int)st_, lora4j_last_error()); \
    } while (0)

/* ---------------------------------------------------------------- helpers */

static void random_logits(l4_rng *rng, float *x, int32_t n, float scale) {
    for (int32_t i = 0; i < n; i++) x[i] = (float)((l4_rng_uniform(rng) * 2.0 - 1.0) * scale);
}

static int32_t argmax(const float *x, int32_t n) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++) {
        if (x[i] > x[best]) best = i;
    }
    return best;
}

static int compare_better_first(const void *pa, const void *pb) {
    l4_cand a = *(const l4_cand *)pa, b = *(const l4_cand *)pb;
    return l4_cand_better(a, b) ? -1 : l4_cand_better(b, a) ? 1 : 0;
}

/* A candidate set over logits (caller frees c->data). */
static l4_cands make_cands(const float *logits, int32_t n) {
    l4_cands c = {malloc((size_t)n * sizeof(l4_cand)), 0};
    l4_cands_load(&c, logits, n);
    return c;
}

static int kept_ids_equal(const l4_cands *c, const int32_t *ids, int32_t n_ids) {
    if (c->n != n_ids) return 0;
    for (int32_t j = 0; j < n_ids; j++) {
        int found = 0;
        for (int32_t i = 0; i < c->n; i++) found |= c->data[i].id == ids[j];
        if (!found) return 0;
    }
    return 1;
}

static lora4j_sampler *new_sampler(lora4j_sampler_params p, int32_t n_vocab) {
    lora4j_sampler *s = NULL;
    CHECK_OK(lora4j_sampler_new(&p, n_vocab, &s));
    return s;
}

/* Plain temperature sampling: no filters, no penalties. */
static lora4j_sampler_params plain_params(uint64_t seed, float temp) {
    lora4j_sampler_params p = lora4j_sampler_default_params();
    p.seed = seed;
    p.temp = temp;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    return p;
}

/* ---------------------------------------------------------------- candidate set */

static void test_keep_best(void) {
    enum { N = 10000 };
    static float logits[N];
    l4_rng rng;
    l4_rng_seed(&rng, 1);
    random_logits(&rng, logits, N, 5.0f);
    /* Some ties, so the id tie-break is exercised. */
    for (int32_t i = 0; i < N; i += 7) logits[i] = 1.0f;

    l4_cands ref = make_cands(logits, N);
    qsort(ref.data, N, sizeof(l4_cand), compare_better_first);

    int32_t ks[] = {1, 2, 15, 16, 17, 50, 1000, N - 1};
    for (size_t t = 0; t < sizeof ks / sizeof ks[0]; t++) {
        int32_t k = ks[t];
        l4_cands c = make_cands(logits, N);
        l4_cands_keep_best(&c, k);
        CHECK(c.n == k, "keep_best(%d) left %d", (int)k, (int)c.n);
        qsort(c.data, (size_t)c.n, sizeof(l4_cand), compare_better_first);
        int same = 1;
        for (int32_t i = 0; i < k; i++) same &= c.data[i].id == ref.data[i].id;
        CHECK(same, "keep_best(%d) differs from the sorted top %d", (int)k, (int)k);
        free(c.data);
    }

    l4_cands c = make_cands(logits, N);
    CHECK(l4_cands_best(&c).id == ref.data[0].id, "best %d, want %d", (int)l4_cands_best(&c).id,
          (int)ref.data[0].id);
    free(c.data);
    free(ref.data);

    /* All equal: the lowest ids win. */
    float flat[100];
    for (int i = 0; i < 100; i++) flat[i] = 0.5f;
    l4_cands f = make_cands(flat, 100);
    l4_cands_keep_best(&f, 10);
    int low = 1;
    for (int32_t i = 0; i < f.n; i++) low &= f.data[i].id < 10;
    CHECK(low && f.n == 10, "ties keep the lowest ids");
    free(f.data);
}

/* ---------------------------------------------------------------- filters */

static void test_penalties_exact(void) {
    float logits[6] = {2.0f, -2.0f, 1.0f, 0.5f, 3.0f, 0.0f};
    l4_history h;
    CHECK_OK(l4_history_init(&h, 64, 6));
    int32_t accepted[] = {0, 1, 0, 4, 5};
    for (size_t i = 0; i < 5; i++) l4_history_push(&h, accepted[i]);
    l4_cands c = make_cands(logits, 6);
    CHECK_OK(l4_penalize(&c, h.counts, 2.0f, 0.5f, 0.25f));
    /* count 2, positive: 2/2 - (2*0.5 + 0.25) */
    CHECK(c.data[0].logit == -0.25f, "token 0: %g", (double)c.data[0].logit);
    /* count 1, negative: -2*2 - (0.5 + 0.25) */
    CHECK(c.data[1].logit == -4.75f, "token 1: %g", (double)c.data[1].logit);
    CHECK(c.data[2].logit == 1.0f && c.data[3].logit == 0.5f, "unpenalized tokens changed");
    /* count 1, positive: 3/2 - 0.75 */
    CHECK(c.data[4].logit == 0.75f, "token 4: %g", (double)c.data[4].logit);
    /* zero is multiplied (stays 0), then the additive terms apply */
    CHECK(c.data[5].logit == -0.75f, "token 5: %g", (double)c.data[5].logit);
    free(c.data);
    l4_history_free(&h);

    /* A window of 2 retires the oldest tokens. */
    CHECK_OK(l4_history_init(&h, 2, 6));
    l4_history_push(&h, 0);
    l4_history_push(&h, 1);
    l4_history_push(&h, 4);
    l4_history_push(&h, 4);
    CHECK(h.counts[0] == 0 && h.counts[1] == 0 && h.counts[4] == 2, "window 2: %d %d %d",
          (int)h.counts[0], (int)h.counts[1], (int)h.counts[4]);
    l4_history_push(&h, 1);
    CHECK(h.counts[1] == 1 && h.counts[4] == 1, "window 2 after wrap: %d %d", (int)h.counts[1],
          (int)h.counts[4]);
    l4_history_clear(&h);
    CHECK(h.counts[1] == 0 && h.counts[4] == 0 && h.len == 0, "clear");
    l4_history_free(&h);

    /* -1 keeps everything. */
    CHECK_OK(l4_history_init(&h, -1, 3));
    for (int i = 0; i < 1000; i++) l4_history_push(&h, 2);
    CHECK(h.counts[2] == 1000, "unbounded count %d", (int)h.counts[2]);
    l4_history_free(&h);

    /* Overflow to +inf is an error naming the token. */
    float big[2] = {3e38f, 1.0f};
    int32_t counts[2] = {1, 0};
    l4_cands b = make_cands(big, 2);
    CHECK(l4_penalize(&b, counts, 0.1f, 0.0f, 0.0f) == LORA4J_ERR_NUMERIC, "overflow not caught");
    CHECK(strstr(lora4j_last_error(), "token 0") != NULL, "message: %s", lora4j_last_error());
    free(b.data);
}

/* Probabilities 0.5, 0.25, 0.15, 0.1, shuffled to ids 2, 0, 3, 1. */
static const float k_probs_logits[4] = {-1.3862944f, -2.3025851f, -0.6931472f, -1.8971200f};

static void test_top_p_small(void) {
    struct { float p; int32_t min_keep; int32_t n; int32_t ids[4]; } cases[] = {
        {0.45f, 0, 1, {2}},          /* 0.5 >= 0.45 */
        {0.70f, 0, 2, {2, 0}},       /* 0.75 */
        {0.80f, 0, 3, {2, 0, 3}},    /* 0.9 */
        {0.95f, 0, 4, {2, 0, 3, 1}}, /* 1.0 */
        {0.45f, 3, 3, {2, 0, 3}},    /* min_keep */
        {1.00f, 0, 4, {2, 0, 3, 1}}, /* off */
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        l4_cands c = make_cands(k_probs_logits, 4);
        l4_top_p(&c, cases[t].p, cases[t].min_keep);
        CHECK(kept_ids_equal(&c, cases[t].ids, cases[t].n), "top_p %g min_keep %d kept %d",
              (double)cases[t].p, (int)cases[t].min_keep, (int)c.n);
        free(c.data);
    }
    /* Applied after top_k, the probabilities are renormalized over the kept set:
     * {0.5, 0.25} -> {2/3, 1/3}, so p = 0.6 keeps one. */
    l4_cands c = make_cands(k_probs_logits, 4);
    l4_top_k(&c, 2);
    l4_top_p(&c, 0.6f, 0);
    int32_t one[] = {2};
    CHECK(kept_ids_equal(&c, one, 1), "top_p after top_k kept %d", (int)c.n);
    free(c.data);
}

/* Over a large flat-ish vocabulary the kept set takes many partition rounds: compare to a full sort. */
static void test_top_p_large(void) {
    enum { N = 50000 };
    static float logits[N];
    l4_rng rng;
    l4_rng_seed(&rng, 7);
    random_logits(&rng, logits, N, 3.0f);
    l4_cands ref = make_cands(logits, N);
    qsort(ref.data, N, sizeof(l4_cand), compare_better_first);
    double total = 0.0;
    for (int32_t i = 0; i < N; i++) total += exp((double)ref.data[i].logit - ref.data[0].logit);

    /* Put each target in the middle of one token's weight, so rounding cannot move the cut and
     * the kept count must be exact. */
    int32_t cuts[] = {1, 2, 17, 100, 5000, 30000, N - 10};
    for (size_t t = 0; t < sizeof cuts / sizeof cuts[0]; t++) {
        int32_t expect = cuts[t];
        double before = 0.0;
        for (int32_t i = 0; i < expect - 1; i++) before += exp((double)ref.data[i].logit - ref.data[0].logit);
        double w = exp((double)ref.data[expect - 1].logit - ref.data[0].logit);
        float p = (float)((before + 0.5 * w) / total);
        l4_cands c = make_cands(logits, N);
        l4_top_p(&c, p, 0);
        CHECK(c.n == expect, "top_p %.9g kept %d, expected %d", (double)p, (int)c.n, (int)expect);
        qsort(c.data, (size_t)c.n, sizeof(l4_cand), compare_better_first);
        int same = 1;
        for (int32_t i = 0; i < c.n && i < expect; i++) same &= c.data[i].id == ref.data[i].id;
        CHECK(same, "top_p %g kept set is not the best prefix", (double)p);
        free(c.data);
    }
    /* A descending 33-token set makes token 16 the first median-of-three pivot; cutting in the
     * middle of its weight covers the case where the pivot itself is the last token kept. */
    {
        float desc[33];
        double w[33], before = 0.0, all = 0.0;
        for (int i = 0; i < 33; i++) {
            desc[i] = (float)(-0.1 * i);
            w[i] = exp((double)desc[i]);
            all += w[i];
        }
        for (int i = 0; i < 16; i++) before += w[i];
        l4_cands d = make_cands(desc, 33);
        l4_top_p(&d, (float)((before + 0.5 * w[16]) / all), 0);
        CHECK(d.n == 17, "pivot cut kept %d, expected 17", (int)d.n);
        free(d.data);
    }
    /* min_keep above the top-p count keeps exactly the min_keep best. */
    l4_cands c = make_cands(logits, N);
    l4_top_p(&c, 0.001f, 5000);
    qsort(c.data, (size_t)c.n, sizeof(l4_cand), compare_better_first);
    int same = c.n == 5000;
    for (int32_t i = 0; i < c.n && same; i++) same &= c.data[i].id == ref.data[i].id;
    CHECK(same, "top_p min_keep 5000 kept %d", (int)c.n);
    free(c.data);
    free(ref.data);
}

static void test_min_p(void) {
    struct { float p; int32_t min_keep; int32_t n; int32_t ids[4]; } cases[] = {
        {0.40f, 0, 2, {2, 0}},       /* p >= 0.2 */
        {0.25f, 0, 3, {2, 0, 3}},    /* p >= 0.125 */
        {0.90f, 0, 1, {2}},          /* only the max */
        {0.90f, 3, 3, {2, 0, 3}},    /* min_keep takes the best three */
        {0.00f, 0, 4, {2, 0, 3, 1}}, /* off */
        {1.00f, 0, 1, {2}},
    };
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        l4_cands c = make_cands(k_probs_logits, 4);
        l4_min_p(&c, cases[t].p, cases[t].min_keep);
        CHECK(kept_ids_equal(&c, cases[t].ids, cases[t].n), "min_p %g min_keep %d kept %d",
              (double)cases[t].p, (int)cases[t].min_keep, (int)c.n);
        free(c.data);
    }
}

static void test_temperature_and_draw(void) {
    float logits[3] = {1.0f, 3.0f, 2.0f};
    l4_cands c = make_cands(logits, 3);
    l4_temperature(&c, 0.5f);
    /* Shifted by the max, then scaled: (x - 3) / 0.5. */
    CHECK(c.data[0].logit == -4.0f && c.data[1].logit == 0.0f && c.data[2].logit == -2.0f,
          "temperature: %g %g %g", (double)c.data[0].logit, (double)c.data[1].logit,
          (double)c.data[2].logit);
    free(c.data);

    /* A masked token is never drawn, even with the smallest uniform. */
    float masked[3] = {-INFINITY, 0.0f, -INFINITY};
    l4_cands m = make_cands(masked, 3);
    l4_rng rng;
    l4_rng_seed(&rng, 3);
    for (int i = 0; i < 1000; i++) CHECK(l4_draw(&m, &rng) == 1, "masked token drawn");
    free(m.data);
}

/* ---------------------------------------------------------------- public API */

static void test_defaults(void) {
    lora4j_sampler_params p = lora4j_sampler_default_params();
    CHECK(p.seed == 0xFFFFFFFFull && p.top_k == 40 && p.top_p == 0.95f && p.min_p == 0.05f &&
              p.temp == 0.8f && p.penalty_last_n == 64 && p.penalty_repeat == 1.0f &&
              p.penalty_freq == 0.0f && p.penalty_present == 0.0f && p.min_keep == 0 &&
              p.n_probs == 0,
          "defaults differ from llama.cpp's");
    lora4j_sampler *s = new_sampler(p, 32000);
    CHECK(lora4j_sampler_seed(s) != 0xFFFFFFFFull, "random seed reported as the marker");
    lora4j_sampler_free(s);
}

static void test_greedy_is_argmax(void) {
    enum { N = 1000 };
    float logits[N];
    l4_rng rng;
    l4_rng_seed(&rng, 11);
    lora4j_sampler_params p = lora4j_sampler_default_params();
    p.temp = 0.0f;
    p.seed = 5;
    lora4j_sampler *greedy = new_sampler(p, N);
    p = plain_params(5, 1.0f);
    p.top_k = 1;
    lora4j_sampler *top1 = new_sampler(p, N);
    p = plain_params(9, 1e-6f);
    lora4j_sampler *cold = new_sampler(p, N);
    for (int t = 0; t < 200; t++) {
        random_logits(&rng, logits, N, 4.0f);
        int32_t want = argmax(logits, N), got = -1;
        CHECK_OK(lora4j_sampler_sample(greedy, logits, &got));
        CHECK(got == want, "greedy %d, argmax %d", (int)got, (int)want);
        CHECK_OK(lora4j_sampler_sample(top1, logits, &got));
        CHECK(got == want, "top_k=1 %d, argmax %d", (int)got, (int)want);
        /* temp -> 0: random logits on [-4, 4] differ by far more than 1e-6 * log(N). */
        CHECK_OK(lora4j_sampler_sample(cold, logits, &got));
        CHECK(got == want, "temp 1e-6 %d, argmax %d", (int)got, (int)want);
    }
    lora4j_sampler_free(greedy);

    /* Ties go to the lower id. */
    p = lora4j_sampler_default_params();
    p.temp = 0.0f;
    greedy = new_sampler(p, 4);
    float tied[4] = {0.0f, 2.0f, 1.0f, 2.0f};
    int32_t got = -1;
    CHECK_OK(lora4j_sampler_sample(greedy, tied, &got));
    CHECK(got == 1, "tie -> %d", (int)got);
    lora4j_sampler_free(greedy);
    lora4j_sampler_free(top1);
    lora4j_sampler_free(cold);
}

static void test_penalty_changes_choice(void) {
    lora4j_sampler_params p = lora4j_sampler_default_params();
    p.temp = 0.0f;
    p.penalty_repeat = 1.2f;
    lora4j_sampler *s = new_sampler(p, 2);
    float logits[2] = {1.0f, 0.9f};
    int32_t got = -1;
    CHECK_OK(lora4j_sampler_sample(s, logits, &got));
    CHECK(got == 0, "before accept: %d", (int)got);
    CHECK_OK(lora4j_sampler_accept(s, 0));
    CHECK_OK(lora4j_sampler_sample(s, logits, &got));
    CHECK(got == 1, "1/1.2 < 0.9 should switch to token 1, got %d", (int)got);
    CHECK_OK(lora4j_sampler_reset(s));
    CHECK_OK(lora4j_sampler_sample(s, logits, &got));
    CHECK(got == 0, "reset keeps history: %d", (int)got);
    lora4j_sampler_free(s);

    /* penalty_last_n 0 turns penalties off. */
    p.penalty_last_n = 0;
    s = new_sampler(p, 2);
    CHECK_OK(lora4j_sampler_accept(s, 0));
    CHECK_OK(lora4j_sampler_sample(s, logits, &got));
    CHECK(got == 0, "last_n 0 still penalizes: %d", (int)got);
    lora4j_sampler_free(s);
}

/* Which of the 4 k_probs_logits tokens a sampler draws over many tries. */
static void drawn_set(lora4j_sampler_params p, int seen[4]) {
    lora4j_sampler *s = new_sampler(p, 4);
    for (int i = 0; i < 4; i++) seen[i] = 0;
    for (int d = 0; d < 5000; d++) {
        int32_t tok = -1;
        CHECK_OK(lora4j_sampler_sample(s, k_probs_logits, &tok));
        if (tok >= 0 && tok < 4) seen[tok] = 1;
    }
    lora4j_sampler_free(s);
}

static void test_chain_order(void) {
    int seen[4];
    /* top_k before top_p: top 2 renormalized is {2/3, 1/3}, so top_p 0.6 keeps id 2 alone
     * (top_p first would keep ids 2 and 0). */
    lora4j_sampler_params p = plain_params(8, 1.0f);
    p.top_k = 2;
    p.top_p = 0.6f;
    drawn_set(p, seen);
    CHECK(seen[2] && !seen[0] && !seen[1] && !seen[3], "top_k -> top_p drew %d %d %d %d", seen[0],
          seen[1], seen[2], seen[3]);
    /* min_p 0.4 keeps p >= 0.2: ids 2 and 0. */
    p = plain_params(8, 1.0f);
    p.min_p = 0.4f;
    drawn_set(p, seen);
    CHECK(seen[2] && seen[0] && !seen[1] && !seen[3], "min_p drew %d %d %d %d", seen[0], seen[1],
          seen[2], seen[3]);
    /* Filters act before temperature: a hot temperature does not bring id 1 back. */
    p.temp = 50.0f;
    drawn_set(p, seen);
    CHECK(seen[2] && seen[0] && !seen[1] && !seen[3], "min_p at temp 50 drew %d %d %d %d", seen[0],
          seen[1], seen[2], seen[3]);
    /* min_keep 3 lets the 0.15 token through min_p. */
    p.temp = 1.0f;
    p.min_keep = 3;
    drawn_set(p, seen);
    CHECK(seen[2] && seen[0] && seen[3] && !seen[1], "min_p with min_keep 3 drew %d %d %d %d",
          seen[0], seen[1], seen[2], seen[3]);
}

static void draw_sequence(lora4j_sampler *s, const float *logits, int32_t *seq, int n) {
    for (int i = 0; i < n; i++) CHECK_OK(lora4j_sampler_sample(s, logits, &seq[i]));
}

static void test_seeds(void) {
    enum { N = 50, DRAWS = 200 };
    float logits[N];
    l4_rng rng;
    l4_rng_seed(&rng, 21);
    random_logits(&rng, logits, N, 1.0f);
    int32_t a[DRAWS], b[DRAWS], c[DRAWS];

    lora4j_sampler *s1 = new_sampler(plain_params(1234, 1.0f), N);
    lora4j_sampler *s2 = new_sampler(plain_params(1234, 1.0f), N);
    lora4j_sampler *s3 = new_sampler(plain_params(1235, 1.0f), N);
    CHECK(lora4j_sampler_seed(s1) == 1234, "seed %llu", (unsigned long long)lora4j_sampler_seed(s1));
    draw_sequence(s1, logits, a, DRAWS);
    draw_sequence(s2, logits, b, DRAWS);
    draw_sequence(s3, logits, c, DRAWS);
    CHECK(memcmp(a, b, sizeof a) == 0, "same seed, different tokens");
    int differ = 0;
    for (int i = 0; i < DRAWS; i++) differ += a[i] != c[i];
    CHECK(differ > DRAWS / 2, "different seeds agree on %d of %d draws", DRAWS - differ, DRAWS);
    /* reset restarts the same stream. */
    CHECK_OK(lora4j_sampler_reset(s1));
    draw_sequence(s1, logits, b, DRAWS);
    CHECK(memcmp(a, b, sizeof a) == 0, "reset does not replay the stream");

    /* Random seeds differ, and the reported seed reproduces the run. */
    lora4j_sampler *r1 = new_sampler(plain_params(0xFFFFFFFFull, 1.0f), N);
    lora4j_sampler *r2 = new_sampler(plain_params(0xFFFFFFFFull, 1.0f), N);
    CHECK(lora4j_sampler_seed(r1) != lora4j_sampler_seed(r2), "two random seeds are equal");
    lora4j_sampler *again = new_sampler(plain_params(lora4j_sampler_seed(r1), 1.0f), N);
    draw_sequence(r1, logits, a, DRAWS);
    draw_sequence(again, logits, b, DRAWS);
    CHECK(memcmp(a, b, sizeof a) == 0, "reported random seed does not reproduce");
    uint64_t before = lora4j_sampler_seed(r1);
    CHECK_OK(lora4j_sampler_reset(r1));
    CHECK(lora4j_sampler_seed(r1) != before, "reset of a random sampler keeps its seed");

    lora4j_sampler_free(s1);
    lora4j_sampler_free(s2);
    lora4j_sampler_free(s3);
    lora4j_sampler_free(r1);
    lora4j_sampler_free(r2);
    lora4j_sampler_free(again);
}

/* Pearson chi-square of counts against probabilities. */
static double chi_square(const int *counts, const double *probs, int n, int draws) {
    double chi2 = 0.0;
    for (int i = 0; i < n; i++) {
        double e = probs[i] * draws;
        chi2 += (counts[i] - e) * (counts[i] - e) / e;
    }
    return chi2;
}

static void test_distribution(void) {
    enum { N = 5, DRAWS = 100000 };
    const float logits[N] = {1.0f, 0.5f, 0.0f, -0.5f, -1.2f};
    const float temps[] = {0.7f, 1.0f, 1.6f};
    /* chi-square with 4 degrees of freedom: P(X > 18.47) = 0.001. The seed is fixed, so the
     * outcome is reproducible; a wrong distribution gives values in the hundreds. */
    for (size_t t = 0; t < sizeof temps / sizeof temps[0]; t++) {
        double probs[N], z = 0.0;
        for (int i = 0; i < N; i++) z += probs[i] = exp((double)logits[i] / temps[t]);
        for (int i = 0; i < N; i++) probs[i] /= z;
        lora4j_sampler *s = new_sampler(plain_params(42 + t, temps[t]), N);
        int counts[N] = {0};
        for (int d = 0; d < DRAWS; d++) {
            int32_t tok = -1;
            CHECK_OK(lora4j_sampler_sample(s, logits, &tok));
            if (tok >= 0 && tok < N) counts[tok]++;
        }
        double chi2 = chi_square(counts, probs, N, DRAWS);
        CHECK(chi2 < 18.47, "temp %g: chi-square %.2f (counts %d %d %d %d %d)", (double)temps[t],
              chi2, counts[0], counts[1], counts[2], counts[3], counts[4]);
        lora4j_sampler_free(s);
    }

    /* top_p 0.8 over probabilities {0.5, 0.25, 0.15, 0.1}: only ids 2, 0, 3, renormalized. */
    lora4j_sampler_params p = plain_params(77, 1.0f);
    p.top_p = 0.8f;
    lora4j_sampler *s = new_sampler(p, 4);
    int counts[4] = {0};
    for (int d = 0; d < DRAWS; d++) {
        int32_t tok = -1;
        CHECK_OK(lora4j_sampler_sample(s, k_probs_logits, &tok));
        if (tok >= 0 && tok < 4) counts[tok]++;
    }
    CHECK(counts[1] == 0, "top_p let the 0.1 token through %d times", counts[1]);
    int kept[3] = {counts[2], counts[0], counts[3]};
    double probs[3] = {0.5 / 0.9, 0.25 / 0.9, 0.15 / 0.9};
    double chi2 = chi_square(kept, probs, 3, DRAWS);
    CHECK(chi2 < 13.82, "top_p renormalized chi-square %.2f", chi2); /* 2 dof, p = 0.001 */
    lora4j_sampler_free(s);
}

static void test_logprobs(void) {
    enum { N = 300, TOP = 8 };
    float logits[N], copy[N];
    l4_rng rng;
    l4_rng_seed(&rng, 99);
    random_logits(&rng, logits, N, 6.0f);
    logits[17] = -INFINITY;
    memcpy(copy, logits, sizeof logits);

    /* Reference in double. */
    double max = -INFINITY, sum = 0.0, ref[N];
    for (int i = 0; i < N; i++) max = logits[i] > max ? logits[i] : max;
    for (int i = 0; i < N; i++) sum += exp((double)logits[i] - max);
    for (int i = 0; i < N; i++) ref[i] = logits[i] - max - log(sum);

    float out[N];
    CHECK_OK(lora4j_log_softmax(logits, N, out));
    double worst = 0.0;
    for (int i = 0; i < N; i++) {
        if (i == 17) continue;
        worst = fmax(worst, fabs(out[i] - ref[i]));
    }
    CHECK(worst < 1e-5, "log_softmax off by %g", worst);
    CHECK(out[17] == -INFINITY, "masked logit gives %g", (double)out[17]);
    /* In place, and stable far from zero. */
    float shifted[3] = {10000.0f, 10001.0f, 9999.0f};
    CHECK_OK(lora4j_log_softmax(shifted, 3, shifted));
    CHECK(fabs(shifted[1] - (-0.4076059644)) < 1e-5, "shifted log_softmax %g", (double)shifted[1]);

    /* sample_ex reports raw log-probs, whatever penalties, filters and temperature do. */
    lora4j_sampler_params p = lora4j_sampler_default_params();
    p.seed = 3;
    p.temp = 1.7f;
    p.penalty_repeat = 1.5f;
    p.penalty_freq = 0.3f;
    p.n_probs = TOP;
    lora4j_sampler *s = new_sampler(p, N);
    int32_t order[N];
    for (int i = 0; i < N; i++) order[i] = i;
    /* Reference top ids: selection by (logit desc, id asc). */
    for (int i = 0; i < TOP; i++) {
        for (int j = i + 1; j < N; j++) {
            l4_cand a = {logits[order[i]], order[i]}, b = {logits[order[j]], order[j]};
            if (l4_cand_better(b, a)) {
                int32_t t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
    }
    for (int round = 0; round < 20; round++) {
        int32_t tok = -1, ids[TOP];
        float lp = 0.0f, lps[TOP];
        CHECK_OK(lora4j_sampler_sample_ex(s, logits, &tok, &lp, ids, lps));
        CHECK(tok >= 0 && tok < N && tok != 17, "token %d", (int)tok);
        if (tok < 0 || tok >= N) break;
        CHECK(fabs(lp - ref[tok]) < 1e-5, "logprob %g, want %g", (double)lp, ref[tok]);
        for (int i = 0; i < TOP; i++) {
            CHECK(ids[i] == order[i], "top %d: id %d, want %d", i, (int)ids[i], (int)order[i]);
            CHECK(fabs(lps[i] - ref[order[i]]) < 1e-5, "top %d: %g, want %g", i, (double)lps[i],
                  ref[order[i]]);
        }
        CHECK_OK(lora4j_sampler_accept(s, tok));
    }
    CHECK(memcmp(copy, logits, sizeof logits) == 0, "the caller's logits were modified");
    /* Outputs are optional. */
    int32_t tok;
    CHECK_OK(lora4j_sampler_sample_ex(s, logits, &tok, NULL, NULL, NULL));
    lora4j_sampler_free(s);
}

static void expect_invalid(lora4j_sampler_params p, int32_t n_vocab, const char *what) {
    lora4j_sampler *s = (lora4j_sampler *)&p; /* must be reset to NULL on failure */
    int32_t st = lora4j_sampler_new(&p, n_vocab, &s);
    CHECK(st == LORA4J_ERR_INVALID_ARGUMENT, "%s accepted (status %d)", what, (int)st);
    CHECK(s == NULL, "%s: out not cleared", what);
    CHECK(lora4j_last_error()[0] != '\0', "%s: no message", what);
    if (st == LORA4J_OK) lora4j_sampler_free(s);
}

static void test_invalid_params(void) {
    lora4j_sampler_params d = lora4j_sampler_default_params(), p;
#define INVALID(field, value)           \
    do {                                \
        p = d;                          \
        p.field = (value);              \
        expect_invalid(p, 100, #field " = " #value); \
    } while (0)
    INVALID(temp, -0.1f);
    INVALID(temp, NAN);
    INVALID(temp, INFINITY);
    INVALID(top_k, -1);
    INVALID(top_p, 0.0f);
    INVALID(top_p, 1.01f);
    INVALID(top_p, NAN);
    INVALID(min_p, -0.01f);
    INVALID(min_p, 1.5f);
    INVALID(min_p, NAN);
    INVALID(penalty_last_n, -2);
    INVALID(penalty_repeat, 0.0f);
    INVALID(penalty_repeat, -1.0f);
    INVALID(penalty_repeat, NAN);
    INVALID(penalty_freq, INFINITY);
    INVALID(penalty_present, NAN);
    INVALID(min_keep, -1);
    INVALID(n_probs, -1);
    INVALID(n_probs, 101);
#undef INVALID
    expect_invalid(d, 0, "n_vocab 0");
    expect_invalid(d, -5, "n_vocab -5");
    lora4j_sampler *s = NULL;
    CHECK(lora4j_sampler_new(NULL, 10, &s) == LORA4J_ERR_INVALID_ARGUMENT, "NULL params");
    CHECK(lora4j_sampler_new(&d, 10, NULL) == LORA4J_ERR_INVALID_ARGUMENT, "NULL out");

    /* The edges of every range are valid. */
    p = d;
    p.temp = 0.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 1.0f;
    p.penalty_last_n = -1;
    p.penalty_freq = -2.0f;
    p.penalty_present = -2.0f;
    p.n_probs = 100;
    s = new_sampler(p, 100);
    lora4j_sampler_free(s);
}

/* One-token vocabularies and filters that keep everything still work. */
static void test_edge_sizes(void) {
    float one[1] = {-3.0f};
    lora4j_sampler_params p = lora4j_sampler_default_params();
    p.n_probs = 1;
    p.penalty_repeat = 1.3f;
    lora4j_sampler *s = new_sampler(p, 1);
    for (int i = 0; i < 10; i++) {
        int32_t tok = -1, id = -1;
        float lp = 1.0f, top = 1.0f;
        CHECK_OK(lora4j_sampler_sample_ex(s, one, &tok, &lp, &id, &top));
        CHECK(tok == 0 && id == 0 && lp == 0.0f && top == 0.0f, "one token: %d %d %g %g", (int)tok,
              (int)id, (double)lp, (double)top);
        CHECK_OK(lora4j_sampler_accept(s, tok));
    }
    lora4j_sampler_free(s);

    /* top_k above the vocabulary, min_keep above the vocabulary: everything stays possible. */
    p = plain_params(4, 1.0f);
    p.top_k = 1000;
    p.top_p = 0.3f;
    p.min_p = 0.9f;
    p.min_keep = 1000;
    int seen[4];
    drawn_set(p, seen);
    CHECK(seen[0] && seen[1] && seen[2] && seen[3], "min_keep > n_vocab drew %d %d %d %d", seen[0],
          seen[1], seen[2], seen[3]);
}

static void test_invalid_calls(void) {
    enum { N = 10 };
    float logits[N] = {0};
    lora4j_sampler_params p = lora4j_sampler_default_params();
    p.n_probs = 2;
    lora4j_sampler *s = new_sampler(p, N);
    int32_t tok = 0, ids[2];
    float lps[2];

    logits[3] = NAN;
    CHECK(lora4j_sampler_sample(s, logits, &tok) == LORA4J_ERR_NUMERIC, "NaN logit accepted");
    CHECK(strstr(lora4j_last_error(), "logit 3") != NULL, "message: %s", lora4j_last_error());
    logits[3] = INFINITY;
    CHECK(lora4j_sampler_sample(s, logits, &tok) == LORA4J_ERR_NUMERIC, "+inf logit accepted");
    for (int i = 0; i < N; i++) logits[i] = -INFINITY;
    CHECK(lora4j_sampler_sample(s, logits, &tok) == LORA4J_ERR_NUMERIC, "all -inf accepted");
    CHECK(lora4j_log_softmax(logits, N, lps) == LORA4J_ERR_NUMERIC, "log_softmax of all -inf");
    for (int i = 0; i < N; i++) logits[i] = 0.0f;

    CHECK(lora4j_sampler_sample(NULL, logits, &tok) == LORA4J_ERR_INVALID_ARGUMENT, "NULL sampler");
    CHECK(lora4j_sampler_sample(s, NULL, &tok) == LORA4J_ERR_INVALID_ARGUMENT, "NULL logits");
    CHECK(lora4j_sampler_sample(s, logits, NULL) == LORA4J_ERR_INVALID_ARGUMENT, "NULL out_token");
    CHECK(lora4j_sampler_sample_ex(s, logits, &tok, NULL, ids, NULL) == LORA4J_ERR_INVALID_ARGUMENT,
          "top_ids without top_logprobs");
    CHECK(lora4j_sampler_sample_ex(s, logits, &tok, NULL, NULL, lps) == LORA4J_ERR_INVALID_ARGUMENT,
          "top_logprobs without top_ids");
    CHECK(lora4j_sampler_accept(s, -1) == LORA4J_ERR_INVALID_ARGUMENT, "token -1 accepted");
    CHECK(lora4j_sampler_accept(s, N) == LORA4J_ERR_INVALID_ARGUMENT, "token n_vocab accepted");
    CHECK(lora4j_sampler_accept(NULL, 0) == LORA4J_ERR_INVALID_ARGUMENT, "NULL sampler accepted");
    CHECK(lora4j_sampler_reset(NULL) == LORA4J_ERR_INVALID_ARGUMENT, "NULL reset");
    CHECK(lora4j_log_softmax(NULL, N, lps) == LORA4J_ERR_INVALID_ARGUMENT, "log_softmax NULL in");
    CHECK(lora4j_log_softmax(logits, 0, lps) == LORA4J_ERR_INVALID_ARGUMENT, "log_softmax n 0");
    CHECK(lora4j_sampler_seed(NULL) == 0, "seed of NULL");
    lora4j_sampler_free(NULL);

    /* The sampler still works after the errors. */
    CHECK_OK(lora4j_sampler_sample_ex(s, logits, &tok, NULL, ids, lps));
    CHECK(lora4j_last_error()[0] == '\0', "error not cleared: %s", lora4j_last_error());
    lora4j_sampler_free(s);

    /* Penalties that push the only finite logit to -inf are an error, not a NaN draw. */
    float one[2] = {-INFINITY, 1.0f};
    p = lora4j_sampler_default_params();
    p.penalty_freq = 3e38f;
    s = new_sampler(p, 2);
    CHECK_OK(lora4j_sampler_accept(s, 1));
    CHECK_OK(lora4j_sampler_accept(s, 1));
    CHECK(lora4j_sampler_sample(s, one, &tok) == LORA4J_ERR_NUMERIC, "all -inf after penalties");
    lora4j_sampler_free(s);
}

int main(void) {
    test_keep_best();
    test_penalties_exact();
    test_top_p_small();
    test_top_p_large();
    test_min_p();
    test_temperature_and_draw();
    test_defaults();
    test_greedy_is_argmax();
    test_penalty_changes_choice();
    test_chain_order();
    test_seeds();
    test_distribution();
    test_logprobs();
    test_edge_sizes();
    test_invalid_params();
    test_invalid_calls();
    if (g_failures) {
        fprintf(stderr, "test_sample: %d check(s) failed\n", g_failures);
        return 1;
    }
    printf("test_sample: all checks passed\n");
    return 0;
}
