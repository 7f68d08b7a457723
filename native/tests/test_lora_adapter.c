/* LoRA adapters: parameters and their validation, PEFT/gaussian initialisation, bias modes,
 * clone, and llama.cpp's GGUF format (round trip, rsLoRA alpha folding, every load check). */
#include "lora_fixture.h"

static void test_defaults_and_init(lora4j_model *m) {
    lora4j_lora_params d = lora4j_lora_default_params();
    CHECK(d.rank == 8 && d.alpha == 16.0f && !d.rslora && d.dropout == 0.0f && d.targets == LORA4J_TARGET_ALL);
    CHECK(d.layer_begin == 0 && d.layer_end == 0 && d.init == LORA4J_LORA_INIT_PEFT && d.bias == 0 && d.seed == 42);

    lora4j_adapter *ad = NULL;
    CHECK_OK(lora4j_adapter_new(m, &d, &ad));
    if (!ad) return;
    lora4j_adapter_info info;
    CHECK_OK(lora4j_adapter_get_info(ad, &info));
    /* 2 layers x 7 projections; q,k? tiny: q,o 32x32; k,v 32->16; gate,up 32->48; down 48->32 */
    const int64_t per_layer = 8 * ((32 + 32) + 2 * (32 + 16) + (32 + 32) + 2 * (32 + 48) + (48 + 32));
    CHECK(info.n_pairs == 14);
    CHECK(info.n_params == 2 * per_layer);
    CHECK(info.rank == 8 && info.scale == 2.0f && info.n_biases == 0);
    double max_abs = 0;
    int b_zero = 1, in_bound = 1;
    for (int64_t i = 0; i < info.n_pairs; i++) {
        lora4j_lora_pair p;
        CHECK_OK(lora4j_adapter_get_pair(ad, i, &p));
        const double bound = 1.0 / sqrt((double)p.n_in);
        for (int64_t k = 0; k < p.rank * p.n_in; k++) {
            in_bound &= fabs(p.a[k]) <= bound;
            if (fabs(p.a[k]) * sqrt((double)p.n_in) > max_abs) max_abs = fabs(p.a[k]) * sqrt((double)p.n_in);
        }
        for (int64_t k = 0; k < p.rank * p.n_out; k++) b_zero &= p.b[k] == 0.0f;
        CHECK(p.bias_delta == NULL);
        CHECK(p.layer == (int)(i / 7) && p.target == (1 << (i % 7)));
    }
    CHECK(in_bound && b_zero);
    CHECK(max_abs > 0.95); /* uniform over the whole [-bound, bound] */
    lora4j_lora_pair p0, p6;
    CHECK_OK(lora4j_adapter_get_pair(ad, 0, &p0));
    CHECK_OK(lora4j_adapter_get_pair(ad, 6, &p6));
    CHECK(strcmp(p0.base_name, "blk.0.attn_q.weight") == 0 && strcmp(p6.base_name, "blk.0.ffn_down.weight") == 0);
    CHECK(p6.n_in == 48 && p6.n_out == 32 && p6.rank == 8);
    CHECK_FAIL(lora4j_adapter_get_pair(ad, 14, &p0), LORA4J_ERR_INVALID_ARGUMENT, "out of range");

    /* same seed, same values; another seed, others */
    lora4j_adapter *same = NULL, *other = NULL;
    CHECK_OK(lora4j_adapter_new(m, &d, &same));
    d.seed = 7;
    CHECK_OK(lora4j_adapter_new(m, &d, &other));
    lora4j_lora_pair ps, po;
    CHECK_OK(lora4j_adapter_get_pair(same, 0, &ps));
    CHECK_OK(lora4j_adapter_get_pair(other, 0, &po));
    CHECK(memcmp(ps.a, p0.a, (size_t)(8 * 32) * sizeof(float)) == 0);
    CHECK(memcmp(po.a, p0.a, (size_t)(8 * 32) * sizeof(float)) != 0);
    lora4j_adapter_free(same);
    lora4j_adapter_free(other);

    /* gaussian: standard deviation 1/r */
    d.init = LORA4J_LORA_INIT_GAUSSIAN;
    d.rank = 4;
    lora4j_adapter *g = NULL;
    CHECK_OK(lora4j_adapter_new(m, &d, &g));
    double ss = 0, sum = 0;
    int64_t n = 0;
    for (int64_t i = 0; g && i < 14; i++) {
        lora4j_lora_pair p;
        lora4j_adapter_get_pair(g, i, &p);
        for (int64_t k = 0; k < p.rank * p.n_in; k++, n++) {
            ss += (double)p.a[k] * p.a[k];
            sum += p.a[k];
        }
    }
    double sd = sqrt(ss / (double)n - (sum / (double)n) * (sum / (double)n));
    printf("  gaussian init: %lld values, sd %.4f (want 0.25)\n", (long long)n, sd);
    CHECK(fabs(sd - 0.25) < 0.02);
    lora4j_adapter_free(g);

    /* rsLoRA scale */
    d = lora4j_lora_default_params();
    d.rank = 4;
    d.rslora = 1;
    CHECK_OK(lora4j_adapter_new(m, &d, &g));
    CHECK_OK(lora4j_adapter_get_info(g, &info));
    CHECK(info.scale == 8.0f && info.rslora == 1);
    lora4j_adapter_free(g);
    lora4j_adapter_free(ad);
}

static void test_validation(lora4j_model *m) {
    lora4j_adapter *ad = NULL;
    lora4j_lora_params p = lora4j_lora_default_params();
    CHECK_FAIL(lora4j_adapter_new(NULL, &p, &ad), LORA4J_ERR_INVALID_ARGUMENT, "NULL");
    CHECK_FAIL(lora4j_adapter_new(m, NULL, &ad), LORA4J_ERR_INVALID_ARGUMENT, "NULL");
    CHECK_FAIL(lora4j_adapter_new(m, &p, NULL), LORA4J_ERR_INVALID_ARGUMENT, "out is NULL");
#define BAD(field, value, status, needle)                                                          \
    do {                                                                                           \
        p = lora4j_lora_default_params();                                                          \
        p.field = value;                                                                           \
        CHECK_FAIL(lora4j_adapter_new(m, &p, &ad), status, needle);                                \
        CHECK(ad == NULL);                                                                         \
    } while (0)
    BAD(rank, 0, LORA4J_ERR_INVALID_ARGUMENT, "rank 0");
    BAD(rank, -3, LORA4J_ERR_INVALID_ARGUMENT, "rank -3");
    /* k/v map 32 -> 16: rank 17 is too large for them (the first one met names the tensor) */
    BAD(rank, 17, LORA4J_ERR_INVALID_ARGUMENT, "'blk.0.attn_k.weight'");
    BAD(rank, 33, LORA4J_ERR_INVALID_ARGUMENT, "'blk.0.attn_q.weight'");
    BAD(targets, 0, LORA4J_ERR_INVALID_ARGUMENT, "no target");
    BAD(targets, 0x80 | LORA4J_TARGET_ATTN_Q, LORA4J_ERR_INVALID_ARGUMENT, "unknown target bits 0x80");
    BAD(layer_begin, 2, LORA4J_ERR_INVALID_ARGUMENT, "layer range [2, 0)");
    BAD(layer_begin, -1, LORA4J_ERR_INVALID_ARGUMENT, "layer range");
    BAD(layer_end, 3, LORA4J_ERR_INVALID_ARGUMENT, "layer range [0, 3)");
    BAD(dropout, 1.0f, LORA4J_ERR_INVALID_ARGUMENT, "dropout");
    BAD(dropout, -0.1f, LORA4J_ERR_INVALID_ARGUMENT, "dropout");
    BAD(dropout, NAN, LORA4J_ERR_INVALID_ARGUMENT, "dropout");
    BAD(alpha, 0.0f, LORA4J_ERR_INVALID_ARGUMENT, "alpha");
    BAD(alpha, INFINITY, LORA4J_ERR_INVALID_ARGUMENT, "alpha");
    BAD(init, 2, LORA4J_ERR_INVALID_ARGUMENT, "init");
    BAD(bias, 3, LORA4J_ERR_INVALID_ARGUMENT, "bias");
#undef BAD
    /* rank 16 fits k/v exactly; a layer range and a subset of targets */
    p = lora4j_lora_default_params();
    p.rank = 16;
    p.targets = LORA4J_TARGET_ATTN_Q | LORA4J_TARGET_ATTN_V;
    p.layer_begin = 1;
    CHECK_OK(lora4j_adapter_new(m, &p, &ad));
    lora4j_adapter_info info;
    lora4j_lora_pair a, b;
    CHECK_OK(lora4j_adapter_get_info(ad, &info));
    CHECK(info.n_pairs == 2);
    CHECK_OK(lora4j_adapter_get_pair(ad, 0, &a));
    CHECK_OK(lora4j_adapter_get_pair(ad, 1, &b));
    CHECK(strcmp(a.base_name, "blk.1.attn_q.weight") == 0 && strcmp(b.base_name, "blk.1.attn_v.weight") == 0);
    lora4j_adapter_free(ad);
}

static void test_bias_modes(void) {
    fx_model q = lf_tiny();
    q.arch = "qwen2";
    q.qkv_bias = 1;
    lora4j_model *m = lf_load(&q, "qwen2.gguf");
    if (!m) return;
    lora4j_lora_params p = lora4j_lora_default_params();
    p.rank = 4;
    p.targets = LORA4J_TARGET_ATTN_Q | LORA4J_TARGET_ATTN_OUTPUT;
    p.bias = LORA4J_LORA_BIAS_LORA_ONLY;
    lora4j_adapter *ad = NULL;
    lora4j_adapter_info info;
    CHECK_OK(lora4j_adapter_new(m, &p, &ad));
    CHECK_OK(lora4j_adapter_get_info(ad, &info));
    CHECK(info.n_pairs == 4 && info.n_biases == 2);
    lora4j_lora_pair e;
    CHECK_OK(lora4j_adapter_get_pair(ad, 0, &e));
    CHECK(e.target == LORA4J_TARGET_ATTN_Q && e.bias_delta && e.bias_delta[0] == 0.0f);
    CHECK_OK(lora4j_adapter_get_pair(ad, 1, &e));
    CHECK(e.target == LORA4J_TARGET_ATTN_OUTPUT && !e.bias_delta);
    /* per layer: q and o pairs of rank 4 on 32 -> 32, and q's 32 bias values */
    CHECK(info.n_params == 2 * (2 * 4 * 64 + 32));
    CHECK_FAIL(lora4j_adapter_save(ad, tmp_path("bias.gguf")), LORA4J_ERR_UNSUPPORTED,
               "cannot carry trained biases; export to PEFT or merge instead");
    CHECK(access(tmp_path("bias.gguf"), F_OK) != 0);
    lora4j_adapter_free(ad);

    /* all: every q/k/v bias, unadapted ones as bias-only entries */
    p.targets = LORA4J_TARGET_FFN_UP;
    p.bias = LORA4J_LORA_BIAS_ALL;
    CHECK_OK(lora4j_adapter_new(m, &p, &ad));
    CHECK_OK(lora4j_adapter_get_info(ad, &info));
    CHECK(info.n_pairs == 8 && info.n_biases == 6);
    CHECK_OK(lora4j_adapter_get_pair(ad, 1, &e));
    CHECK(e.target == LORA4J_TARGET_ATTN_K && e.rank == 0 && !e.a && !e.b && e.bias_delta && e.n_out == 16);
    CHECK_OK(lora4j_adapter_get_pair(ad, 3, &e));
    CHECK(e.target == LORA4J_TARGET_FFN_UP && e.rank == 4 && !e.bias_delta);
    lora4j_adapter_free(ad);
    lora4j_model_free(m);
}

static void test_llama_bias_all(lora4j_model *m) {
    lora4j_lora_params p = lora4j_lora_default_params();
    p.bias = LORA4J_LORA_BIAS_ALL;
    lora4j_adapter *ad = NULL;
    lora4j_adapter_info info;
    CHECK_OK(lora4j_adapter_new(m, &p, &ad));
    CHECK_OK(lora4j_adapter_get_info(ad, &info));
    CHECK(info.n_pairs == 14 && info.n_biases == 0); /* llama has no biases: 'all' adds nothing */
    lora4j_adapter_free(ad);
}

static void test_round_trip(lora4j_model *m) {
    lora4j_lora_params p = lora4j_lora_default_params();
    p.rank = 4;
    p.alpha = 6;
    p.rslora = 1;
    lora4j_adapter *ad = NULL, *back = NULL;
    CHECK_OK(lora4j_adapter_new(m, &p, &ad));
    if (!ad) return;
    lf_randomize(ad, 99, 0.5f);
    const char *path = tmp_path("rt.gguf");
    CHECK_OK(lora4j_adapter_save(ad, path));
    /* the file as llama.cpp reads it */
    lora4j_gguf *g = NULL;
    CHECK_OK(lora4j_gguf_open(path, &g));
    if (g) {
        double alpha = 0;
        const char *s = NULL;
        uint64_t len;
        CHECK_OK(lora4j_gguf_get_scalar(g, lora4j_gguf_find_key(g, "adapter.lora.alpha"), NULL, &alpha));
        CHECK(fabs(alpha - 12.0) < 1e-5); /* rsLoRA: 6 * sqrt(4) so that alpha / r = 6 / sqrt(4) */
        CHECK(lora4j_gguf_kv_type(g, lora4j_gguf_find_key(g, "adapter.lora.alpha")) == LORA4J_GGUF_FLOAT32);
        CHECK_OK(lora4j_gguf_get_string(g, lora4j_gguf_find_key(g, "general.type"), &s, &len));
        CHECK(s && strcmp(s, "adapter") == 0);
        CHECK_OK(lora4j_gguf_get_string(g, lora4j_gguf_find_key(g, "adapter.type"), &s, &len));
        CHECK(s && strcmp(s, "lora") == 0);
        CHECK_OK(lora4j_gguf_get_string(g, lora4j_gguf_find_key(g, "general.architecture"), &s, &len));
        CHECK(s && strcmp(s, "llama") == 0);
        CHECK(lora4j_gguf_n_tensors(g) == 28);
        lora4j_tensor_info ti;
        CHECK_OK(lora4j_gguf_tensor_info(g, lora4j_gguf_find_tensor(g, "blk.1.ffn_down.weight.lora_a"), &ti));
        CHECK(ti.ne[0] == 48 && ti.ne[1] == 4 && ti.type == LORA4J_TYPE_F32);
        CHECK_OK(lora4j_gguf_tensor_info(g, lora4j_gguf_find_tensor(g, "blk.1.ffn_down.weight.lora_b"), &ti));
        CHECK(ti.ne[0] == 4 && ti.ne[1] == 32);
        lora4j_gguf_close(g);
    }
    CHECK_OK(lora4j_adapter_load(m, path, &back));
    if (back) {
        lora4j_adapter_info a, b;
        CHECK_OK(lora4j_adapter_get_info(ad, &a));
        CHECK_OK(lora4j_adapter_get_info(back, &b));
        CHECK(b.n_pairs == a.n_pairs && b.n_params == a.n_params && b.rank == 4 && !b.rslora);
        CHECK(fabs(b.scale - a.scale) < 1e-6 && fabs(a.scale - 3.0f) < 1e-6);
        int same = 1;
        for (int64_t i = 0; i < a.n_pairs; i++) {
            lora4j_lora_pair x, y;
            lora4j_adapter_get_pair(ad, i, &x);
            lora4j_adapter_get_pair(back, i, &y);
            same &= strcmp(x.base_name, y.base_name) == 0 && x.rank == y.rank && x.target == y.target;
            same &= memcmp(x.a, y.a, (size_t)(x.rank * x.n_in) * sizeof(float)) == 0;
            same &= memcmp(x.b, y.b, (size_t)(x.rank * x.n_out) * sizeof(float)) == 0;
        }
        CHECK(same);
        /* the loaded adapter runs in the model exactly as the saved one */
        lora4j_context_params cp = lora4j_context_default_params();
        cp.n_ctx = 16;
        cp.n_threads = 2;
        lora4j_context *ctx = NULL;
        CHECK_OK(lora4j_context_new(m, cp, &ctx));
        const int32_t tok[6] = {1, 7, 3, 63, 0, 12};
        float la[64], lb[64], one = 1.0f;
        const lora4j_adapter *la_list[1] = {ad}, *lb_list[1] = {back};
        if (ctx) {
            CHECK_OK(lora4j_context_set_adapters(ctx, la_list, &one, 1));
            CHECK_OK(lora4j_decode(ctx, tok, NULL, NULL, 6, NULL, la, 64));
            CHECK_OK(lora4j_kv_seq_clear(ctx, 0));
            CHECK_OK(lora4j_context_set_adapters(ctx, lb_list, &one, 1));
            CHECK_OK(lora4j_decode(ctx, tok, NULL, NULL, 6, NULL, lb, 64));
            CHECK(memcmp(la, lb, sizeof la) == 0);
        }
        lora4j_context_free(ctx);
    }
    /* clone: equal values, separate storage */
    lora4j_adapter *c = NULL;
    CHECK_OK(lora4j_adapter_clone(ad, &c));
    if (c) {
        lora4j_lora_pair x, y;
        lora4j_adapter_get_pair(ad, 3, &x);
        lora4j_adapter_get_pair(c, 3, &y);
        CHECK(x.a != y.a && memcmp(x.a, y.a, (size_t)(x.rank * x.n_in) * sizeof(float)) == 0);
        CHECK(strcmp(x.base_name, y.base_name) == 0 && x.base_name != y.base_name);
        y.b[0] += 1.0f;
        CHECK(x.b[0] != y.b[0]);
        lora4j_adapter_info ci;
        CHECK_OK(lora4j_adapter_get_info(c, &ci));
        CHECK(ci.scale == 3.0f && ci.rslora == 1);
    }
    lora4j_adapter_free(c);
    lora4j_adapter_free(back);
    lora4j_adapter_free(ad);
}

/* ---- hand-made adapter files ---------------------------------------------------------------- */

typedef struct tensor_spec {
    const char *name;
    int64_t ne0, ne1;
    int32_t type;
} tensor_spec;

static lora4j_status_t write_adapter(const char *path, const char *arch, const char *gtype, const tensor_spec *t,
                                     int n) {
    lora4j_gguf_writer *w = NULL;
    lora4j_status_t st = lora4j_gguf_writer_new(&w);
    float alpha = 8;
    if (st == LORA4J_OK && arch) st = lora4j_gguf_writer_set_string(w, "general.architecture", arch, strlen(arch));
    if (st == LORA4J_OK && gtype) st = lora4j_gguf_writer_set_string(w, "general.type", gtype, strlen(gtype));
    if (st == LORA4J_OK) st = lora4j_gguf_writer_set_string(w, "adapter.type", "lora", 4);
    if (st == LORA4J_OK) st = lora4j_gguf_writer_set_scalar(w, "adapter.lora.alpha", LORA4J_GGUF_FLOAT32, &alpha);
    for (int i = 0; i < n && st == LORA4J_OK; i++) {
        int64_t ne[2] = {t[i].ne0, t[i].ne1}, count = t[i].ne0 * t[i].ne1;
        float *f = malloc((size_t)count * sizeof(float));
        for (int64_t k = 0; k < count; k++) f[k] = 0.01f * (float)(k % 97) - 0.3f;
        int64_t rb = lora4j_row_bytes(t[i].type, t[i].ne0);
        void *data = malloc((size_t)(rb * t[i].ne1));
        if (t[i].type == LORA4J_TYPE_F32) memcpy(data, f, (size_t)count * sizeof(float));
        else st = lora4j_quantize(t[i].type, f, t[i].ne1, t[i].ne0, data, (size_t)(rb * t[i].ne1));
        if (st == LORA4J_OK) st = lora4j_gguf_writer_add_tensor(w, t[i].name, t[i].type, 2, ne, data, (uint64_t)(rb * t[i].ne1));
        free(f);
        free(data);
    }
    if (st == LORA4J_OK) st = lora4j_gguf_writer_write(w, path);
    lora4j_gguf_writer_free(w);
    return st;
}

static void expect_load_error(lora4j_model *m, const char *arch, const char *gtype, const tensor_spec *t, int n,
                              lora4j_status_t want, const char *needle) {
    const char *path = tmp_path("bad.gguf");
    CHECK_OK(write_adapter(path, arch, gtype, t, n));
    lora4j_adapter *ad = NULL;
    CHECK_FAIL(lora4j_adapter_load(m, path, &ad), want, needle);
    CHECK(ad == NULL);
}

static void test_load_checks(lora4j_model *m) {
    const int32_t F = LORA4J_TYPE_F32;
    const tensor_spec good[2] = {{"blk.1.attn_v.weight.lora_a", 32, 4, F}, {"blk.1.attn_v.weight.lora_b", 4, 16, F}};
    expect_load_error(m, "llama", "model", good, 2, LORA4J_ERR_FORMAT, "not a LoRA adapter: 'general.type' is 'model'");
    expect_load_error(m, "llama", NULL, good, 2, LORA4J_ERR_FORMAT, "no 'general.type'");
    expect_load_error(m, "qwen2", "adapter", good, 2, LORA4J_ERR_INVALID_ARGUMENT, "architecture 'qwen2'");
    expect_load_error(m, "llama", "adapter", good, 1, LORA4J_ERR_FORMAT, "has no matching lora_b");
    expect_load_error(m, "llama", "adapter", good + 1, 1, LORA4J_ERR_FORMAT, "has no matching lora_a");
    expect_load_error(m, "llama", "adapter", good, 0, LORA4J_ERR_FORMAT, "no LoRA tensors");
    const tensor_spec transposed[2] = {{"blk.1.attn_v.weight.lora_a", 4, 32, F}, {"blk.1.attn_v.weight.lora_b", 16, 4, F}};
    expect_load_error(m, "llama", "adapter", transposed, 2, LORA4J_ERR_FORMAT, "A/B transposed?");
    const tensor_spec ranks[2] = {{"blk.1.attn_v.weight.lora_a", 32, 4, F}, {"blk.1.attn_v.weight.lora_b", 3, 16, F}};
    expect_load_error(m, "llama", "adapter", ranks, 2, LORA4J_ERR_FORMAT, "lora_a tensor is not transposed");
    const tensor_spec embd[2] = {{"token_embd.weight.lora_a", 4, 64, F}, {"token_embd.weight.lora_b", 4, 32, F}};
    expect_load_error(m, "llama", "adapter", embd, 2, LORA4J_ERR_UNSUPPORTED, "LoRA on 'token_embd.weight'");
    const tensor_spec layer[2] = {{"blk.2.attn_v.weight.lora_a", 32, 4, F}, {"blk.2.attn_v.weight.lora_b", 4, 16, F}};
    expect_load_error(m, "llama", "adapter", layer, 2, LORA4J_ERR_FORMAT, "layer 2, the model has 2");
    const tensor_spec odd[1] = {{"blk.0.attn_v.weight.lora_c", 32, 4, F}};
    expect_load_error(m, "llama", "adapter", odd, 1, LORA4J_ERR_FORMAT, "unexpected tensor 'blk.0.attn_v.weight.lora_c'");
    const tensor_spec q8[2] = {{"blk.1.attn_v.weight.lora_a", 32, 4, LORA4J_TYPE_Q8_0},
                               {"blk.1.attn_v.weight.lora_b", 4, 16, F}};
    expect_load_error(m, "llama", "adapter", q8, 2, LORA4J_ERR_UNSUPPORTED, "adapters must be f32, f16 or bf16");

    /* f16 halves load (as their exact f32 values); a *_norm.weight tensor is ignored */
    const tensor_spec ok[3] = {{"blk.1.attn_v.weight.lora_a", 32, 4, LORA4J_TYPE_F16},
                               {"blk.1.attn_v.weight.lora_b", 4, 16, F},
                               {"blk.0.attn_norm.weight", 32, 1, F}};
    const char *path = tmp_path("ok.gguf");
    CHECK_OK(write_adapter(path, "llama", "adapter", ok, 3));
    lora4j_adapter *ad = NULL;
    CHECK_OK(lora4j_adapter_load(m, path, &ad));
    if (ad) {
        lora4j_adapter_info info;
        lora4j_lora_pair e;
        CHECK_OK(lora4j_adapter_get_info(ad, &info));
        CHECK_OK(lora4j_adapter_get_pair(ad, 0, &e));
        CHECK(info.n_pairs == 1 && info.alpha == 8.0f && info.scale == 2.0f && e.rank == 4);
        CHECK(e.layer == 1 && e.target == LORA4J_TARGET_ATTN_V);
        int exact = 1;
        for (int64_t k = 0; k < 128; k++) {
            float want = 0.01f * (float)(k % 97) - 0.3f;
            uint16_t h;
            lora4j_quantize(LORA4J_TYPE_F16, &want, 1, 1, &h, 2);
            float back;
            lora4j_dequantize(LORA4J_TYPE_F16, &h, 2, &back, 1);
            exact &= e.a[k] == back;
        }
        CHECK(exact);
    }
    lora4j_adapter_free(ad);
    CHECK_FAIL(lora4j_adapter_load(m, tmp_path("missing.gguf"), &ad), LORA4J_ERR_IO, "missing.gguf");
}

static void test_other_model(lora4j_model *m) {
    fx_model wide = lf_tiny();
    wide.n_embd = 48;
    lora4j_model *w = lf_load(&wide, "wide.gguf");
    lora4j_adapter *ad = lf_adapter(m, 4, 8, LORA4J_TARGET_ALL);
    if (!w || !ad) return;
    lora4j_context *ctx = NULL;
    CHECK_OK(lora4j_context_new(w, lora4j_context_default_params(), &ctx));
    const lora4j_adapter *list[1] = {ad};
    float scale = 1;
    CHECK_FAIL(lora4j_context_set_adapters(ctx, list, &scale, 1), LORA4J_ERR_INVALID_ARGUMENT,
               "'blk.0.attn_q.weight' maps 32 -> 32");
    /* and its file does not load into the wider model */
    CHECK_OK(lora4j_adapter_save(ad, tmp_path("narrow.gguf")));
    lora4j_adapter *bad = NULL;
    CHECK_FAIL(lora4j_adapter_load(w, tmp_path("narrow.gguf"), &bad), LORA4J_ERR_FORMAT, "do not fit");
    lora4j_context_free(ctx);
    lora4j_adapter_free(ad);
    lora4j_model_free(w);
}

int main(void) {
    tmpdir_make();
    fx_model tiny = lf_tiny();
    lora4j_model *m = lf_load(&tiny, "tiny.gguf");
    if (m) {
        test_defaults_and_init(m);
        test_validation(m);
        test_llama_bias_all(m);
        test_round_trip(m);
        test_load_checks(m);
        test_other_model(m);
    }
    test_bias_modes();
    lora4j_model_free(m);
    tmpdir_remove();
    return test_summary("test_lora_adapter");
}
