/* Inference on a CUDA device (the backend library named by LORA4J_CUDA_LIBRARY: the CPU emulation,
 * or the GPU build) against the CPU engine's exact f32 path, through the public API:
 *   - logits of a prompt run in two chunks (16 tokens: the tensor-core tiles; 8: the few-rows
 *     path), with and without a LoRA adapter (random non-zero A and B; bias deltas on qwen2);
 *   - sequence_logprobs, with and without the adapter;
 *   - greedy generation of 3 sequences decoded together after sharing a prefix (kv_seq_copy, one
 *     copy partial) and reading their own suffixes in one interleaved batch, with the adapter;
 *   - switching the adapter off again gives the device's base logits exactly; an optimizer step
 *     on the adapter reaches a device context that has it set;
 *   - error paths: a device out of range, and the core's checks in front of a device context.
 * Models: qwen2 (q/k/v biases) in F32 and llama (GQA) in Q8_0 at dim 64, llama in Q4_K at dim 256
 * (its 256-element blocks). The emulation is slow (a context switch per warp collective), so the
 * work is split: log-probs on F32, generation on Q8_0, logits everywhere.
 *
 * Tolerance: the device rounds GEMM operands (activations, dequantized weights, LoRA A/B and their
 * product h) to bf16 (relative 2^-9 each) with f32 accumulation, and keeps the KV cache in bf16;
 * through 2 layers and the head that moves logits of magnitude ~4 by up to ~5e-2 (measured). We
 * require max |device - cpu| <= TOL_ABS + TOL_REL * max |cpu| (5e-2 + 2e-2 * max|cpu|), for logits
 * and log-probs alike.
 * Greedy tokens: random models have near-ties (top-2 margins down to 1e-3), which no bf16 bound
 * can decide. Each side generates freely; the tokens must be identical at every step whose CPU
 * top-2 margin is at least twice the tolerance, and a sequence may diverge only at a near-tie
 * (after which its later steps are not compared). The steps compared are printed. */
#include <math.h>

#include "lcu_test.h"
#include "lora_fixture.h"

#define N_CTX 64
#define N_PROMPT 24
#define PROMPT_BATCH 16 /* 24 tokens: chunks of 16 and 8 */
#define GEN_BATCH 8     /* the prefix of 12: 8 + 4; the batch of 11 after the copies: 8 + 3 */
#define N_PREFIX 12
#define N_SUFFIX 3
#define N_REREAD 2      /* sequence 2 copies all but these prefix positions and reads them again */
#define N_SEQ 3
#define N_GEN 16
#define TOL_ABS 5e-2
#define TOL_REL 2e-2

typedef struct parity {
    double max_abs;   /* max |got - want| */
    double max_ref;   /* max |want| */
} parity;

static void parity_add(parity *p, const float *want, const float *got, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const double d = fabs((double)got[i] - want[i]);
        if (!(d <= p->max_abs)) p->max_abs = d; /* NaN sticks */
        if (fabs(want[i]) > p->max_ref) p->max_ref = fabs(want[i]);
    }
}

static double parity_limit(const parity *p) { return TOL_ABS + TOL_REL * p->max_ref; }

static void parity_check(const char *label, const char *what, const parity *p) {
    printf("  %-26s %-18s max |device - cpu| %.3e (limit %.3e, max |cpu| %.2f)\n", label, what, p->max_abs,
           parity_limit(p), p->max_ref);
    CHECK(p->max_abs <= parity_limit(p));
}

static lora4j_context *open_ctx(lora4j_model *m, int32_t device, int32_t n_seq, int32_t n_batch,
                                const lora4j_adapter *ad, float scale) {
    lora4j_context_params cp = lora4j_context_default_params();
    cp.n_ctx = N_CTX;
    cp.n_seq_max = n_seq;
    cp.n_batch = n_batch;
    cp.n_threads = 2;
    cp.exact_f32 = 1;
    cp.device = device;
    lora4j_context *ctx = NULL;
    CHECK_OK(lora4j_context_new(m, cp, &ctx));
    if (ctx && ad) CHECK_OK(lora4j_context_set_adapters(ctx, &ad, &scale, 1));
    return ctx;
}

static void random_tokens(int32_t *tok, int n, int n_vocab, uint32_t seed) {
    uint32_t s = seed;
    for (int i = 0; i < n; i++) tok[i] = (int32_t)(fx_rand(&s) % (uint32_t)n_vocab);
}

/* Logits [N_PROMPT][V] of the prompt. */
static void prompt_logits(lora4j_model *m, int32_t device, const lora4j_adapter *ad, float scale,
                          const int32_t *tok, int V, float *logits) {
    lora4j_context *ctx = open_ctx(m, device, 1, PROMPT_BATCH, ad, scale);
    int8_t want[N_PROMPT];
    memset(want, 1, sizeof want);
    if (ctx) CHECK_OK(lora4j_decode(ctx, tok, NULL, NULL, N_PROMPT, want, logits, (int64_t)N_PROMPT * V));
    lora4j_context_free(ctx);
}

/* Log-probs [N_PROMPT-1] of the prompt's tokens. */
static void prompt_logprobs(lora4j_model *m, int32_t device, const lora4j_adapter *ad, float scale,
                            const int32_t *tok, float *lp) {
    lora4j_context *ctx = open_ctx(m, device, 1, PROMPT_BATCH, ad, scale);
    if (ctx) CHECK_OK(lora4j_sequence_logprobs(ctx, 0, tok, N_PROMPT, lp));
    lora4j_context_free(ctx);
}

static int argmax(const float *x, int n, float *margin) {
    int best = 0;
    for (int i = 1; i < n; i++) if (x[i] > x[best]) best = i;
    float second = -INFINITY;
    for (int i = 0; i < n; i++) if (i != best && x[i] > second) second = x[i];
    *margin = x[best] - second;
    return best;
}

/* Sequence 0 reads the prefix; 1 copies all of its cache, 2 all but the last N_REREAD positions
 * and reads those again; then each reads its own suffix, all in one interleaved batch, and
 * generates N_GEN tokens greedily, one token per sequence per decode call. gen and margin
 * [N_SEQ][N_GEN]; steps [N_GEN][N_SEQ][V] the logits each token was chosen from. */
static void generate(lora4j_model *m, int32_t device, const lora4j_adapter *ad, float scale, const int32_t *prefix,
                     const int32_t suffix[N_SEQ][N_SUFFIX], int V, int32_t *gen, float *margin, float *steps) {
    lora4j_context *ctx = open_ctx(m, device, N_SEQ, GEN_BATCH, ad, scale);
    if (!ctx) return;
    CHECK_OK(lora4j_decode(ctx, prefix, NULL, NULL, N_PREFIX, NULL, steps, V));
    CHECK_OK(lora4j_kv_seq_copy(ctx, 0, 1, N_PREFIX));
    CHECK_OK(lora4j_kv_seq_copy(ctx, 0, 2, N_PREFIX - N_REREAD));
    enum { N_BATCH_TOK = N_REREAD + N_SEQ * N_SUFFIX };
    int32_t tok[N_BATCH_TOK], seq[N_BATCH_TOK];
    int8_t want[N_BATCH_TOK];
    memset(want, 0, sizeof want);
    for (int j = 0; j < N_REREAD; j++) {
        tok[j] = prefix[N_PREFIX - N_REREAD + j];
        seq[j] = 2;
    }
    for (int j = 0; j < N_SUFFIX; j++) {
        for (int s = 0; s < N_SEQ; s++) {
            const int i = N_REREAD + j * N_SEQ + s;
            tok[i] = suffix[s][j];
            seq[i] = s;
            want[i] = j == N_SUFFIX - 1;
        }
    }
    CHECK_OK(lora4j_decode(ctx, tok, NULL, seq, N_BATCH_TOK, want, steps, (int64_t)N_SEQ * V));
    for (int s = 0; s < N_SEQ; s++) seq[s] = s;
    memset(want, 1, N_SEQ);
    for (int t = 0; t < N_GEN; t++) {
        const float *cur = steps + (int64_t)t * N_SEQ * V;
        for (int s = 0; s < N_SEQ; s++) {
            tok[s] = argmax(cur + (int64_t)s * V, V, &margin[s * N_GEN + t]);
            gen[s * N_GEN + t] = tok[s];
        }
        if (t + 1 < N_GEN) {
            CHECK_OK(lora4j_decode(ctx, tok, NULL, seq, N_SEQ, want, steps + (int64_t)(t + 1) * N_SEQ * V,
                                   (int64_t)N_SEQ * V));
        }
    }
    for (int32_t s = 0; s < N_SEQ; s++) CHECK(lora4j_kv_seq_pos(ctx, s) == N_PREFIX + N_SUFFIX + N_GEN - 1);
    lora4j_context_free(ctx);
}

/* Greedy generation on both sides, compared as the header says. */
static void check_generation(const char *label, lora4j_model *m, const lora4j_adapter *ad, float scale, int V) {
    int32_t prefix[N_PREFIX], suffix[N_SEQ][N_SUFFIX], gen[2][N_SEQ * N_GEN];
    float margin[2][N_SEQ * N_GEN];
    random_tokens(prefix, N_PREFIX, V, 78);
    random_tokens(&suffix[0][0], N_SEQ * N_SUFFIX, V, 79);
    const size_t n_steps = (size_t)N_GEN * N_SEQ * (size_t)V;
    float *steps[2] = {(float *)calloc(n_steps, sizeof(float)), (float *)calloc(n_steps, sizeof(float))};
    for (int k = 0; k < 2; k++) generate(m, k == 0 ? -1 : 0, ad, scale, prefix, suffix, V, gen[k], margin[k], steps[k]);
    parity p = {0, 0};
    int compared = 0, identical = 0, diverged[N_SEQ];
    float min_margin = INFINITY;
    for (int s = 0; s < N_SEQ; s++) {
        int t = 0;
        for (; t < N_GEN; t++) {
            /* same inputs so far: the logits this token was chosen from are comparable */
            const int64_t row = ((int64_t)t * N_SEQ + s) * V;
            parity_add(&p, steps[0] + row, steps[1] + row, V);
            compared++;
            if (margin[0][s * N_GEN + t] < min_margin) min_margin = margin[0][s * N_GEN + t];
            if (gen[0][s * N_GEN + t] != gen[1][s * N_GEN + t]) break;
        }
        diverged[s] = t;
        identical += t == N_GEN;
    }
    parity_check(label, "generation logits", &p);
    for (int s = 0; s < N_SEQ; s++) {
        if (diverged[s] == N_GEN) continue;
        const float m = margin[0][s * N_GEN + diverged[s]];
        printf("  %-26s sequence %d diverges at step %d, a near-tie (cpu top-2 margin %.4f)\n", label, s,
               diverged[s], m);
        CHECK(m < 2 * parity_limit(&p));
    }
    printf("  %-26s greedy: %d of %d sequences identical for all %d tokens, %d steps compared (smallest cpu "
           "top-2 margin %.4f)\n", label, identical, N_SEQ, N_GEN, compared, min_margin);
    free(steps[0]);
    free(steps[1]);
}

/* An optimizer step on the adapter (a CPU trainer's) reaches a device context that has it set:
 * its next forward gives what a fresh device context gives with the updated adapter. */
static void check_adapter_update(lora4j_model *m, lora4j_adapter *ad, float scale, int V) {
    enum { N = 8 };
    const int seg_len[2] = {N, 0};
    lf_batch b = lf_batch_make(1, N, seg_len, V, 21);
    const size_t n_logits = (size_t)N * (size_t)V;
    float *before = (float *)calloc(n_logits, sizeof(float)), *after = (float *)calloc(n_logits, sizeof(float));
    float *fresh = (float *)calloc(n_logits, sizeof(float));
    int8_t want[N];
    memset(want, 1, sizeof want);
    lora4j_context *ctx = open_ctx(m, 0, 1, PROMPT_BATCH, ad, scale);
    lora4j_train_params tp = lora4j_train_default_params();
    tp.n_rows = 1;
    tp.n_seq = N;
    tp.n_threads = 2;
    lora4j_trainer *tr = NULL;
    CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &tp, &tr));
    if (ctx && tr) {
        CHECK_OK(lora4j_decode(ctx, b.tokens, NULL, NULL, N, want, before, (int64_t)n_logits));
        lora4j_optim_params o = lora4j_optim_default_params();
        o.lr = 1e-2f;
        CHECK_OK(lora4j_trainer_step(tr, b.tokens, b.pos, b.seg, b.weights, NULL, NULL));
        CHECK_OK(lora4j_trainer_optimizer_step(tr, &o, NULL));
        CHECK_OK(lora4j_kv_seq_clear(ctx, 0));
        CHECK_OK(lora4j_decode(ctx, b.tokens, NULL, NULL, N, want, after, (int64_t)n_logits));
        lora4j_context *ctx2 = open_ctx(m, 0, 1, PROMPT_BATCH, ad, scale);
        if (ctx2) CHECK_OK(lora4j_decode(ctx2, b.tokens, NULL, NULL, N, want, fresh, (int64_t)n_logits));
        lora4j_context_free(ctx2);
        parity moved = {0, 0};
        parity_add(&moved, before, after, (int64_t)n_logits);
        printf("  %-26s an optimizer step moves the device context's logits by %.3f\n", "adapter update",
               moved.max_abs);
        CHECK(moved.max_abs > 1e-3);
        CHECK(memcmp(after, fresh, n_logits * sizeof(float)) == 0);
    }
    lora4j_trainer_free(tr);
    lora4j_context_free(ctx);
    free(before);
    free(after);
    free(fresh);
    lf_batch_free(&b);
}

enum { WITH_BASE = 1, WITH_LOGPROBS = 2, WITH_GENERATION = 4, WITH_OFF = 8, WITH_UPDATE = 16 };

static void check_model(const char *label, fx_model cfg, int32_t bias_mode, int what) {
    char name[96];
    snprintf(name, sizeof name, "%s.gguf", label);
    lora4j_model *m = lf_load(&cfg, name);
    if (!m) return;
    const int V = cfg.n_vocab;
    const float scale = 0.8f;
    lora4j_lora_params lp = lora4j_lora_default_params();
    lp.rank = 4;
    lp.alpha = 8;
    lp.targets = LORA4J_TARGET_ALL;
    lp.bias = bias_mode;
    lora4j_adapter *ad = NULL;
    CHECK_OK(lora4j_adapter_new(m, &lp, &ad));
    if (!ad) return;
    lf_randomize(ad, 11, 0.2f);

    int32_t prompt[N_PROMPT];
    random_tokens(prompt, N_PROMPT, V, 77);
    const int64_t n_logits = (int64_t)N_PROMPT * V;
    float *logits[2], *base_device = (float *)calloc((size_t)n_logits, sizeof(float));
    for (int k = 0; k < 2; k++) logits[k] = (float *)calloc((size_t)n_logits, sizeof(float));
    for (int with_ad = (what & WITH_BASE) ? 0 : 1; with_ad < 2; with_ad++) {
        const lora4j_adapter *a = with_ad ? ad : NULL;
        char tag[96];
        snprintf(tag, sizeof tag, "%s%s", label, with_ad ? " + LoRA" : "");
        parity pl = {0, 0};
        for (int k = 0; k < 2; k++) prompt_logits(m, k == 0 ? -1 : 0, a, scale, prompt, V, logits[k]);
        parity_add(&pl, logits[0], logits[1], n_logits);
        parity_check(tag, "prompt logits", &pl);
        if (what & WITH_LOGPROBS) {
            float lps[2][N_PROMPT];
            parity pp = {0, 0};
            for (int k = 0; k < 2; k++) prompt_logprobs(m, k == 0 ? -1 : 0, a, scale, prompt, lps[k]);
            parity_add(&pp, lps[0], lps[1], N_PROMPT - 1);
            parity_check(tag, "sequence_logprobs", &pp);
        }
        if (!with_ad) {
            memcpy(base_device, logits[1], (size_t)n_logits * sizeof(float));
        } else if (what & WITH_BASE) {
            /* the adapter moves the logits far beyond the tolerance: a device ignoring it fails */
            parity moved = {0, 0};
            parity_add(&moved, base_device, logits[1], n_logits);
            printf("  %-26s the adapter moves the device logits by %.3f\n", tag, moved.max_abs);
            CHECK(moved.max_abs > 10 * parity_limit(&pl));
        }
    }
    if (what & WITH_GENERATION) {
        char tag[96];
        snprintf(tag, sizeof tag, "%s + LoRA", label);
        check_generation(tag, m, ad, scale, V);
    }
    if (what & WITH_OFF) {
        /* set, then switched off: the device's base logits, bit for bit */
        lora4j_context *ctx = open_ctx(m, 0, 1, PROMPT_BATCH, ad, scale);
        int8_t want[N_PROMPT];
        memset(want, 1, sizeof want);
        if (ctx) {
            CHECK_OK(lora4j_context_set_adapters(ctx, NULL, NULL, 0));
            CHECK_OK(lora4j_decode(ctx, prompt, NULL, NULL, N_PROMPT, want, logits[1], n_logits));
            CHECK(memcmp(base_device, logits[1], (size_t)n_logits * sizeof(float)) == 0);
        }
        lora4j_context_free(ctx);
    }
    if (what & WITH_UPDATE) check_adapter_update(m, ad, scale, V); /* last: it changes the adapter */
    for (int k = 0; k < 2; k++) free(logits[k]);
    free(base_device);
    lora4j_adapter_free(ad);
    lora4j_model_free(m);
}

/* A device out of range, and the core's checks in front of a device context. */
static void check_errors(fx_model cfg, int32_t n_devices) {
    lora4j_model *m = lf_load(&cfg, "errors.gguf");
    if (!m) return;
    lora4j_context_params cp = lora4j_context_default_params();
    CHECK(cp.device == -1);
    cp.n_ctx = 16;
    cp.device = 5;
    lora4j_context *ctx = NULL;
    char needle[64];
    snprintf(needle, sizeof needle, "(%d CUDA device", n_devices);
    CHECK_FAIL(lora4j_context_new(m, cp, &ctx), LORA4J_ERR_INVALID_ARGUMENT, needle);
    CHECK_FAIL(lora4j_context_new(m, cp, &ctx), LORA4J_ERR_INVALID_ARGUMENT, "CUDA device 5 does not exist");
    CHECK(ctx == NULL);
    cp.device = -2;
    CHECK_FAIL(lora4j_context_new(m, cp, &ctx), LORA4J_ERR_INVALID_ARGUMENT, "device -2");

    cp.device = 0;
    CHECK_OK(lora4j_context_new(m, cp, &ctx));
    if (ctx) {
        lora4j_context_params got;
        CHECK_OK(lora4j_context_get_params(ctx, &got));
        CHECK(got.device == 0);
        const int32_t bad[2] = {1, cfg.n_vocab};
        float *logits = (float *)calloc((size_t)cfg.n_vocab, sizeof(float));
        CHECK_FAIL(lora4j_decode(ctx, bad, NULL, NULL, 2, NULL, logits, cfg.n_vocab), LORA4J_ERR_INVALID_ARGUMENT,
                   "out of range");
        CHECK(lora4j_kv_seq_pos(ctx, 0) == 0); /* nothing changed */
        const int32_t ok[3] = {1, 2, 3};
        CHECK_OK(lora4j_decode(ctx, ok, NULL, NULL, 3, NULL, logits, cfg.n_vocab));
        CHECK(lora4j_kv_seq_pos(ctx, 0) == 3);
        CHECK_FAIL(lora4j_kv_seq_copy(ctx, 0, 0, 4), LORA4J_ERR_INVALID_ARGUMENT, "sequence 0 holds 3");
        int32_t long_prompt[14] = {0};
        float lp[14];
        CHECK_FAIL(lora4j_sequence_logprobs(ctx, 0, long_prompt, 14, lp), LORA4J_ERR_INVALID_ARGUMENT,
                   "exceed the context");
        free(logits);
    }
    lora4j_context_free(ctx);
    lora4j_model_free(m);
}

int main(void) {
    const int32_t n_devices = lora4j_cuda_device_count();
    if (n_devices < 1) {
#ifdef LCU_EMU
        printf("test_cuda_infer_parity: no CUDA device (%s)\n", n_devices < 0 ? lora4j_last_error() : "0 devices");
        return 1; /* the emulation always has its device */
#else
        printf("SKIP: no CUDA device (%s)\n", n_devices < 0 ? lora4j_last_error() : "0 devices");
        return LCU_TEST_SKIP;
#endif
    }
    tmpdir_make();
    fx_model small = fx_default();
    small.n_vocab = 96;
    small.n_embd = 64;
    small.n_head = 4;
    small.n_head_kv = 2;
    small.n_ff = 96;
    small.n_ctx_train = N_CTX;
    fx_model qwen = small, q8 = small, q4k = small;
    qwen.arch = "qwen2";
    qwen.qkv_bias = 1;
    q8.wtype = LORA4J_TYPE_Q8_0;
    q4k.wtype = LORA4J_TYPE_Q4_K;
    q4k.n_embd = 256;
    q4k.n_ff = 256;
    check_model("qwen2 F32 + biases", qwen, LORA4J_LORA_BIAS_LORA_ONLY, WITH_BASE | WITH_LOGPROBS | WITH_OFF | WITH_UPDATE);
    check_model("llama GQA Q8_0", q8, LORA4J_LORA_BIAS_NONE, WITH_BASE | WITH_GENERATION);
    check_model("llama GQA Q4_K", q4k, LORA4J_LORA_BIAS_NONE, 0);
    check_errors(small, n_devices);
    tmpdir_remove();
    return test_summary("test_cuda_infer_parity");
}
