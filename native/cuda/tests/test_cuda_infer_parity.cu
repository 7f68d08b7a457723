/* Inference on a CUDA device (here the backend library named by LORA4J_CUDA_LIBRARY: the CPU
 * emulation, or the GPU build) against the CPU engine's exact f32 path, through the public API:
 *   - logits of a prompt run in several chunks;
 *   - greedy generation of 3 sequences decoded together after sharing a prefix (kv_seq_copy):
 *     the same tokens, and the same logits at every step;
 *   - sequence_logprobs;
 *   - the same with a LoRA adapter set (random non-zero A and B, bias deltas on qwen2);
 *   - error paths (a device out of range; the core's validation in front of the device).
 * Models: small llama (GQA) in Q8_0 and Q4_K, and qwen2 (q/k/v biases) in F32, dims 256 so Q4_K's
 * 256-element blocks fit.
 * Tolerance: the device multiplies bf16-rounded operands (relative error 2^-9 each) with f32
 * accumulation, and keeps the KV cache in bf16; through 2 layers and the head that moves logits
 * of magnitude ~3 by a few 1e-3. We require max |gpu - cpu| <= TOL_ABS + TOL_REL * max |cpu|
 * (3e-2 + 1e-2 * max|cpu|), the same for log-probs, and identical greedy tokens (the CPU's
 * smallest top-2 margin along the way is printed: it must stay above the tolerance for the
 * comparison to be meaningful, and it is checked to). */
#include <math.h>

#include "lora_fixture.h"

#define N_CTX 64
#define N_BATCH 8    /* prompts run in chunks: 24 tokens = 3 chunks, 9 = 8 + 1 */
#define N_PROMPT 24
#define N_PREFIX 12
#define N_SUFFIX 3
#define N_SEQ 3
#define N_GEN 16
#define TOL_ABS 3e-2
#define TOL_REL 1e-2

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

static int parity_ok(const parity *p) { return p->max_abs <= parity_limit(p); }

static void parity_print(const char *label, const char *what, const parity *p) {
    printf("  %-24s %-18s max |gpu - cpu| %.3e (limit %.3e, max |cpu| %.2f)\n", label, what, p->max_abs,
           parity_limit(p), p->max_ref);
}

static lora4j_context *open_ctx(lora4j_model *m, int32_t device, int32_t n_seq) {
    lora4j_context_params cp = lora4j_context_default_params();
    cp.n_ctx = N_CTX;
    cp.n_seq_max = n_seq;
    cp.n_batch = N_BATCH;
    cp.n_threads = 2;
    cp.exact_f32 = 1;
    cp.device = device;
    lora4j_context *ctx = NULL;
    CHECK_OK(lora4j_context_new(m, cp, &ctx));
    return ctx;
}

static void random_tokens(int32_t *tok, int n, int n_vocab, uint32_t seed) {
    uint32_t s = seed;
    for (int i = 0; i < n; i++) tok[i] = (int32_t)(fx_rand(&s) % (uint32_t)n_vocab);
}

/* Logits [N_PROMPT][V] of the prompt, and its log-probs [N_PROMPT-1] on a second context. */
static void run_prompt(lora4j_model *m, int32_t device, const lora4j_adapter *ad, float scale, const int32_t *tok,
                       int V, float *logits, float *lp) {
    lora4j_context *ctx = open_ctx(m, device, 1), *ctx_lp = open_ctx(m, device, 1);
    if (!ctx || !ctx_lp) return;
    if (ad) {
        CHECK_OK(lora4j_context_set_adapters(ctx, &ad, &scale, 1));
        CHECK_OK(lora4j_context_set_adapters(ctx_lp, &ad, &scale, 1));
    }
    int8_t want[N_PROMPT];
    memset(want, 1, sizeof want);
    CHECK_OK(lora4j_decode(ctx, tok, NULL, NULL, N_PROMPT, want, logits, (int64_t)N_PROMPT * V));
    CHECK_OK(lora4j_sequence_logprobs(ctx_lp, 0, tok, N_PROMPT, lp));
    lora4j_context_free(ctx);
    lora4j_context_free(ctx_lp);
}

static int argmax(const float *x, int n, double *margin) {
    int best = 0;
    for (int i = 1; i < n; i++) if (x[i] > x[best]) best = i;
    double second = -INFINITY;
    for (int i = 0; i < n; i++) if (i != best && x[i] > second) second = x[i];
    if (x[best] - second < *margin) *margin = x[best] - second;
    return best;
}

/* Sequence 0 reads the prefix, 1 and 2 copy its cache; each then reads its own suffix (all
 * three in one interleaved batch) and generates N_GEN tokens greedily, one token per sequence
 * per decode call. gen [N_SEQ][N_GEN]; steps [N_GEN+1][N_SEQ][V] the logits each step read. */
static void generate(lora4j_model *m, int32_t device, const lora4j_adapter *ad, float scale,
                     const int32_t *prefix, const int32_t suffix[N_SEQ][N_SUFFIX], int V, int32_t *gen,
                     float *steps, double *margin) {
    lora4j_context *ctx = open_ctx(m, device, N_SEQ);
    if (!ctx) return;
    if (ad) CHECK_OK(lora4j_context_set_adapters(ctx, &ad, &scale, 1));
    CHECK_OK(lora4j_decode(ctx, prefix, NULL, NULL, N_PREFIX, NULL, steps, V));
    for (int32_t s = 1; s < N_SEQ; s++) CHECK_OK(lora4j_kv_seq_copy(ctx, 0, s, N_PREFIX));
    int32_t tok[N_SEQ * N_SUFFIX], seq[N_SEQ * N_SUFFIX];
    int8_t want[N_SEQ * N_SUFFIX];
    for (int j = 0; j < N_SUFFIX; j++) {
        for (int s = 0; s < N_SEQ; s++) {
            tok[j * N_SEQ + s] = suffix[s][j];
            seq[j * N_SEQ + s] = s;
            want[j * N_SEQ + s] = j == N_SUFFIX - 1;
        }
    }
    CHECK_OK(lora4j_decode(ctx, tok, NULL, seq, N_SEQ * N_SUFFIX, want, steps, (int64_t)N_SEQ * V));
    for (int t = 0; t < N_GEN; t++) {
        const float *cur = steps + (int64_t)t * N_SEQ * V;
        for (int s = 0; s < N_SEQ; s++) {
            tok[s] = argmax(cur + (int64_t)s * V, V, margin);
            seq[s] = s;
            gen[s * N_GEN + t] = tok[s];
        }
        CHECK_OK(lora4j_decode(ctx, tok, NULL, seq, N_SEQ, want + N_SEQ * (N_SUFFIX - 1), steps +
                               (int64_t)(t + 1) * N_SEQ * V, (int64_t)N_SEQ * V));
    }
    for (int32_t s = 0; s < N_SEQ; s++) CHECK(lora4j_kv_seq_pos(ctx, s) == N_PREFIX + N_SUFFIX + N_GEN);
    lora4j_context_free(ctx);
}

/* One model: the prompt's logits and log-probs, then generation, without and with an adapter. */
static void check_model(const char *label, fx_model cfg, int32_t bias_mode) {
    char name[96];
    snprintf(name, sizeof name, "%s.gguf", label);
    lora4j_model *m = lf_load(&cfg, name);
    if (!m) return;
    const int V = cfg.n_vocab;
    lora4j_lora_params lp = lora4j_lora_default_params();
    lp.rank = 4;
    lp.alpha = 8;
    lp.targets = LORA4J_TARGET_ALL;
    lp.bias = bias_mode;
    lora4j_adapter *ad = NULL;
    CHECK_OK(lora4j_adapter_new(m, &lp, &ad));
    if (!ad) return;
    lf_randomize(ad, 11, 0.2f);

    int32_t prompt[N_PROMPT], prefix[N_PREFIX], suffix[N_SEQ][N_SUFFIX];
    random_tokens(prompt, N_PROMPT, V, 77);
    random_tokens(prefix, N_PREFIX, V, 78);
    random_tokens(&suffix[0][0], N_SEQ * N_SUFFIX, V, 79);
    const int64_t n_logits = (int64_t)N_PROMPT * V, n_steps = (int64_t)(N_GEN + 1) * N_SEQ * V;
    float *logits[2], *lps[2], *steps[2], *base_gpu = (float *)calloc((size_t)n_logits, sizeof(float));
    for (int k = 0; k < 2; k++) {
        logits[k] = (float *)calloc((size_t)n_logits, sizeof(float));
        lps[k] = (float *)calloc(N_PROMPT, sizeof(float));
        steps[k] = (float *)calloc((size_t)n_steps, sizeof(float));
    }
    for (int with_ad = 0; with_ad < 2; with_ad++) {
        const lora4j_adapter *a = with_ad ? ad : NULL;
        const float scale = 0.8f;
        char what[96];
        snprintf(what, sizeof what, "%s%s", label, with_ad ? " + LoRA" : "");
        int32_t gen[2][N_SEQ * N_GEN];
        double margin[2] = {INFINITY, INFINITY};
        parity pl = {0, 0}, pp = {0, 0}, pg = {0, 0};
        for (int k = 0; k < 2; k++) {
            const int32_t device = k == 0 ? -1 : 0;
            run_prompt(m, device, a, scale, prompt, V, logits[k], lps[k]);
            generate(m, device, a, scale, prefix, suffix, V, gen[k], steps[k], &margin[k]);
        }
        parity_add(&pl, logits[0], logits[1], n_logits);
        parity_add(&pp, lps[0], lps[1], N_PROMPT - 1);
        parity_add(&pg, steps[0], steps[1], n_steps);
        parity_print(what, "prompt logits", &pl);
        parity_print(what, "sequence_logprobs", &pp);
        parity_print(what, "generation logits", &pg);
        const int same = memcmp(gen[0], gen[1], sizeof gen[0]) == 0;
        printf("  %-24s greedy %d x %d tokens %s (smallest cpu top-2 margin %.3f)\n", what, N_SEQ, N_GEN,
               same ? "identical" : "DIFFER", margin[0]);
        CHECK(parity_ok(&pl));
        CHECK(parity_ok(&pp));
        CHECK(parity_ok(&pg));
        CHECK(same);
        CHECK(margin[0] > parity_limit(&pg)); /* else identical tokens would prove little */
        if (!with_ad) {
            memcpy(base_gpu, logits[1], (size_t)n_logits * sizeof(float));
        } else {
            /* the adapter moves the logits well beyond the tolerance, so a device ignoring it fails */
            parity moved = {0, 0};
            parity_add(&moved, base_gpu, logits[1], n_logits);
            printf("  %-24s adapter moves gpu logits by %.3f\n", what, moved.max_abs);
            CHECK(moved.max_abs > 10 * parity_limit(&pl));
        }
    }
    /* adapters switched off again: the base logits */
    lora4j_context *ctx = open_ctx(m, 0, 1);
    if (ctx) {
        const float scale = 0.8f;
        const lora4j_adapter *a = ad;
        int8_t want[N_PROMPT];
        memset(want, 1, sizeof want);
        CHECK_OK(lora4j_context_set_adapters(ctx, &a, &scale, 1));
        CHECK_OK(lora4j_context_set_adapters(ctx, NULL, NULL, 0));
        CHECK_OK(lora4j_decode(ctx, prompt, NULL, NULL, N_PROMPT, want, logits[1], n_logits));
        parity off = {0, 0};
        parity_add(&off, base_gpu, logits[1], n_logits);
        CHECK(off.max_abs == 0);
    }
    lora4j_context_free(ctx);
    for (int k = 0; k < 2; k++) {
        free(logits[k]);
        free(lps[k]);
        free(steps[k]);
    }
    free(base_gpu);
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
    snprintf(needle, sizeof needle, "%d CUDA device", n_devices);
    CHECK_FAIL(lora4j_context_new(m, cp, &ctx), LORA4J_ERR_INVALID_ARGUMENT, needle);
    CHECK_FAIL(lora4j_context_new(m, cp, &ctx), LORA4J_ERR_INVALID_ARGUMENT, "device 5");
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
        float logits[64];
        CHECK_FAIL(lora4j_decode(ctx, bad, NULL, NULL, 2, NULL, logits, 64), LORA4J_ERR_INVALID_ARGUMENT,
                   "out of range");
        CHECK(lora4j_kv_seq_pos(ctx, 0) == 0); /* nothing changed */
        const int32_t ok[3] = {1, 2, 3};
        CHECK_OK(lora4j_decode(ctx, ok, NULL, NULL, 3, NULL, logits, 64));
        CHECK(lora4j_kv_seq_pos(ctx, 0) == 3);
        CHECK_FAIL(lora4j_kv_seq_copy(ctx, 0, 0, 4), LORA4J_ERR_INVALID_ARGUMENT, "sequence 0 holds 3");
        int32_t long_prompt[17] = {0};
        float lp[17];
        CHECK_FAIL(lora4j_sequence_logprobs(ctx, 0, long_prompt, 17, lp), LORA4J_ERR_INVALID_ARGUMENT,
                   "exceed the context");
    }
    lora4j_context_free(ctx);
    lora4j_model_free(m);
}

int main(void) {
    const int32_t n_devices = lora4j_cuda_device_count();
    if (n_devices < 1) {
        printf("test_cuda_infer_parity: no CUDA device (%s)\n", n_devices < 0 ? lora4j_last_error() : "0 devices");
#ifdef LCU_EMU
        return 1; /* the emulation always has its device */
#else
        return 77;
#endif
    }
    tmpdir_make();
    fx_model llama = fx_default();
    llama.n_vocab = 96;
    llama.n_embd = 256;
    llama.n_head = 4;
    llama.n_head_kv = 2;
    llama.n_ff = 256;
    llama.n_ctx_train = N_CTX;
    fx_model q8 = llama, q4k = llama, qwen = llama;
    q8.wtype = LORA4J_TYPE_Q8_0;
    q4k.wtype = LORA4J_TYPE_Q4_K;
    qwen.arch = "qwen2";
    qwen.qkv_bias = 1;
    check_model("qwen2 F32 + biases", qwen, LORA4J_LORA_BIAS_LORA_ONLY);
    check_model("llama GQA Q8_0", q8, LORA4J_LORA_BIAS_NONE);
    check_model("llama GQA Q4_K", q4k, LORA4J_LORA_BIAS_NONE);
    check_errors(llama, n_devices);
    tmpdir_remove();
    return test_summary("test_cuda_infer_parity");
}
