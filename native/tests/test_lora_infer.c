/* Adapters in inference: a context with adapters set gives the logits of a model whose weights
 * are W + u·s·B·A (and biases b + u·delta), merged independently in double by the fixture;
 * switching adapters off gives the base model's logits exactly. */
#include "lora_fixture.h"

#define N_TOK 20

/* Logits [N_TOK][n_vocab] of one prompt through the exact f32 path (adapters as given). */
static float *run(lora4j_model *m, const lora4j_adapter *const *ads, const float *scales, int n_ads,
                  const int32_t *tokens) {
    lora4j_hparams hp;
    lora4j_model_hparams(m, &hp);
    lora4j_context_params cp = lora4j_context_default_params();
    cp.n_ctx = 64;
    cp.n_batch = 8; /* several chunks: the adapters' scratch is per chunk */
    cp.n_threads = 2;
    cp.exact_f32 = 1;
    lora4j_context *ctx = NULL;
    float *logits = calloc((size_t)N_TOK * hp.n_vocab, sizeof(float));
    int8_t want[N_TOK];
    memset(want, 1, sizeof want);
    CHECK_OK(lora4j_context_new(m, cp, &ctx));
    if (ctx && n_ads >= 0) CHECK_OK(lora4j_context_set_adapters(ctx, ads, scales, n_ads));
    if (ctx) CHECK_OK(lora4j_decode(ctx, tokens, NULL, NULL, N_TOK, want, logits, (int64_t)N_TOK * hp.n_vocab));
    lora4j_context_free(ctx);
    return logits;
}

static double max_diff(const float *a, const float *b, int64_t n) {
    double d = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= d)) d = e;
    }
    return d;
}

static void tokens_for(int32_t *tok, int n_vocab) {
    uint32_t s = 77;
    for (int i = 0; i < N_TOK; i++) tok[i] = (int32_t)(fx_rand(&s) % (uint32_t)n_vocab);
}

/* One model variant: a single adapter at two scales, two stacked adapters, and off. */
static void check_variant(const char *label, fx_model cfg, int bias_mode) {
    char base_name[64], merged_name[64];
    snprintf(base_name, sizeof base_name, "%s-base.gguf", label);
    snprintf(merged_name, sizeof merged_name, "%s-merged.gguf", label);
    lora4j_model *m = lf_load(&cfg, base_name);
    if (!m) return;
    char base_path[512];
    snprintf(base_path, sizeof base_path, "%s", tmp_path(base_name));
    int32_t tok[N_TOK];
    tokens_for(tok, cfg.n_vocab);
    const int64_t n = (int64_t)N_TOK * cfg.n_vocab;

    lora4j_lora_params lp = lora4j_lora_default_params();
    lp.rank = 4;
    lp.alpha = 6;
    lp.bias = bias_mode;
    lora4j_adapter *a1 = NULL, *a2 = NULL;
    CHECK_OK(lora4j_adapter_new(m, &lp, &a1));
    lp.rank = 2;
    lp.alpha = 3;
    lp.targets = LORA4J_TARGET_ATTN_V | LORA4J_TARGET_FFN_DOWN;
    lp.layer_begin = 1;
    CHECK_OK(lora4j_adapter_new(m, &lp, &a2));
    if (!a1 || !a2) return;
    lf_randomize(a1, 5, 0.3f);
    lf_randomize(a2, 6, 0.3f);

    float *base = run(m, NULL, NULL, -1, tok);
    const float scales[2] = {0.7f, -0.4f};
    const lora4j_adapter *both[2] = {a1, a2};
    for (int k = 0; k < 3; k++) {
        /* k 0: a1 at 1; k 1: a1 at 0.7; k 2: a1 at 0.7 and a2 at -0.4 */
        const float s1 = k == 0 ? 1.0f : scales[0];
        const float sc[2] = {s1, scales[1]};
        const int n_ads = k == 2 ? 2 : 1;
        char once[512], twice[512];
        snprintf(once, sizeof once, "%s", tmp_path(merged_name));
        snprintf(twice, sizeof twice, "%s", tmp_path("twice.gguf"));
        CHECK_OK(lf_write_merged(base_path, once, a1, s1));
        if (n_ads == 2) CHECK_OK(lf_write_merged(once, twice, a2, sc[1]));
        const char *out = n_ads == 2 ? twice : once;
        lora4j_model *merged = NULL;
        CHECK_OK(lora4j_model_load(out, lora4j_model_default_params(), &merged));
        if (!merged) continue;
        float *want = run(merged, NULL, NULL, -1, tok);
        float *got = run(m, both, sc, n_ads, tok);
        double d = max_diff(want, got, n), moved = max_diff(base, got, n);
        printf("  %-22s %d adapter(s), scale %.1f: |adapter - merged| %.2e (moved %.2f from base)\n", label, n_ads,
               s1, d, moved);
        CHECK(d < 2e-5);
        CHECK(moved > 1e-2); /* the adapters do something */
        free(want);
        free(got);
        lora4j_model_free(merged);
    }
    /* off: set and then cleared gives the base bit for bit */
    lora4j_context_params cp = lora4j_context_default_params();
    cp.n_ctx = 64;
    cp.n_batch = 8;
    cp.n_threads = 2;
    cp.exact_f32 = 1;
    lora4j_context *ctx = NULL;
    float *off = calloc((size_t)n, sizeof(float));
    int8_t want_all[N_TOK];
    memset(want_all, 1, sizeof want_all);
    CHECK_OK(lora4j_context_new(m, cp, &ctx));
    if (ctx) {
        CHECK_OK(lora4j_context_set_adapters(ctx, both, scales, 2));
        CHECK_OK(lora4j_context_set_adapters(ctx, NULL, NULL, 0));
        CHECK_OK(lora4j_decode(ctx, tok, NULL, NULL, N_TOK, want_all, off, n));
        CHECK(memcmp(off, base, (size_t)n * sizeof(float)) == 0);
        float nan = NAN;
        const lora4j_adapter *none[1] = {NULL};
        CHECK_FAIL(lora4j_context_set_adapters(ctx, both, &nan, 1), LORA4J_ERR_INVALID_ARGUMENT, "not finite");
        CHECK_FAIL(lora4j_context_set_adapters(ctx, none, scales, 1), LORA4J_ERR_INVALID_ARGUMENT, "adapter 0 is NULL");
        CHECK_FAIL(lora4j_context_set_adapters(ctx, both, scales, -1), LORA4J_ERR_INVALID_ARGUMENT, "negative");
        CHECK_FAIL(lora4j_context_set_adapters(ctx, NULL, scales, 1), LORA4J_ERR_INVALID_ARGUMENT, "NULL adapters");
        CHECK_FAIL(lora4j_context_set_adapters(NULL, both, scales, 1), LORA4J_ERR_INVALID_ARGUMENT, "context is NULL");
    }
    lora4j_context_free(ctx);
    free(off);
    free(base);
    lora4j_adapter_free(a1);
    lora4j_adapter_free(a2);
    lora4j_model_free(m);
}

int main(void) {
    tmpdir_make();
    check_variant("llama GQA", lf_tiny(), LORA4J_LORA_BIAS_NONE);
    fx_model q = lf_tiny();
    q.arch = "qwen2";
    q.qkv_bias = 1;
    check_variant("qwen2 + bias deltas", q, LORA4J_LORA_BIAS_LORA_ONLY);
    tmpdir_remove();
    return test_summary("test_lora_infer");
}
