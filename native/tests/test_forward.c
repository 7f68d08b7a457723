/* The forward pass against the independent reference (model_fixture_ref.h): llama and qwen2,
 * GQA, biases, fused q/k/v, partial rotary dims, every RoPE scaling, every weight type, on the
 * exact f32 path (tight) and the int8-activation path (looser). Prints the measured gaps. */
#include "gguf_test.h"
#include "model_fixture_ref.h"

#define N_TOK 24

typedef struct gap {
    double exact, fast;
} gap;

/* Largest |engine - reference| over all logits of N_TOK tokens decoded as one prompt. */
static double max_gap(const char *path, const float *ref, const int32_t *tokens, int n_vocab, int exact) {
    lora4j_model *model = NULL;
    lora4j_context *ctx = NULL;
    double worst = INFINITY;
    lora4j_context_params cp = lora4j_context_default_params();
    cp.n_ctx = 64;
    cp.n_threads = 2;
    cp.exact_f32 = exact;
    int8_t want[N_TOK];
    memset(want, 1, sizeof want);
    float *logits = malloc((size_t)N_TOK * n_vocab * sizeof(float));
    CHECK_OK(lora4j_model_load(path, lora4j_model_default_params(), &model));
    if (model) CHECK_OK(lora4j_context_new(model, cp, &ctx));
    if (ctx) {
        lora4j_status_t st = lora4j_decode(ctx, tokens, NULL, NULL, N_TOK, want, logits, (int64_t)N_TOK * n_vocab);
        CHECK_OK(st);
        if (st == LORA4J_OK) {
            worst = 0;
            for (int64_t i = 0; i < (int64_t)N_TOK * n_vocab; i++) {
                double d = fabs((double)logits[i] - ref[i]);
                if (!(d <= worst)) worst = d; /* NaN propagates */
            }
        }
    }
    lora4j_context_free(ctx);
    lora4j_model_free(model);
    free(logits);
    return worst;
}

static gap run_case(const char *label, const fx_model *m, double tol_exact, double tol_fast) {
    const char *path = tmp_path("fwd.gguf");
    gap g = {INFINITY, INFINITY};
    CHECK_OK(fx_write(m, path));
    ref_model r;
    if (!ref_load(&r, m, path)) {
        CHECK(!"reference load");
        return g;
    }
    int32_t tokens[N_TOK];
    uint32_t s = m->seed + 7;
    for (int i = 0; i < N_TOK; i++) tokens[i] = (int32_t)(fx_rand(&s) % (uint32_t)m->n_vocab);
    float *ref = malloc((size_t)N_TOK * m->n_vocab * sizeof(float));
    ref_forward(&r, tokens, N_TOK, ref);
    g.exact = max_gap(path, ref, tokens, m->n_vocab, 1);
    g.fast = max_gap(path, ref, tokens, m->n_vocab, 0);
    double scale = 0;
    for (int64_t i = 0; i < (int64_t)N_TOK * m->n_vocab; i++) scale = fmax(scale, fabs(ref[i]));
    printf("  %-34s max|logit| %6.2f   exact %.2e   fast %.2e\n", label, scale, g.exact, g.fast);
    if (!(g.exact <= tol_exact)) {
        fprintf(stderr, "%s: exact-path gap %g exceeds %g\n", label, g.exact, tol_exact);
        CHECK(g.exact <= tol_exact);
    }
    if (!(g.fast <= tol_fast)) {
        fprintf(stderr, "%s: fast-path gap %g exceeds %g\n", label, g.fast, tol_fast);
        CHECK(g.fast <= tol_fast);
    }
    free(ref);
    ref_free(&r);
    return g;
}

/* Architecture and RoPE variants, f32 weights: both paths should be close to exact. */
static void test_variants(void) {
    fx_model m = fx_default();
    run_case("llama", &m, 2e-5, 3e-2);
    m.n_head = 8;
    m.n_head_kv = 2;
    m.tied = 1;
    run_case("llama GQA 8/2 tied", &m, 2e-5, 3e-2);
    m = fx_default();
    m.arch = "qwen2";
    m.qkv_bias = 1;
    m.n_head_kv = 2;
    run_case("qwen2 biases GQA neox", &m, 2e-5, 3e-2);
    m.fused_qkv = 1;
    m.arch = "llama";
    run_case("llama fused qkv + bias", &m, 2e-5, 3e-2);
    m = fx_default();
    m.n_rot = 8;
    run_case("llama partial rotary (8 of 16)", &m, 2e-5, 3e-2);
    m.arch = "qwen2";
    run_case("qwen2 partial rotary (8 of 16)", &m, 2e-5, 3e-2);
    m = fx_default();
    m.n_embd = 48;
    m.key_length = 16; /* n_head * head_dim = 64 != n_embd */
    run_case("llama key_length 16, n_embd 48", &m, 2e-5, 3e-2);
    m = fx_default();
    m.vec_type = LORA4J_TYPE_F16;
    run_case("llama f16 norms", &m, 2e-5, 3e-2);
}

static void test_rope_scaling(void) {
    fx_model m = fx_default();
    m.rope_scaling = "linear";
    m.rope_factor = 4;
    run_case("rope linear x4", &m, 2e-5, 3e-2);
    m.rope_scaling = NULL; /* a factor without a type is linear too */
    m.rope_factor = 2;
    run_case("rope factor without type", &m, 2e-5, 3e-2);
    m.rope_scaling = "yarn";
    m.rope_factor = 4;
    m.rope_orig_ctx = 16;
    run_case("rope yarn x4 (orig ctx 16)", &m, 2e-5, 3e-2);
    m.arch = "qwen2";
    m.yarn_beta_fast = 8;
    m.yarn_beta_slow = 0.5f;
    m.rope_base = 500;
    run_case("rope yarn qwen2 betas 8/0.5 base 500", &m, 2e-5, 3e-2);
    m = fx_default();
    m.rope_scaling = "llama3";
    m.rope_factor = 8;
    m.rope_orig_ctx = 8;
    m.low_freq_factor = 1;
    m.high_freq_factor = 4;
    m.rope_base = 100;
    run_case("rope llama3 recipe (no tensor)", &m, 2e-5, 3e-2);
    static const float freqs[8] = {1, 1.25f, 1.5f, 2, 3, 5, 8, 8};
    m = fx_default();
    m.rope_freqs = freqs;
    run_case("rope llama3 rope_freqs tensor", &m, 2e-5, 3e-2);
}

/* Every weight type: the exact path multiplies the same dequantized weights as the reference. */
static void test_types(void) {
    static const int32_t small[] = {LORA4J_TYPE_F16, LORA4J_TYPE_BF16, LORA4J_TYPE_Q8_0, LORA4J_TYPE_Q4_0,
                                    LORA4J_TYPE_Q4_1, LORA4J_TYPE_Q5_0, LORA4J_TYPE_Q5_1, LORA4J_TYPE_IQ4_NL};
    static const int32_t k[] = {LORA4J_TYPE_Q2_K, LORA4J_TYPE_Q3_K, LORA4J_TYPE_Q4_K, LORA4J_TYPE_Q5_K,
                                LORA4J_TYPE_Q6_K};
    char label[64];
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
        if (!lora4j_type_supported(small[i])) continue;
        fx_model m = fx_default();
        m.wtype = small[i];
        m.n_head_kv = 2;
        snprintf(label, sizeof label, "weights %s", lora4j_type_name(small[i]));
        run_case(label, &m, 2e-5, 0.15);
    }
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        if (!lora4j_type_supported(k[i])) continue;
        fx_model m = fx_default();
        m.n_embd = 256; /* K-quant rows hold multiples of 256 */
        m.n_ff = 256;
        m.n_vocab = 64;
        m.wtype = k[i];
        snprintf(label, sizeof label, "weights %s (dim 256)", lora4j_type_name(k[i]));
        run_case(label, &m, 2e-5, 0.15);
    }
}

int main(void) {
    tmpdir_make();
    printf("max |engine - reference| over %d tokens x vocab logits:\n", N_TOK);
    test_variants();
    test_rope_scaling();
    test_types();
    tmpdir_remove();
    return test_summary("test_forward");
}
