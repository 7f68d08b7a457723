/* Model loading: hyper-parameters and their defaults, tensor binding (tied, fused, biases,
 * f16 norms), load-time quantization, vocab-only files, and every validation error with its
 * message. */
#include "gguf_test.h"
#include "model/model.h"
#include "model_fixture_build.h"

static lora4j_status_t load_fx(const fx_model *m, lora4j_model **out) {
    const char *path = tmp_path("model.gguf");
    lora4j_status_t st = fx_write(m, path);
    if (st != LORA4J_OK) {
        fprintf(stderr, "fixture write failed: %s\n", lora4j_last_error());
        return st;
    }
    return lora4j_model_load(path, lora4j_model_default_params(), out);
}

/* A file with meta's metadata and tens's tensors (to pair keys with tensors they contradict). */
static void write_split(const fx_model *meta, const fx_model *tens, const char *path) {
    lora4j_gguf_writer *w = NULL;
    CHECK_OK(lora4j_gguf_writer_new(&w));
    CHECK_OK(fx_metadata(w, meta));
    CHECK_OK(fx_tensors(w, tens));
    CHECK_OK(lora4j_gguf_writer_write(w, path));
    lora4j_gguf_writer_free(w);
}

/* The load of m must fail with status and a message containing needle. */
static void expect_load_error(const fx_model *m, lora4j_status_t status, const char *needle, int line) {
    lora4j_model *model = (lora4j_model *)1;
    lora4j_status_t st = load_fx(m, &model);
    check_fail_(st, status, needle, "load", __FILE__, line);
    CHECK(model == NULL);
}
#define EXPECT_LOAD_ERROR(m, status, needle) expect_load_error(&(m), status, needle, __LINE__)

static void test_llama_defaults(void) {
    fx_model m = fx_default();
    lora4j_model *model = NULL;
    CHECK_OK(load_fx(&m, &model));
    if (!model) return;
    lora4j_hparams hp;
    CHECK_OK(lora4j_model_hparams(model, &hp));
    CHECK(hp.arch == LORA4J_ARCH_LLAMA && hp.vocab_only == 0);
    CHECK(hp.n_vocab == 96 && hp.n_embd == 64 && hp.n_layer == 2 && hp.n_ff == 96);
    CHECK(hp.n_head == 4 && hp.n_head_kv == 4 && hp.head_dim == 16 && hp.n_rot == 16);
    CHECK(hp.n_ctx_train == 128 && hp.rope_type == LORA4J_ROPE_NORM);
    CHECK(hp.rope_freq_base == 10000.0f && fabsf(hp.rms_eps - 1e-5f) < 1e-12f);
    CHECK(hp.rope_scaling == LORA4J_ROPE_SCALING_NONE && hp.rope_scale_factor == 1.0f);
    CHECK(hp.yarn_ext_factor == 0.0f && hp.yarn_attn_factor == 1.0f);
    CHECK(hp.tied_output == 0 && hp.has_qkv_bias == 0);
    CHECK(model->output.data != model->tok_embd.data);
    CHECK(model->layers[1].wq.type == LORA4J_TYPE_F32 && model->layers[1].wq.n_out == 64);
    CHECK(model->layers[0].bq == NULL && model->rope_freqs == NULL && model->output_bias == NULL);
    /* weights are not copied: they point into the mapping */
    CHECK(model->owned == NULL);
    CHECK(lora4j_model_gguf(model) != NULL);
    lora4j_model_free(model);
}

static void test_defaults_when_keys_absent(void) {
    fx_model m = fx_default();
    m.write_head_kv = 0; /* head_count_kv defaults to head_count */
    m.rope_base = 0;     /* freq_base defaults to 10000 */
    m.vocab_tokens = 1;  /* vocabulary size from the token list */
    m.n_rot = 8;
    lora4j_model *model = NULL;
    CHECK_OK(load_fx(&m, &model));
    if (!model) return;
    CHECK(model->hp.n_head_kv == 4 && model->hp.rope_freq_base == 10000.0f);
    CHECK(model->hp.n_vocab == 96 && model->hp.n_rot == 8);
    lora4j_model_free(model);
}

static void test_tied_fused_biases(void) {
    fx_model m = fx_default();
    m.arch = "qwen2";
    m.tied = 1;
    m.qkv_bias = 1;
    m.n_head_kv = 2;
    lora4j_model *model = NULL;
    CHECK_OK(load_fx(&m, &model));
    if (model) {
        CHECK(model->hp.arch == LORA4J_ARCH_QWEN2 && model->hp.rope_type == LORA4J_ROPE_NEOX);
        CHECK(model->hp.tied_output == 1 && model->hp.has_qkv_bias == 1);
        CHECK(model->output.data == model->tok_embd.data);
        CHECK(model->layers[0].bk != NULL && model->layers[0].wk.n_out == 32);
        lora4j_model_free(model);
    }
    m.fused_qkv = 1;
    m.vec_type = LORA4J_TYPE_F16; /* 1-D tensors in f16 are converted to f32 */
    CHECK_OK(load_fx(&m, &model));
    if (model) {
        const l4_layer *ly = &model->layers[1];
        CHECK(ly->wq.n_out == 64 && ly->wk.n_out == 32 && ly->wv.n_out == 32);
        CHECK((const uint8_t *)ly->wk.data == (const uint8_t *)ly->wq.data + 64 * 64 * 4);
        CHECK(ly->bk == ly->bq + 64 && ly->bv == ly->bq + 96);
        CHECK(model->owned != NULL && model->output_norm != NULL);
        lora4j_model_free(model);
    }
}

static void test_key_length(void) {
    fx_model m = fx_default();
    m.n_embd = 66; /* not a multiple of n_head: allowed once key_length is given */
    m.key_length = 16;
    lora4j_model *model = NULL;
    CHECK_OK(load_fx(&m, &model));
    if (model) {
        CHECK(model->hp.head_dim == 16 && model->layers[0].wo.n_in == 64 && model->layers[0].wo.n_out == 66);
        lora4j_model_free(model);
    }
    m.key_length = 0;
    EXPECT_LOAD_ERROR(m, LORA4J_ERR_FORMAT,
                      "'llama.embedding_length' 66 is not a multiple of 'llama.attention.head_count' 4");
}

static void test_tensor_errors(void) {
    fx_model m = fx_default();
    m.omit = "blk.1.ffn_up.weight";
    EXPECT_LOAD_ERROR(m, LORA4J_ERR_FORMAT, "missing tensor 'blk.1.ffn_up.weight'");
    m.omit = "output_norm.weight";
    EXPECT_LOAD_ERROR(m, LORA4J_ERR_FORMAT, "missing tensor 'output_norm.weight'");
    m.omit = NULL;
    m.misshape = "blk.0.attn_k.weight";
    EXPECT_LOAD_ERROR(m, LORA4J_ERR_FORMAT, "tensor 'blk.0.attn_k.weight' has shape [64, 65], expected [64, 64]");
    m.misshape = "blk.1.ffn_norm.weight";
    EXPECT_LOAD_ERROR(m, LORA4J_ERR_FORMAT, "tensor 'blk.1.ffn_norm.weight' has shape [65], expected [64]");
    m.misshape = "token_embd.weight";
    EXPECT_LOAD_ERROR(m, LORA4J_ERR_FORMAT, "tensor 'token_embd.weight' has shape [64, 97], expected [64, 96]");
    m.misshape = NULL;
    m.n_head_kv = 2;
    m.misshape = "blk.0.attn_v.weight"; /* GQA: v has n_head_kv * head_dim rows */
    EXPECT_LOAD_ERROR(m, LORA4J_ERR_FORMAT, "has shape [64, 33], expected [64, 32]");

    /* a 2-D weight in a type the engine cannot multiply */
    m = fx_default();
    m.omit = "blk.0.attn_q.weight";
    lora4j_gguf_writer *w = NULL;
    CHECK_OK(lora4j_gguf_writer_new(&w));
    CHECK_OK(fx_metadata(w, &m));
    CHECK_OK(fx_tensors(w, &m));
    int64_t ne[2] = {64, 64};
    int32_t *ints = calloc(64 * 64, sizeof(int32_t));
    CHECK_OK(lora4j_gguf_writer_add_tensor(w, "blk.0.attn_q.weight", LORA4J_TYPE_I32, 2, ne, ints, 64 * 64 * 4));
    CHECK_OK(lora4j_gguf_writer_write(w, tmp_path("i32.gguf")));
    lora4j_gguf_writer_free(w);
    free(ints);
    lora4j_model *model = NULL;
    CHECK_FAIL(lora4j_model_load(tmp_path("i32.gguf"), lora4j_model_default_params(), &model),
               LORA4J_ERR_UNSUPPORTED, "tensor 'blk.0.attn_q.weight' has type i32, which this engine does not support");
}

static void test_hparam_errors(void) {
    fx_model m = fx_default();
    m.n_head_kv = 3;
    EXPECT_LOAD_ERROR(m, LORA4J_ERR_FORMAT,
                      "'llama.attention.head_count' 4 is not a multiple of 'llama.attention.head_count_kv' 3");
    m = fx_default();
    m.n_head_kv = 8;
    EXPECT_LOAD_ERROR(m, LORA4J_ERR_FORMAT, "is not a multiple of 'llama.attention.head_count_kv' 8");
    m = fx_default();
    m.n_head = 0;
    m.write_head_kv = 0;
    fx_model dm = fx_default();
    write_split(&m, &dm, tmp_path("nohead.gguf"));
    lora4j_model *model = NULL;
    CHECK_FAIL(lora4j_model_load(tmp_path("nohead.gguf"), lora4j_model_default_params(), &model),
               LORA4J_ERR_FORMAT, "metadata key 'llama.attention.head_count': value 0 is out of range");
    m = fx_default();
    m.n_rot = 15;
    EXPECT_LOAD_ERROR(m, LORA4J_ERR_FORMAT, "'llama.rope.dimension_count' 15 must be even and in 2..head_dim (16)");
    m.n_rot = 18;
    EXPECT_LOAD_ERROR(m, LORA4J_ERR_FORMAT, "'llama.rope.dimension_count' 18 must be even");
    m = fx_default();
    m.arch = "gpt2";
    EXPECT_LOAD_ERROR(m, LORA4J_ERR_UNSUPPORTED, "unsupported architecture 'gpt2' (supported: llama, qwen2)");
    m = fx_default();
    m.rope_scaling = "longrope";
    EXPECT_LOAD_ERROR(m, LORA4J_ERR_UNSUPPORTED, "rope scaling 'longrope' is not supported");

    /* a required key missing, and a key of the wrong type */
    m = fx_default();
    lora4j_gguf_writer *w = NULL;
    CHECK_OK(lora4j_gguf_writer_new(&w));
    CHECK_OK(fx_metadata(w, &m));
    CHECK_OK(fx_tensors(w, &m));
    CHECK_OK(lora4j_gguf_writer_remove_key(w, "llama.attention.layer_norm_rms_epsilon"));
    CHECK_OK(lora4j_gguf_writer_write(w, tmp_path("noeps.gguf")));
    CHECK_OK(lora4j_gguf_writer_set_string(w, "llama.block_count", "two", 3));
    CHECK_OK(lora4j_gguf_writer_write(w, tmp_path("strkey.gguf")));
    lora4j_gguf_writer_free(w);
    CHECK_FAIL(lora4j_model_load(tmp_path("noeps.gguf"), lora4j_model_default_params(), &model),
               LORA4J_ERR_FORMAT, "missing metadata key 'llama.attention.layer_norm_rms_epsilon'");
    CHECK_FAIL(lora4j_model_load(tmp_path("strkey.gguf"), lora4j_model_default_params(), &model),
               LORA4J_ERR_FORMAT, "metadata key 'llama.block_count': expected an integer, found string");

    CHECK_FAIL(lora4j_model_load(NULL, lora4j_model_default_params(), &model), LORA4J_ERR_INVALID_ARGUMENT,
               "path is NULL");
    CHECK(lora4j_model_load(tmp_path("absent.gguf"), lora4j_model_default_params(), &model) != LORA4J_OK);
    CHECK(strstr(lora4j_last_error(), "absent.gguf") != NULL);
}

static void test_rope_scaling_keys(void) {
    fx_model m = fx_default();
    m.rope_scaling = "yarn";
    m.rope_factor = 4;
    m.rope_orig_ctx = 32;
    lora4j_model *model = NULL;
    CHECK_OK(load_fx(&m, &model));
    if (model) {
        const lora4j_hparams *hp = &model->hp;
        CHECK(hp->rope_scaling == LORA4J_ROPE_SCALING_YARN && hp->rope_scale_factor == 4.0f);
        CHECK(hp->rope_orig_ctx == 32 && hp->yarn_ext_factor == 1.0f);
        CHECK(hp->yarn_beta_fast == 32.0f && hp->yarn_beta_slow == 1.0f);
        CHECK(fabsf(hp->yarn_attn_factor - 1.0f) < 1e-6f);
        lora4j_model_free(model);
    }
    /* no type key but a factor: linear, as llama.cpp reads it */
    m = fx_default();
    m.rope_factor = 2;
    CHECK_OK(load_fx(&m, &model));
    if (model) {
        CHECK(model->hp.rope_scaling == LORA4J_ROPE_SCALING_LINEAR && model->hp.rope_scale_factor == 2.0f);
        CHECK(model->hp.rope_orig_ctx == 128);
        lora4j_model_free(model);
    }
    /* a rope_freqs tensor means llama3-style per-frequency factors */
    float freqs[8] = {1, 1, 1.5f, 2, 4, 8, 8, 8};
    m = fx_default();
    m.rope_freqs = freqs;
    CHECK_OK(load_fx(&m, &model));
    if (model) {
        CHECK(model->hp.rope_scaling == LORA4J_ROPE_SCALING_LLAMA3);
        CHECK(model->rope_freqs != NULL && model->rope_freqs[3] == 2.0f);
        lora4j_model_free(model);
    }
    freqs[5] = 0;
    EXPECT_LOAD_ERROR(m, LORA4J_ERR_FORMAT, "tensor 'rope_freqs.weight': element 5 is 0");
    freqs[5] = 8;
    fx_model meta = m;
    meta.n_rot = 8; /* rope_freqs must have n_rot/2 elements */
    write_split(&meta, &m, tmp_path("freqs.gguf"));
    CHECK_FAIL(lora4j_model_load(tmp_path("freqs.gguf"), lora4j_model_default_params(), &model),
               LORA4J_ERR_FORMAT, "tensor 'rope_freqs.weight' has shape [8], expected [4]");
    /* llama3 recipe without the tensor: factors are computed */
    m = fx_default();
    m.rope_scaling = "llama3";
    m.rope_factor = 8;
    m.rope_orig_ctx = 64;
    CHECK_OK(load_fx(&m, &model));
    if (model) {
        CHECK(model->hp.rope_scaling == LORA4J_ROPE_SCALING_LLAMA3 && model->rope_freqs != NULL);
        CHECK(model->hp.llama3_low_freq_factor == 1.0f && model->hp.llama3_high_freq_factor == 4.0f);
        if (model->rope_freqs) CHECK(model->rope_freqs[0] == 1.0f && model->rope_freqs[7] == 8.0f);
        lora4j_model_free(model);
    }
}

static void test_vocab_only(void) {
    fx_model m = fx_default();
    m.no_tensors = 1;
    m.vocab_tokens = 1;
    lora4j_model *model = NULL;
    CHECK_OK(load_fx(&m, &model)); /* vocab_only = 0, but there is nothing else to load */
    if (model) {
        CHECK(model->hp.vocab_only == 1 && model->hp.n_vocab == 96 && model->hp.n_embd == 64);
        lora4j_context *ctx = NULL;
        CHECK_FAIL(lora4j_context_new(model, lora4j_context_default_params(), &ctx), LORA4J_ERR_STATE,
                   "vocab-only");
        lora4j_model_free(model);
    }
    /* a full model read vocab-only skips its weights */
    m = fx_default();
    CHECK_OK(fx_write(&m, tmp_path("full.gguf")));
    lora4j_model_params p = lora4j_model_default_params();
    p.vocab_only = 1;
    CHECK_OK(lora4j_model_load(tmp_path("full.gguf"), p, &model));
    if (model) {
        CHECK(model->hp.vocab_only == 1 && model->layers == NULL);
        lora4j_model_free(model);
    }
    /* an architecture the engine cannot run still gives its vocabulary */
    char dir[512], path[600];
    if (find_vocab_dir(dir, sizeof dir)) {
        snprintf(path, sizeof path, "%s/ggml-vocab-gpt-2.gguf", dir);
        CHECK_OK(lora4j_model_load(path, p, &model));
        if (model) {
            CHECK(model->hp.arch == LORA4J_ARCH_OTHER && model->hp.vocab_only == 1 && model->hp.n_vocab > 50000);
            lora4j_model_free(model);
        }
        snprintf(path, sizeof path, "%s/ggml-vocab-llama-spm.gguf", dir);
        CHECK_OK(lora4j_model_load(path, lora4j_model_default_params(), &model));
        if (model) {
            CHECK(model->hp.arch == LORA4J_ARCH_LLAMA && model->hp.vocab_only == 1 && model->hp.n_vocab == 32000);
            lora4j_model_free(model);
        }
    }
}

static void test_quantize_on_load(void) {
    fx_model m = fx_default();
    m.tied = 1;
    CHECK_OK(fx_write(&m, tmp_path("f32.gguf")));
    lora4j_model_params p = lora4j_model_default_params();
    p.quantize_type = LORA4J_TYPE_Q8_0;
    lora4j_model *model = NULL;
    CHECK_OK(lora4j_model_load(tmp_path("f32.gguf"), p, &model));
    if (model) {
        CHECK(model->owned != NULL);
        CHECK(model->layers[0].wq.type == LORA4J_TYPE_Q8_0 && model->layers[1].ffn_down.type == LORA4J_TYPE_Q8_0);
        CHECK(model->tok_embd.type == LORA4J_TYPE_Q8_0 && model->output.data == model->tok_embd.data);
        CHECK(model->layers[0].attn_norm != NULL);
        lora4j_model_free(model);
    }
    p.quantize_type = 77;
    CHECK_FAIL(lora4j_model_load(tmp_path("f32.gguf"), p, &model), LORA4J_ERR_INVALID_ARGUMENT,
               "quantization target 77");
}

static int g_unused_warned;
static void log_cb(int32_t level, const char *msg, void *ud) {
    (void)ud;
    if (level == LORA4J_LOG_WARN && strstr(msg, "blk.0.extra.weight")) g_unused_warned = 1;
}

static void test_unused_tensor_warns(void) {
    fx_model m = fx_default();
    lora4j_gguf_writer *w = NULL;
    CHECK_OK(lora4j_gguf_writer_new(&w));
    CHECK_OK(fx_metadata(w, &m));
    CHECK_OK(fx_tensors(w, &m));
    float v[4] = {0};
    int64_t ne[1] = {4};
    CHECK_OK(lora4j_gguf_writer_add_tensor(w, "blk.0.extra.weight", LORA4J_TYPE_F32, 1, ne, v, sizeof v));
    CHECK_OK(lora4j_gguf_writer_write(w, tmp_path("extra.gguf")));
    lora4j_gguf_writer_free(w);
    lora4j_log_set(log_cb, NULL);
    lora4j_model *model = NULL;
    CHECK_OK(lora4j_model_load(tmp_path("extra.gguf"), lora4j_model_default_params(), &model));
    lora4j_log_set(NULL, NULL);
    CHECK(g_unused_warned);
    lora4j_model_free(model);
}

int main(void) {
    tmpdir_make();
    test_llama_defaults();
    test_defaults_when_keys_absent();
    test_tied_fused_biases();
    test_key_length();
    test_tensor_errors();
    test_hparam_errors();
    test_rope_scaling_keys();
    test_vocab_only();
    test_quantize_on_load();
    test_unused_tensor_warns();
    tmpdir_remove();
    return test_summary("test_model_load");
}
