/* The trainer's gradients against central finite differences of the whole objective
 * L = sum_i w_i log p_i, recomputed through lora4j_trainer_logprobs (LoRA pairs and bias deltas,
 * with frozen adapters and packing; full fine-tuning, tied and untied, with frozen layers), and
 * the identities the graph must keep: checkpointing changes nothing, the step's log-probs are
 * the forward's, and the forward equals inference with the same adapters. */
#include "lora_fixture.h"
#include "train/trainer.h"

#define N_ROWS 2
#define N_SEQ 16

static const int k_segments[] = {7, 6, 0}; /* two packed examples and 3 padding tokens per row */

static lora4j_train_params train_params(int full, int ckpt) {
    lora4j_train_params p = lora4j_train_default_params();
    p.n_rows = N_ROWS;
    p.n_seq = N_SEQ;
    p.n_threads = 2;
    p.full = full;
    p.checkpointing = ckpt;
    return p;
}

/* Varied weights (some positive, as RL objectives have) on the predicted tokens. */
static lf_batch make_batch(int n_vocab, uint32_t seed) {
    lf_batch b = lf_batch_make(N_ROWS, N_SEQ, k_segments, n_vocab, seed);
    uint32_t s = seed + 1;
    for (int i = 0; i < N_ROWS * N_SEQ; i++) b.weights[i] *= 2.0f * fx_uniform(&s) + 0.5f;
    return b;
}

static double objective(lora4j_trainer *tr, const lf_batch *b) {
    float lp[N_ROWS * N_SEQ];
    CHECK_OK(lora4j_trainer_logprobs(tr, b->tokens, b->pos, b->seg, 1, lp));
    double L = 0;
    for (int i = 0; i < N_ROWS * N_SEQ; i++) L += (double)b->weights[i] * lp[i];
    return L;
}

typedef struct fd_stats {
    int n;
    double worst; /* largest |fd - g| / (|g| + floor) */
} fd_stats;

/* Compare the accumulated gradient of element k of parameter q with a central difference. */
static void fd_one(lora4j_trainer *tr, const lf_batch *b, const tr_param *q, int64_t k, double h, double floor_,
                   fd_stats *st) {
    const float keep = q->p[k];
    q->p[k] = keep + (float)h;
    double lp = objective(tr, b);
    q->p[k] = keep - (float)h;
    double lm = objective(tr, b);
    q->p[k] = keep;
    const double step = ((double)(keep + (float)h) - (double)(keep - (float)h));
    const double fd = (lp - lm) / step, g = tr->grad[q->off + k];
    const double rel = fabs(fd - g) / (fabs(g) + floor_);
    if (rel > st->worst) st->worst = rel;
    st->n++;
    if (rel > 0.05) {
        fprintf(stderr, "  %s[%lld]: analytic %.6e, finite difference %.6e\n", q->name, (long long)k, g, fd);
    }
}

/* Per parameter tensor: the element with the largest gradient and two others. */
static fd_stats fd_check(lora4j_trainer *tr, const lf_batch *b, const char *only, double h) {
    fd_stats st = {0, 0};
    CHECK_OK(lora4j_trainer_zero_grad(tr));
    CHECK_OK(lora4j_trainer_step(tr, b->tokens, b->pos, b->seg, b->weights, NULL, NULL));
    double gmax = 0;
    for (int64_t i = 0; i < tr->n_train; i++) gmax = fmax(gmax, fabs(tr->grad[i]));
    uint32_t s = 3;
    for (int i = 0; i < tr->n_params; i++) {
        const tr_param *q = &tr->params[i];
        if (only && !strstr(q->name, only)) continue;
        int64_t best = 0;
        for (int64_t k = 1; k < q->n; k++) {
            if (fabs(tr->grad[q->off + k]) > fabs(tr->grad[q->off + best])) best = k;
        }
        fd_one(tr, b, q, best, h, 1e-3 * gmax, &st);
        for (int r = 0; r < 2; r++) fd_one(tr, b, q, (int64_t)(fx_rand(&s) % (uint32_t)q->n), h, 1e-3 * gmax, &st);
    }
    return st;
}

static void test_lora_fd(const char *label, fx_model cfg, int bias_mode, int with_frozen) {
    lora4j_model *m = lf_load(&cfg, "fd.gguf");
    if (!m) return;
    lora4j_lora_params lp = lora4j_lora_default_params();
    lp.rank = 4;
    lp.alpha = 8;
    lp.bias = bias_mode;
    lora4j_adapter *ad = NULL, *fr = NULL;
    CHECK_OK(lora4j_adapter_new(m, &lp, &ad));
    lp.rank = 2;
    lp.bias = 0;
    lp.targets = LORA4J_TARGET_ATTN_V | LORA4J_TARGET_FFN_UP | LORA4J_TARGET_ATTN_OUTPUT;
    CHECK_OK(lora4j_adapter_new(m, &lp, &fr));
    if (!ad || !fr) return;
    lf_randomize(ad, 11, 0.25f);
    lf_randomize(fr, 12, 0.25f);
    const lora4j_adapter *frozen[1] = {fr};
    const float fs = 0.8f;
    lora4j_train_params tp = train_params(0, 0);
    lora4j_trainer *tr = NULL;
    CHECK_OK(lora4j_trainer_new(m, ad, frozen, &fs, with_frozen, &tp, &tr));
    if (tr) {
        lf_batch b = make_batch(cfg.n_vocab, 21);
        fd_stats st = fd_check(tr, &b, NULL, 1e-2);
        printf("  LoRA %-32s %3d gradients vs finite differences, worst relative gap %.2e\n", label, st.n, st.worst);
        CHECK(st.n > 80 && st.worst < 0.02);
        lf_batch_free(&b);
    }
    lora4j_trainer_free(tr);
    lora4j_adapter_free(ad);
    lora4j_adapter_free(fr);
    lora4j_model_free(m);
}

static void test_full_fd(const char *label, fx_model cfg, int freeze) {
    lora4j_model *m = lf_load(&cfg, "full.gguf");
    if (!m) return;
    lora4j_train_params tp = train_params(1, 0);
    tp.freeze_layers = freeze;
    lora4j_trainer *tr = NULL;
    CHECK_OK(lora4j_trainer_new(m, NULL, NULL, NULL, 0, &tp, &tr));
    if (tr) {
        int has_embd = 0, has_l0 = 0;
        for (int i = 0; i < tr->n_params; i++) {
            has_embd |= strcmp(tr->params[i].name, "token_embd.weight") == 0;
            has_l0 |= strncmp(tr->params[i].name, "blk.0.", 6) == 0;
        }
        CHECK(has_embd == (freeze == 0) && has_l0 == (freeze == 0));
        lf_batch b = make_batch(cfg.n_vocab, 31);
        fd_stats st = fd_check(tr, &b, NULL, 1e-2);
        printf("  full %-32s %3d gradients vs finite differences, worst relative gap %.2e\n", label, st.n, st.worst);
        CHECK(st.n >= 3 * tr->n_params && st.worst < 0.02);
        lf_batch_free(&b);
    }
    lora4j_trainer_free(tr);
    lora4j_model_free(m);
}

/* Accumulated gradients after one step of each batch (copied out). */
static float *grads_of(lora4j_trainer *tr, const lf_batch *b, int n_batches) {
    CHECK_OK(lora4j_trainer_zero_grad(tr));
    for (int k = 0; k < n_batches; k++) CHECK_OK(lora4j_trainer_step(tr, b[k].tokens, b[k].pos, b[k].seg, b[k].weights, NULL, NULL));
    float *g = malloc((size_t)tr->n_train * sizeof(float));
    memcpy(g, tr->grad, (size_t)tr->n_train * sizeof(float));
    return g;
}

static void test_checkpointing(lora4j_model *m, int full) {
    lora4j_lora_params lp = lora4j_lora_default_params();
    lp.rank = 4;
    lp.dropout = 0.25f; /* the masks must be regenerated identically */
    lora4j_adapter *ad = NULL;
    if (!full) {
        CHECK_OK(lora4j_adapter_new(m, &lp, &ad));
        if (!ad) return;
        lf_randomize(ad, 41, 0.25f);
    }
    lora4j_train_params p0 = train_params(full, 0), p1 = train_params(full, 1);
    lora4j_trainer *t0 = NULL, *t1 = NULL;
    CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &p0, &t0));
    CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &p1, &t1));
    if (t0 && t1) {
        lf_batch b[2] = {make_batch(64, 51), make_batch(64, 52)};
        float *g0 = grads_of(t0, b, 2), *g1 = grads_of(t1, b, 2);
        CHECK(t0->n_train == t1->n_train && memcmp(g0, g1, (size_t)t0->n_train * sizeof(float)) == 0);
        double norm = 0;
        CHECK_OK(lora4j_trainer_grad_norm(t1, &norm));
        printf("  %s, dropout %.2f: checkpointing on and off give identical gradients (norm %.4f)\n",
               full ? "full" : "LoRA", full ? 0.0 : lp.dropout, norm);
        CHECK(norm > 0);
        /* dropout draws new masks each micro-step: the same batch twice differs */
        if (!full) {
            float *g2 = grads_of(t0, b, 1), *g3 = grads_of(t0, b, 1);
            CHECK(memcmp(g2, g3, (size_t)t0->n_train * sizeof(float)) != 0);
            free(g2);
            free(g3);
        }
        free(g0);
        free(g1);
        lf_batch_free(&b[0]);
        lf_batch_free(&b[1]);
    }
    lora4j_trainer_free(t0);
    lora4j_trainer_free(t1);
    lora4j_adapter_free(ad);
}

/* Inference log-probs of every segment of the batch (ctx with the given adapters). */
static void infer_logprobs(lora4j_model *m, const lora4j_adapter *const *ads, const float *scales, int n_ads,
                           const lf_batch *b, float *out) {
    lora4j_context_params cp = lora4j_context_default_params();
    cp.n_ctx = N_SEQ;
    cp.n_threads = 2;
    cp.exact_f32 = 1;
    lora4j_context *ctx = NULL;
    CHECK_OK(lora4j_context_new(m, cp, &ctx));
    if (!ctx) return;
    CHECK_OK(lora4j_context_set_adapters(ctx, ads, scales, n_ads));
    memset(out, 0, sizeof(float) * N_ROWS * N_SEQ);
    for (int i = 0; i < N_ROWS * N_SEQ;) {
        int j = i;
        while (j < N_ROWS * N_SEQ && b->seg[j] == b->seg[i] && j / N_SEQ == i / N_SEQ) j++;
        if (b->seg[i] >= 0 && j - i > 1) {
            CHECK_OK(lora4j_kv_seq_clear(ctx, 0));
            CHECK_OK(lora4j_sequence_logprobs(ctx, 0, b->tokens + i, j - i, out + i + 1));
        }
        i = j;
    }
    lora4j_context_free(ctx);
}

static double gap(const float *a, const float *b) {
    double d = 0;
    for (int i = 0; i < N_ROWS * N_SEQ; i++) d = fmax(d, fabs((double)a[i] - b[i]));
    return d;
}

static void test_matches_inference(lora4j_model *m) {
    lora4j_adapter *ad = lf_adapter(m, 4, 8, LORA4J_TARGET_ALL), *fr = lf_adapter(m, 2, 2, LORA4J_TARGET_ATTN_K);
    if (!ad || !fr) return;
    lf_randomize(ad, 61, 0.3f);
    lf_randomize(fr, 62, 0.3f);
    const lora4j_adapter *frozen[1] = {fr}, *both[2] = {fr, ad};
    const float scales[2] = {0.6f, 1.0f};
    lora4j_train_params tp = train_params(0, 0);
    lora4j_trainer *tr = NULL, *plain = NULL, *full = NULL;
    CHECK_OK(lora4j_trainer_new(m, ad, frozen, scales, 1, &tp, &tr));
    CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &tp, &plain));
    lora4j_train_params fp = train_params(1, 0);
    CHECK_OK(lora4j_trainer_new(m, NULL, NULL, NULL, 0, &fp, &full));
    if (!tr || !plain || !full) return;
    lf_batch b = make_batch(64, 71);
    float got[N_ROWS * N_SEQ], want[N_ROWS * N_SEQ], stepped[N_ROWS * N_SEQ];

    CHECK_OK(lora4j_trainer_logprobs(plain, b.tokens, b.pos, b.seg, 0, got));
    infer_logprobs(m, NULL, NULL, 0, &b, want);
    double d_base = gap(got, want);
    CHECK_OK(lora4j_trainer_logprobs(full, b.tokens, b.pos, b.seg, 0, got));
    double d_full = gap(got, want);
    CHECK_OK(lora4j_trainer_logprobs(tr, b.tokens, b.pos, b.seg, 0, got));
    infer_logprobs(m, frozen, scales, 1, &b, want);
    double d_frozen = gap(got, want);
    CHECK_OK(lora4j_trainer_logprobs(tr, b.tokens, b.pos, b.seg, 1, got));
    infer_logprobs(m, both, scales, 2, &b, want);
    double d_policy = gap(got, want);
    printf("  log-probs vs inference: base %.2e, full-FT trainer %.2e, frozen only %.2e, policy %.2e\n", d_base,
           d_full, d_frozen, d_policy);
    CHECK(d_base < 2e-5 && d_full < 2e-5 && d_frozen < 2e-5 && d_policy < 2e-5);
    /* the step reports the same log-probs and L = sum w log p */
    double L = 0, sum = 0;
    CHECK_OK(lora4j_trainer_step(tr, b.tokens, b.pos, b.seg, b.weights, stepped, &L));
    for (int i = 0; i < N_ROWS * N_SEQ; i++) sum += (double)b.weights[i] * stepped[i];
    CHECK(gap(stepped, got) == 0 && fabs(L - sum) < 1e-6 && L > 0);
    for (int i = 0; i < N_ROWS * N_SEQ; i++) {
        int first = b.seg[i] < 0 || i % N_SEQ == 0 || b.seg[i - 1] != b.seg[i];
        if (first) CHECK(stepped[i] == 0.0f);
        else CHECK(stepped[i] < 0.0f);
    }
    lf_batch_free(&b);
    lora4j_trainer_free(tr);
    lora4j_trainer_free(plain);
    lora4j_trainer_free(full);
    lora4j_adapter_free(ad);
    lora4j_adapter_free(fr);
}

int main(void) {
    tmpdir_make();
    fx_model tiny = lf_tiny();
    test_lora_fd("llama GQA, frozen adapter", tiny, LORA4J_LORA_BIAS_NONE, 1);
    fx_model qwen = lf_tiny();
    qwen.arch = "qwen2";
    qwen.qkv_bias = 1;
    test_lora_fd("qwen2, bias deltas (all)", qwen, LORA4J_LORA_BIAS_ALL, 0);
    test_full_fd("llama untied", tiny, 0);
    test_full_fd("qwen2 biases, first layer frozen", qwen, 1);
    fx_model tied = lf_tiny();
    tied.tied = 1;
    test_full_fd("llama tied embedding", tied, 0);
    lora4j_model *m = lf_load(&tiny, "tiny.gguf");
    if (m) {
        test_checkpointing(m, 0);
        test_checkpointing(m, 1);
        test_matches_inference(m);
    }
    lora4j_model_free(m);
    tmpdir_remove();
    return test_summary("test_trainer_grad");
}
