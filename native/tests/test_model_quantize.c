/* The quantize tool: an f32 model re-encoded to each target, checked tensor by tensor against
 * llama-quantize's choices (fallbacks for 288-wide rows, Q6_K output head, the Q4_K_M layer
 * pattern), metadata copied and general.file_type set, and the result loads and predicts close
 * to the f32 model. */
#include "gguf_test.h"
#include "model_fixture_build.h"

#define NT 16

typedef struct expect {
    const char *tensor;
    int32_t type;
} expect;

typedef struct target_case {
    int32_t target;
    uint32_t file_type;
    double max_rel_gap; /* of logits, relative to max |logit| of the f32 model */
    expect e[8];
} target_case;

/* n_embd 288 (not a multiple of 256, as stories15M), n_ff 256, 8 layers: Q4_K_M's
 * use_more_bits layers are 0, 3, 6 and 7. */
static fx_model shape288(void) {
    fx_model m = fx_default();
    m.n_vocab = 64;
    m.n_embd = 288;
    m.n_head = 6;
    m.n_head_kv = 6;
    m.n_ff = 256;
    m.n_layer = 8;
    return m;
}

static int32_t tensor_type(const lora4j_gguf *g, const char *name) {
    lora4j_tensor_info t;
    int64_t i = lora4j_gguf_find_tensor(g, name);
    if (i < 0 || lora4j_gguf_tensor_info(g, i, &t) != LORA4J_OK) return -1;
    return t.type;
}

static int64_t key_int(const lora4j_gguf *g, const char *key) {
    int64_t v = -1, i = lora4j_gguf_find_key(g, key);
    if (i >= 0) lora4j_gguf_get_scalar(g, i, &v, NULL);
    return v;
}

/* Logits of NT tokens (exact path). */
static int logits_of(const char *path, float *out, int n_vocab) {
    lora4j_model *model = NULL;
    lora4j_context *ctx = NULL;
    int ok = 0;
    lora4j_context_params cp = lora4j_context_default_params();
    cp.n_ctx = 32;
    cp.exact_f32 = 1;
    cp.n_threads = 2;
    int32_t tok[NT];
    int8_t want[NT];
    uint32_t s = 11;
    for (int i = 0; i < NT; i++) tok[i] = (int32_t)(fx_rand(&s) % (uint32_t)n_vocab), want[i] = 1;
    CHECK_OK(lora4j_model_load(path, lora4j_model_default_params(), &model));
    if (model) CHECK_OK(lora4j_context_new(model, cp, &ctx));
    if (ctx) ok = lora4j_decode(ctx, tok, NULL, NULL, NT, want, out, (int64_t)NT * n_vocab) == LORA4J_OK;
    lora4j_context_free(ctx);
    lora4j_model_free(model);
    return ok;
}

static int all_supported(const target_case *c) {
    for (int k = 0; k < 8 && c->e[k].tensor; k++) {
        if (!lora4j_type_supported(c->e[k].type)) return 0;
    }
    return 1;
}

static void check_target(const fx_model *m, const char *src, const float *ref, const target_case *c) {
    char label[64];
    snprintf(label, sizeof label, "%s", c->target >= 1000 ? (c->target == LORA4J_MIX_Q4_K_M ? "Q4_K_M" : "Q5_K_M")
                                                          : lora4j_type_name(c->target));
    if (!all_supported(c)) {
        printf("  %-8s skipped (a type it needs is unsupported)\n", label);
        return;
    }
    char dst[512]; /* tmp_path's buffer is shared: src may live in it */
    snprintf(dst, sizeof dst, "%s/quantized.gguf", g_tmpdir);
    lora4j_quantize_params qp = lora4j_quantize_default_params();
    qp.type = c->target;
    qp.n_threads = 2;
    lora4j_status_t st = lora4j_model_quantize(src, dst, qp);
    CHECK_OK(st);
    if (st != LORA4J_OK) return;
    lora4j_gguf *g = NULL;
    CHECK_OK(lora4j_gguf_open(dst, &g));
    if (!g) return;
    for (int k = 0; k < 8 && c->e[k].tensor; k++) {
        int32_t got = tensor_type(g, c->e[k].tensor);
        if (got != c->e[k].type) {
            fprintf(stderr, "%s: %s is %s, expected %s\n", label, c->e[k].tensor, lora4j_type_name(got),
                    lora4j_type_name(c->e[k].type));
            CHECK(got == c->e[k].type);
        }
    }
    /* 1-D tensors are copied as f32; metadata copied; file type and quantization version set */
    for (int64_t i = 0; i < lora4j_gguf_n_tensors(g); i++) {
        lora4j_tensor_info t;
        CHECK_OK(lora4j_gguf_tensor_info(g, i, &t));
        if (t.n_dims == 1) CHECK(t.type == LORA4J_TYPE_F32);
    }
    CHECK(key_int(g, "general.file_type") == c->file_type);
    CHECK(key_int(g, "general.quantization_version") == 2);
    CHECK(key_int(g, "llama.block_count") == m->n_layer);
    CHECK(lora4j_gguf_find_key(g, "llama.attention.layer_norm_rms_epsilon") >= 0);
    lora4j_gguf_close(g);

    float *got = malloc((size_t)NT * m->n_vocab * sizeof(float));
    if (logits_of(dst, got, m->n_vocab)) {
        double gap = 0, scale = 0;
        for (int64_t i = 0; i < (int64_t)NT * m->n_vocab; i++) {
            double d = fabs((double)got[i] - ref[i]);
            if (!(d <= gap)) gap = d;
            scale = fmax(scale, fabs(ref[i]));
        }
        printf("  %-8s logits vs f32 model: max gap %.3f (%.1f%% of max |logit| %.2f)\n", label, gap,
               100 * gap / scale, scale);
        CHECK(gap <= c->max_rel_gap * scale);
    } else {
        CHECK(!"quantized model runs");
    }
    free(got);
}

static void test_targets_288(void) {
    const int32_t F32 = LORA4J_TYPE_F32, F16 = LORA4J_TYPE_F16, BF16 = LORA4J_TYPE_BF16, Q8 = LORA4J_TYPE_Q8_0,
                  Q40 = LORA4J_TYPE_Q4_0, Q50 = LORA4J_TYPE_Q5_0, Q51 = LORA4J_TYPE_Q5_1, Q4K = LORA4J_TYPE_Q4_K,
                  Q5K = LORA4J_TYPE_Q5_K, Q6K = LORA4J_TYPE_Q6_K;
    const target_case cases[] = {
        {Q8, 7, 0.03, {{"blk.0.attn_q.weight", Q8}, {"blk.7.ffn_down.weight", Q8}, {"output.weight", Q8},
                       {"token_embd.weight", Q8}}},
        /* output: Q6_K by llama.cpp's rule, which cannot hold 288-wide rows -> Q8_0 */
        {Q40, 2, 0.4, {{"blk.0.attn_q.weight", Q40}, {"blk.3.ffn_down.weight", Q40}, {"output.weight", Q8},
                        {"token_embd.weight", Q40}}},
        /* K-quants: 288-wide rows fall back (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0) */
        {Q4K, 14, 0.25, {{"blk.0.attn_q.weight", Q50}, {"blk.2.ffn_gate.weight", Q50}, {"blk.1.ffn_down.weight", Q4K},
                         {"output.weight", Q8}, {"token_embd.weight", Q50}}},
        {Q5K, 16, 0.15, {{"blk.0.attn_v.weight", Q51}, {"blk.4.ffn_down.weight", Q5K}, {"output.weight", Q8}}},
        {Q6K, 18, 0.08, {{"blk.0.attn_output.weight", Q8}, {"blk.5.ffn_down.weight", Q6K}, {"output.weight", Q8}}},
        {LORA4J_MIX_Q4_K_M, 15, 0.25,
         {{"blk.0.ffn_down.weight", Q6K}, {"blk.1.ffn_down.weight", Q4K}, {"blk.3.ffn_down.weight", Q6K},
          {"blk.6.ffn_down.weight", Q6K}, {"blk.7.ffn_down.weight", Q6K}, {"blk.3.attn_v.weight", Q8},
          {"blk.4.attn_v.weight", Q50}, {"output.weight", Q8}}},
        {F16, 1, 0.01, {{"blk.0.attn_q.weight", F16}, {"output.weight", F16}, {"token_embd.weight", F16}}},
        {BF16, 32, 0.05, {{"blk.0.attn_q.weight", BF16}, {"output.weight", BF16}}},
        {F32, 0, 1e-6, {{"blk.0.attn_q.weight", F32}, {"output.weight", F32}}},
    };
    fx_model m = shape288();
    char src[512];
    snprintf(src, sizeof src, "%s/f32.gguf", g_tmpdir);
    CHECK_OK(fx_write(&m, src));
    float *ref = malloc((size_t)NT * m.n_vocab * sizeof(float));
    CHECK(logits_of(src, ref, m.n_vocab));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_target(&m, src, ref, &cases[i]);
    free(ref);
}

/* Rows of 256: no fallbacks; the output head gets Q6_K; a tied embedding is the output head.
 * With 2 layers only layer 1 is a use_more_bits layer. */
static void test_targets_256(void) {
    const target_case cases[] = {
        {LORA4J_TYPE_Q4_K, 14, 0.25,
         {{"blk.0.attn_q.weight", LORA4J_TYPE_Q4_K}, {"output.weight", LORA4J_TYPE_Q6_K},
          {"token_embd.weight", LORA4J_TYPE_Q4_K}}},
        {LORA4J_TYPE_Q8_0, 7, 0.03, {{"output.weight", LORA4J_TYPE_Q8_0}}},
    };
    fx_model m = shape288();
    m.n_embd = 256;
    m.n_head = 4;
    m.n_head_kv = 4;
    m.n_layer = 2;
    char src[512];
    snprintf(src, sizeof src, "%s/f32_256.gguf", g_tmpdir);
    CHECK_OK(fx_write(&m, src));
    float *ref = malloc((size_t)NT * m.n_vocab * sizeof(float));
    CHECK(logits_of(src, ref, m.n_vocab));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_target(&m, src, ref, &cases[i]);
    m.tied = 1;
    CHECK_OK(fx_write(&m, src));
    CHECK(logits_of(src, ref, m.n_vocab));
    const target_case tied = {LORA4J_MIX_Q4_K_M, 15, 0.25,
                              {{"token_embd.weight", LORA4J_TYPE_Q6_K}, {"blk.1.ffn_down.weight", LORA4J_TYPE_Q6_K},
                               {"blk.0.ffn_down.weight", LORA4J_TYPE_Q4_K}, {"blk.0.attn_q.weight", LORA4J_TYPE_Q4_K}}};
    check_target(&m, src, ref, &tied);
    free(ref);
}

static void test_errors(void) {
    fx_model m = fx_default();
    CHECK_OK(fx_write(&m, tmp_path("small.gguf")));
    lora4j_quantize_params qp = lora4j_quantize_default_params();
    CHECK(qp.type == LORA4J_MIX_Q4_K_M);
    qp.type = LORA4J_TYPE_I32;
    char small[512], out[512];
    snprintf(small, sizeof small, "%s/small.gguf", g_tmpdir);
    snprintf(out, sizeof out, "%s/out.gguf", g_tmpdir);
    CHECK_FAIL(lora4j_model_quantize(small, out, qp), LORA4J_ERR_INVALID_ARGUMENT,
               "quantization target 26 (i32) is not a type a model can be written in");
    qp.type = LORA4J_TYPE_Q8_0;
    CHECK_FAIL(lora4j_model_quantize(tmp_path("missing.gguf"), out, qp), LORA4J_ERR_IO, "missing.gguf");
    CHECK_FAIL(lora4j_model_quantize(small, "/nonexistent-dir/out.gguf", qp), LORA4J_ERR_IO,
               "/nonexistent-dir/out.gguf");
    m.no_tensors = 1;
    CHECK_OK(fx_write(&m, tmp_path("vocab.gguf")));
    CHECK_FAIL(lora4j_model_quantize(tmp_path("vocab.gguf"), out, qp), LORA4J_ERR_INVALID_ARGUMENT,
               "holds no weights");
    CHECK_FAIL(lora4j_model_quantize(NULL, out, qp), LORA4J_ERR_INVALID_ARGUMENT, "NULL path");
}

int main(void) {
    tmpdir_make();
    test_targets_288();
    test_targets_256();
    test_errors();
    tmpdir_remove();
    return test_summary("test_model_quantize");
}
