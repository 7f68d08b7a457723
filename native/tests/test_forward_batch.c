/* Batching semantics of the inference API: a prompt in one call == token by token == in
 * chunks of n_batch == interleaved with other sequences; kv_seq_copy prefix sharing and
 * truncation; sequence_logprobs == log-softmax of decode logits; contexts sharing a model on
 * two threads; and the request validation errors (nothing changes on error). */
#include <pthread.h>

#include "gguf_test.h"
#include "model_fixture_build.h"

#define V 96
#define N 20

static lora4j_model *g_model;

static lora4j_context *new_ctx(int n_ctx, int n_seq, int n_batch, int exact) {
    lora4j_context_params p = lora4j_context_default_params();
    p.n_ctx = n_ctx;
    p.n_seq_max = n_seq;
    p.n_batch = n_batch;
    p.n_threads = 2;
    p.exact_f32 = exact;
    lora4j_context *c = NULL;
    CHECK_OK(lora4j_context_new(g_model, p, &c));
    return c;
}

static double max_diff(const float *a, const float *b, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= m)) m = d;
    }
    return m;
}

static void make_tokens(int32_t *t, int n, uint32_t seed) {
    for (int i = 0; i < n; i++) t[i] = (int32_t)(fx_rand(&seed) % V);
}

/* Logits of every token of a prompt decoded in one call on a fresh context. */
static void prompt_logits(const int32_t *tokens, int n, int n_batch, int exact, float *out) {
    lora4j_context *c = new_ctx(64, 1, n_batch, exact);
    int8_t want[64];
    memset(want, 1, sizeof want);
    if (c) CHECK_OK(lora4j_decode(c, tokens, NULL, NULL, n, want, out, (int64_t)n * V));
    lora4j_context_free(c);
}

static void test_batch_equivalence(int exact, double tol) {
    int32_t tok[N];
    make_tokens(tok, N, 99);
    float *whole = malloc(N * V * sizeof(float)), *other = malloc(N * V * sizeof(float));
    prompt_logits(tok, N, 512, exact, whole);

    /* token by token: each call's default is the last (only) token's logits */
    lora4j_context *c = new_ctx(64, 1, 512, exact);
    for (int i = 0; c && i < N; i++) CHECK_OK(lora4j_decode(c, tok + i, NULL, NULL, 1, NULL, other + i * V, V));
    CHECK(max_diff(whole, other, N * V) <= tol);
    CHECK(lora4j_kv_seq_pos(c, 0) == N);
    lora4j_context_free(c);

    /* chunks of 7 (the context splits the call) */
    prompt_logits(tok, N, 7, exact, other);
    CHECK(max_diff(whole, other, N * V) <= tol);

    /* three sequences interleaved in one call, explicit positions, only some logits */
    int32_t tok2[N], tok3[N];
    make_tokens(tok2, N, 5);
    make_tokens(tok3, N, 6);
    float *l2 = malloc(N * V * sizeof(float)), *l3 = malloc(N * V * sizeof(float));
    prompt_logits(tok2, N, 512, exact, l2);
    prompt_logits(tok3, 12, 512, exact, l3);
    int32_t bt[3 * N], bp[3 * N], bs[3 * N];
    int8_t want[3 * N];
    int n = 0;
    for (int i = 0; i < N; i++) {
        bt[n] = tok[i], bp[n] = i, bs[n] = 0, want[n++] = i == N - 1;
        bt[n] = tok2[i], bp[n] = i, bs[n] = 2, want[n++] = i % 5 == 0;
        if (i < 12) bt[n] = tok3[i], bp[n] = i, bs[n] = 1, want[n++] = i == 11;
    }
    c = new_ctx(64, 3, 16, exact); /* n_batch 16: chunks cut through the interleaving */
    float *rows = malloc(8 * V * sizeof(float));
    if (c) CHECK_OK(lora4j_decode(c, bt, bp, bs, n, want, rows, 8 * V));
    /* rows in batch order: seq2@0, seq2@5, seq2@10, seq1@11, seq2@15, seq0@19 */
    CHECK(max_diff(rows + 0 * V, l2 + 0 * V, V) <= tol);
    CHECK(max_diff(rows + 1 * V, l2 + 5 * V, V) <= tol);
    CHECK(max_diff(rows + 2 * V, l2 + 10 * V, V) <= tol);
    CHECK(max_diff(rows + 3 * V, l3 + 11 * V, V) <= tol);
    CHECK(max_diff(rows + 4 * V, l2 + 15 * V, V) <= tol);
    CHECK(max_diff(rows + 5 * V, whole + 19 * V, V) <= tol);
    CHECK(c && lora4j_kv_seq_pos(c, 0) == N && lora4j_kv_seq_pos(c, 1) == 12 && lora4j_kv_seq_pos(c, 2) == N);
    lora4j_context_free(c);
    free(whole), free(other), free(l2), free(l3), free(rows);
}

/* A prompt computed once, copied to a group of sequences that then decode together. */
static void test_prefix_sharing(int exact, double tol) {
    int32_t prompt[12], next[4] = {3, 50, 7, 95};
    make_tokens(prompt, 12, 42);
    lora4j_context *c = new_ctx(32, 4, 512, exact);
    if (!c) return;
    int8_t none[12] = {0};
    CHECK_OK(lora4j_decode(c, prompt, NULL, NULL, 12, none, NULL, 0)); /* no logits wanted */
    for (int s = 1; s < 4; s++) CHECK_OK(lora4j_kv_seq_copy(c, 0, s, 12));
    int32_t seqs[4] = {0, 1, 2, 3};
    float got[4 * V];
    int8_t want[4] = {1, 1, 1, 1};
    CHECK_OK(lora4j_decode(c, next, NULL, seqs, 4, want, got, 4 * V));
    int32_t full[13];
    memcpy(full, prompt, sizeof prompt);
    float *expect = malloc(13 * V * sizeof(float));
    for (int s = 0; s < 4; s++) {
        full[12] = next[s];
        prompt_logits(full, 13, 512, exact, expect);
        CHECK(max_diff(got + s * V, expect + 12 * V, V) <= tol);
    }
    /* a shorter prefix of a longer cache, and truncation in place */
    CHECK_OK(lora4j_kv_seq_copy(c, 2, 1, 5));
    CHECK_OK(lora4j_kv_seq_copy(c, 3, 3, 5));
    CHECK(lora4j_kv_seq_pos(c, 1) == 5 && lora4j_kv_seq_pos(c, 3) == 5 && lora4j_kv_seq_pos(c, 2) == 13);
    int32_t t5[2] = {prompt[5], prompt[5]}, s13[2] = {1, 3};
    CHECK_OK(lora4j_decode(c, t5, NULL, s13, 2, want, got, 2 * V));
    prompt_logits(prompt, 6, 512, exact, expect);
    CHECK(max_diff(got, expect + 5 * V, V) <= tol);
    CHECK(max_diff(got + V, expect + 5 * V, V) <= tol);
    CHECK_OK(lora4j_kv_seq_clear(c, 2));
    CHECK(lora4j_kv_seq_pos(c, 2) == 0);
    lora4j_context_free(c);
    free(expect);
}

static void test_sequence_logprobs(void) {
    int32_t tok[N];
    make_tokens(tok, N, 77);
    float *logits = malloc(N * V * sizeof(float));
    prompt_logits(tok, N, 512, 1, logits);
    float expect[N - 1], got[N - 1];
    for (int t = 0; t < N - 1; t++) {
        const float *row = logits + t * V;
        double max = row[0], sum = 0;
        for (int i = 1; i < V; i++) max = fmax(max, row[i]);
        for (int i = 0; i < V; i++) sum += exp(row[i] - max);
        expect[t] = (float)(row[tok[t + 1]] - max - log(sum));
    }
    lora4j_context *c = new_ctx(64, 2, 6, 1); /* chunks of 6 through the layers and the head */
    if (c) {
        CHECK_OK(lora4j_sequence_logprobs(c, 1, tok, N, got));
        CHECK(max_diff(got, expect, N - 1) <= 1e-4);
        CHECK(lora4j_kv_seq_pos(c, 1) == N);
        /* continue a cached prefix: truncate to 9 and re-score from token 9 on */
        CHECK_OK(lora4j_kv_seq_copy(c, 1, 0, 9));
        CHECK_OK(lora4j_sequence_logprobs(c, 0, tok + 9, N - 9, got));
        CHECK(max_diff(got, expect + 9, N - 10) <= 1e-4);
        CHECK_OK(lora4j_sequence_logprobs(c, 0, tok, 1, NULL)); /* one token: nothing to score */
    }
    lora4j_context_free(c);
    free(logits);
}

typedef struct thread_arg {
    const int32_t *tokens;
    float *out;
} thread_arg;

static void *decode_thread(void *p) {
    thread_arg *a = p;
    prompt_logits(a->tokens, N, 512, 0, a->out);
    return NULL;
}

static void test_two_threads(void) {
    int32_t ta[N], tb[N];
    make_tokens(ta, N, 1);
    make_tokens(tb, N, 2);
    float *ea = malloc(N * V * sizeof(float)), *eb = malloc(N * V * sizeof(float));
    float *ga = malloc(N * V * sizeof(float)), *gb = malloc(N * V * sizeof(float));
    prompt_logits(ta, N, 512, 0, ea);
    prompt_logits(tb, N, 512, 0, eb);
    thread_arg a = {ta, ga}, b = {tb, gb};
    pthread_t th[2];
    pthread_create(&th[0], NULL, decode_thread, &a);
    pthread_create(&th[1], NULL, decode_thread, &b);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    CHECK(max_diff(ea, ga, N * V) == 0 && max_diff(eb, gb, N * V) == 0);
    free(ea), free(eb), free(ga), free(gb);
}

static void test_errors(void) {
    lora4j_context *c = new_ctx(16, 2, 8, 0);
    if (!c) return;
    int32_t tok[20];
    make_tokens(tok, 20, 3);
    float logits[2 * V], lp[20];
    CHECK_OK(lora4j_decode(c, tok, NULL, NULL, 4, NULL, logits, V));
    tok[2] = V;
    CHECK_FAIL(lora4j_decode(c, tok, NULL, NULL, 4, NULL, logits, V), LORA4J_ERR_INVALID_ARGUMENT,
               "decode: token 2 has id 96, out of range [0, 96)");
    tok[2] = -1;
    CHECK_FAIL(lora4j_sequence_logprobs(c, 1, tok, 4, lp), LORA4J_ERR_INVALID_ARGUMENT,
               "sequence_logprobs: token 2 has id -1, out of range [0, 96)");
    tok[2] = 1;
    CHECK_FAIL(lora4j_decode(c, tok, NULL, NULL, 13, NULL, logits, V), LORA4J_ERR_INVALID_ARGUMENT,
               "decode: token 12 of sequence 0 is at position 16, beyond the context (n_ctx 16): prompt longer than the context");
    CHECK_FAIL(lora4j_sequence_logprobs(c, 0, tok, 13, lp), LORA4J_ERR_INVALID_ARGUMENT,
               "prompt longer than the context");
    int32_t seq[3] = {0, 2, 0};
    CHECK_FAIL(lora4j_decode(c, tok, NULL, seq, 3, NULL, logits, V), LORA4J_ERR_INVALID_ARGUMENT,
               "decode: token 1 has sequence id 2, out of range [0, 2)");
    int32_t pos[3] = {4, 5, 5};
    CHECK_FAIL(lora4j_decode(c, tok, pos, NULL, 3, NULL, logits, V), LORA4J_ERR_INVALID_ARGUMENT,
               "token 2 of sequence 0 is at position 5, expected 6 (positions must continue the sequence's cache in order; they are not increasing)");
    int32_t gap[2] = {4, 6};
    CHECK_FAIL(lora4j_decode(c, tok, gap, NULL, 2, NULL, logits, V), LORA4J_ERR_INVALID_ARGUMENT,
               "at position 6, expected 5");
    int32_t restart[1] = {0};
    CHECK_FAIL(lora4j_decode(c, tok, restart, NULL, 1, NULL, logits, V), LORA4J_ERR_INVALID_ARGUMENT,
               "at position 0, expected 4");
    CHECK_FAIL(lora4j_decode(c, tok, NULL, NULL, 2, NULL, logits, V - 1), LORA4J_ERR_INVALID_ARGUMENT,
               "1 rows of logits need 96 floats, logits_out holds 95");
    int8_t want[3] = {1, 0, 1};
    CHECK_FAIL(lora4j_decode(c, tok, NULL, NULL, 3, want, logits, V), LORA4J_ERR_INVALID_ARGUMENT,
               "2 rows of logits need 192 floats");
    CHECK_FAIL(lora4j_decode(c, tok, NULL, NULL, 0, NULL, logits, V), LORA4J_ERR_INVALID_ARGUMENT, "n_tokens 0");
    CHECK_FAIL(lora4j_kv_seq_copy(c, 0, 1, 5), LORA4J_ERR_INVALID_ARGUMENT,
               "kv_seq_copy: 5 tokens requested, sequence 0 holds 4");
    CHECK_FAIL(lora4j_kv_seq_clear(c, 2), LORA4J_ERR_INVALID_ARGUMENT, "sequence id 2 is out of range [0, 2)");
    CHECK(lora4j_kv_seq_pos(c, -1) == -1);
    /* nothing changed: the cache still holds the 4 tokens of the first call */
    CHECK(lora4j_kv_seq_pos(c, 0) == 4 && lora4j_kv_seq_pos(c, 1) == 0);
    lora4j_context_params p;
    CHECK_OK(lora4j_context_get_params(c, &p));
    CHECK(p.n_ctx == 16 && p.n_batch == 8 && p.n_threads == 2 && p.n_seq_max == 2);
    lora4j_context_free(c);

    lora4j_context_params bad = lora4j_context_default_params();
    bad.n_seq_max = 0;
    CHECK_FAIL(lora4j_context_new(g_model, bad, &c), LORA4J_ERR_INVALID_ARGUMENT, "n_seq_max 0");
    bad = lora4j_context_default_params();
    CHECK_OK(lora4j_context_new(g_model, bad, &c)); /* n_ctx 0: the training context */
    CHECK_OK(lora4j_context_get_params(c, &p));
    CHECK(p.n_ctx == 128 && p.n_batch == 128);
    lora4j_context_free(c);
}

int main(void) {
    tmpdir_make();
    fx_model m = fx_default();
    m.n_head = 8;
    m.n_head_kv = 2;
    CHECK_OK(fx_write(&m, tmp_path("batch.gguf")));
    CHECK_OK(lora4j_model_load(tmp_path("batch.gguf"), lora4j_model_default_params(), &g_model));
    if (g_model) {
        test_batch_equivalence(1, 1e-5);
        test_batch_equivalence(0, 1e-4);
        test_prefix_sharing(1, 1e-5);
        test_prefix_sharing(0, 1e-4);
        test_sequence_logprobs();
        test_two_threads();
        test_errors();
    }
    lora4j_model_free(g_model);
    tmpdir_remove();
    return test_summary("test_forward_batch");
}
