/* LoRA training and generation throughput on a CUDA device, through the public C API alone.
 *
 * Writes a random llama-shaped model to a temporary GGUF (default: TinyLlama-1.1B's shape, every
 * 2-D weight Q4_K; the blocks are random bytes with sane f16 scales, so no quantization runs),
 * then on device 0:
 *   - trains LoRA r=16 alpha=32 on all seven projections, seq 1024, for each batch size asked
 *     (one SFT micro-batch plus an AdamW step per step): ms/step, tokens/s, the memory plan and
 *     the device memory the process holds at its peak (total - free from lora4j_cuda_device_info,
 *     minus the same before the model was loaded; every device buffer is planned and allocated
 *     when the trainer is created, so the samples after its steps are the peak);
 *   - greedy batched decoding with an r=16 adapter applied (its LoRA terms computed, as RL
 *     sampling runs): 8 sequences x 128 new tokens, one decode call per step for all of them;
 *   - with --plan-7b, the memory plan of a 7B-shaped model (a second, larger file).
 * --plan prints the memory plan of each batch size, without and with checkpointing, before
 * anything runs (with --no-train --no-gen: only the plans; no trainer is created).
 * Lines starting with "RESULT" are for scripts/gpu-check; the rest is for people.
 *
 *   bench_cuda_train [--small] [--type q4_k] [--batch 1,4,8] [--seq 1024] [--rank 16]
 *                    [--steps 5] [--warmup 2] [--ckpt] [--device 0|-1] [--gen-seqs 8]
 *                    [--gen-tokens 128] [--no-gen] [--no-train] [--plan] [--plan-7b]
 *                    [--embd N --layers N --heads N --kv-heads N --ff N --vocab N]
 *
 * The backend library is LORA4J_CUDA_LIBRARY when set, else the one this program was built with
 * (the GPU library for bench_cuda_train, the CPU emulation for bench_cuda_train_emu). Exits 77
 * when no CUDA device can be used (the reason is printed). --device -1 runs the same on the CPU
 * engine.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lora4j.h"

#include "../../bench/bench_util.h"

#define MB (1.0 / (1024.0 * 1024.0))

typedef struct shape {
    int32_t n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab;
} shape;

static const shape k_tinyllama = {2048, 22, 32, 4, 5632, 32000};
static const shape k_llama7b = {4096, 32, 32, 32, 11008, 32000};
static const shape k_small = {256, 2, 4, 2, 512, 512};

typedef struct opts {
    shape sh;
    int32_t type, seq, rank, steps, warmup, ckpt, device, gen_seqs, gen_tokens, plan_7b, no_train, plan;
    int32_t batches[8];
    int n_batches;
} opts;

/* ---- random weights ------------------------------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static float rng_unit(uint64_t *s) { return (float)(rng_next(s) >> 40) * (1.0f / 16777216.0f); }

/* IEEE binary16 of a float well inside its range (round half up; subnormals kept: the Q6_K
 * scales here are below f16's smallest normal). */
static uint16_t f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    const uint32_t sign = (x >> 16) & 0x8000u;
    const int32_t exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
    const uint32_t mant = x & 0x7fffffu;
    if (exp <= 0) {
        if (exp < -10) return (uint16_t)sign;
        const uint32_t m = mant | 0x800000u;
        const int shift = 14 - exp;
        return (uint16_t)(sign | ((m >> shift) + ((m >> (shift - 1)) & 1)));
    }
    uint32_t h = sign | ((uint32_t)exp << 10) | (mant >> 13);
    if (mant & 0x1000u) h++; /* a carry into the exponent is still correct */
    return (uint16_t)h;
}

static uint16_t f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1)) >> 16);
}

/* How each weight type is filled: random bytes, then the f16 scale fields set so that the
 * weights have a standard deviation near 0.02 (d = 0.02 / std_per_d). Q4_K and Q5_K subtract a
 * minimum per sub-block: each sub-block gets min = scale (dmin / d = the middle quant), so its
 * weights are centred as a real quantizer's would be. Plain f16/bf16 get random values. */
typedef struct wtype {
    const char *name;
    int32_t type;
    int d_off, dmin_off;  /* byte offsets of the f16 d and dmin in a block; -1: none */
    float std_per_d;      /* standard deviation of the weights for d = 1 */
    float dmin_per_d;     /* dmin / d */
} wtype;

static const wtype k_wtypes[] = {
    {"q4_k", LORA4J_TYPE_Q4_K, 0, 2, 168.0f, 7.5f},
    {"q5_k", LORA4J_TYPE_Q5_K, 0, 2, 337.0f, 15.5f},
    {"q6_k", LORA4J_TYPE_Q6_K, 208, -1, 1366.0f, 0.0f},
    {"q8_0", LORA4J_TYPE_Q8_0, 0, -1, 73.9f, 0.0f},
    {"q4_0", LORA4J_TYPE_Q4_0, 0, -1, 4.6f, 0.0f},
    {"f16", LORA4J_TYPE_F16, -1, -1, 0.0f, 0.0f},
    {"bf16", LORA4J_TYPE_BF16, -1, -1, 0.0f, 0.0f},
};
#define N_WTYPES (sizeof k_wtypes / sizeof k_wtypes[0])

/* The 12 scale bytes of Q4_K/Q5_K (FORMATS.md) holding 6-bit scale v[j] and min v[j] for each of
 * the 8 sub-blocks. */
static void pack_k_scales(uint8_t *sc, const uint8_t v[8]) {
    for (int k = 0; k < 4; k++) {
        sc[k] = (uint8_t)(v[k] | ((v[k + 4] >> 4) << 6));
        sc[k + 4] = sc[k];
        sc[k + 8] = (uint8_t)((v[k + 4] & 15) | ((v[k + 4] & 15) << 4));
    }
}

static const wtype *wtype_by_id(int32_t type) {
    for (size_t i = 0; i < N_WTYPES; i++)
        if (k_wtypes[i].type == type) return &k_wtypes[i];
    return NULL;
}

/* A pool of random valid blocks; tensors are filled by cycling through it from a different start
 * each, so writing a 4 GB model costs memory copies rather than random numbers. */
#define POOL_BYTES (4u << 20)

typedef struct pool {
    uint8_t *data;
    size_t n_blocks, block_bytes;
} pool;

static int pool_init(pool *p, const wtype *wt, uint64_t seed) {
    p->block_bytes = (size_t)lora4j_type_block_bytes(wt->type);
    p->n_blocks = POOL_BYTES / p->block_bytes;
    p->data = (uint8_t *)malloc(p->n_blocks * p->block_bytes);
    if (!p->data) return 0;
    uint64_t s = seed | 1;
    for (size_t i = 0; i < p->n_blocks; i++) {
        uint8_t *b = p->data + i * p->block_bytes;
        if (wt->type == LORA4J_TYPE_F16 || wt->type == LORA4J_TYPE_BF16) {
            /* uniform in [-0.035, 0.035): standard deviation 0.02 */
            float v = (2.0f * rng_unit(&s) - 1.0f) * 0.0346f;
            uint16_t h = wt->type == LORA4J_TYPE_F16 ? f32_to_f16(v) : f32_to_bf16(v);
            memcpy(b, &h, 2);
            continue;
        }
        for (size_t k = 0; k < p->block_bytes; k++) b[k] = (uint8_t)(rng_next(&s) >> 56);
        const float d = 0.02f / wt->std_per_d * (0.75f + 0.5f * rng_unit(&s));
        const uint16_t hd = f32_to_f16(d), hm = f32_to_f16(d * wt->dmin_per_d);
        memcpy(b + wt->d_off, &hd, 2);
        if (wt->dmin_off >= 0) {
            uint8_t v[8];
            for (int j = 0; j < 8; j++) v[j] = (uint8_t)(rng_next(&s) >> 58);
            memcpy(b + wt->dmin_off, &hm, 2);
            pack_k_scales(b + 4, v);
        }
    }
    return 1;
}

/* Adds a [n_out][n_in] weight filled from the pool, starting at block `start`. */
static lora4j_status_t add_weight(lora4j_gguf_writer *w, const pool *p, int32_t type, const char *name,
                                  int64_t n_in, int64_t n_out, uint64_t start) {
    const int64_t rb = lora4j_row_bytes(type, n_in);
    if (rb < 0) return LORA4J_ERR_INVALID_ARGUMENT;
    const size_t bytes = (size_t)rb * (size_t)n_out, pool_bytes = p->n_blocks * p->block_bytes;
    uint8_t *data = (uint8_t *)malloc(bytes);
    if (!data) return LORA4J_ERR_OUT_OF_MEMORY;
    size_t at = (size_t)(start % p->n_blocks) * p->block_bytes;
    for (size_t done = 0; done < bytes;) {
        size_t n = pool_bytes - at < bytes - done ? pool_bytes - at : bytes - done;
        memcpy(data + done, p->data + at, n);
        done += n;
        at = 0;
    }
    const int64_t ne[2] = {n_in, n_out};
    lora4j_status_t st = lora4j_gguf_writer_add_tensor(w, name, type, 2, ne, data, bytes);
    free(data);
    return st;
}

static lora4j_status_t add_ones(lora4j_gguf_writer *w, const char *name, const float *ones, int64_t n) {
    const int64_t ne[1] = {n};
    return lora4j_gguf_writer_add_tensor(w, name, LORA4J_TYPE_F32, 1, ne, ones, (uint64_t)n * sizeof(float));
}

static lora4j_status_t set_u32(lora4j_gguf_writer *w, const char *key, int32_t v) {
    uint32_t u = (uint32_t)v;
    return lora4j_gguf_writer_set_scalar(w, key, LORA4J_GGUF_UINT32, &u);
}

/* Writes the random model of shape sh with 2-D weights of wt (norms f32 ones, untied output). */
static lora4j_status_t write_model(const shape *sh, const wtype *wt, int32_t n_ctx, const char *path) {
    pool p;
    if (!pool_init(&p, wt, 0x9e3779b97f4a7c15ull)) return LORA4J_ERR_OUT_OF_MEMORY;
    const int64_t E = sh->n_embd, hd = sh->n_embd / sh->n_head;
    const int64_t nq = sh->n_head * hd, nkv = sh->n_head_kv * hd;
    float *ones = (float *)malloc((size_t)E * sizeof(float));
    lora4j_gguf_writer *w = NULL;
    lora4j_status_t st = ones ? lora4j_gguf_writer_new(&w) : LORA4J_ERR_OUT_OF_MEMORY;
    for (int64_t i = 0; ones && i < E; i++) ones[i] = 1.0f;
    const float eps = 1e-5f, base = 10000.0f;
#define W(call) if (st == LORA4J_OK) st = (call)
    W(lora4j_gguf_writer_set_string(w, "general.architecture", "llama", 5));
    W(set_u32(w, "llama.context_length", n_ctx));
    W(set_u32(w, "llama.embedding_length", sh->n_embd));
    W(set_u32(w, "llama.block_count", sh->n_layer));
    W(set_u32(w, "llama.feed_forward_length", sh->n_ff));
    W(set_u32(w, "llama.attention.head_count", sh->n_head));
    W(set_u32(w, "llama.attention.head_count_kv", sh->n_head_kv));
    W(set_u32(w, "llama.rope.dimension_count", (int32_t)hd));
    W(set_u32(w, "llama.vocab_size", sh->n_vocab));
    W(lora4j_gguf_writer_set_scalar(w, "llama.attention.layer_norm_rms_epsilon", LORA4J_GGUF_FLOAT32, &eps));
    W(lora4j_gguf_writer_set_scalar(w, "llama.rope.freq_base", LORA4J_GGUF_FLOAT32, &base));
    uint64_t start = 0;
    const uint64_t stride = 7919; /* blocks between tensor starts in the pool (a prime) */
    W(add_weight(w, &p, wt->type, "token_embd.weight", E, sh->n_vocab, start += stride));
    W(add_ones(w, "output_norm.weight", ones, E));
    W(add_weight(w, &p, wt->type, "output.weight", E, sh->n_vocab, start += stride));
    char name[96];
    for (int32_t il = 0; il < sh->n_layer && st == LORA4J_OK; il++) {
#define TN(s) (snprintf(name, sizeof name, "blk.%d.%s", il, s), name)
        W(add_ones(w, TN("attn_norm.weight"), ones, E));
        W(add_weight(w, &p, wt->type, TN("attn_q.weight"), E, nq, start += stride));
        W(add_weight(w, &p, wt->type, TN("attn_k.weight"), E, nkv, start += stride));
        W(add_weight(w, &p, wt->type, TN("attn_v.weight"), E, nkv, start += stride));
        W(add_weight(w, &p, wt->type, TN("attn_output.weight"), nq, E, start += stride));
        W(add_ones(w, TN("ffn_norm.weight"), ones, E));
        W(add_weight(w, &p, wt->type, TN("ffn_gate.weight"), E, sh->n_ff, start += stride));
        W(add_weight(w, &p, wt->type, TN("ffn_up.weight"), E, sh->n_ff, start += stride));
        W(add_weight(w, &p, wt->type, TN("ffn_down.weight"), sh->n_ff, E, start += stride));
#undef TN
    }
    W(lora4j_gguf_writer_write(w, path));
#undef W
    lora4j_gguf_writer_free(w);
    free(ones);
    free(p.data);
    return st;
}

/* ---- device memory ------------------------------------------------------------------------------- */

/* Bytes the device has in use now (all processes; only this one runs here); 0 for the CPU. */
static double device_used(int32_t device) {
    if (device < 0) return 0;
    lora4j_device_info info;
    if (lora4j_cuda_device_info(device, &info) != LORA4J_OK) bench_fail("device info");
    return (double)(info.total_memory - info.free_memory);
}

static void print_plan(const char *what, const lora4j_memory_plan *p) {
    printf("  plan %s: weights %.0f MB, trainable %.0f MB, optimizer %.0f MB, activations %.0f MB, total %.0f MB\n",
           what, p->weights * MB, p->trainable * MB, p->optimizer * MB, p->activations * MB, p->total * MB);
}

static lora4j_adapter *new_adapter(const lora4j_model *model, int32_t rank) {
    lora4j_lora_params lp = lora4j_lora_default_params();
    lp.rank = rank;
    lp.alpha = 2.0f * (float)rank;
    lp.targets = LORA4J_TARGET_ALL;
    lora4j_adapter *ad = NULL;
    if (lora4j_adapter_new(model, &lp, &ad) != LORA4J_OK) bench_fail("adapter");
    return ad;
}

static lora4j_train_params train_params(const opts *o, int32_t batch, int32_t device) {
    lora4j_train_params tp = lora4j_train_default_params();
    tp.n_rows = batch;
    tp.n_seq = o->seq;
    tp.checkpointing = o->ckpt;
    tp.device = device;
    return tp;
}

/* ---- training ------------------------------------------------------------------------------------- */

/* Prints (and returns) the memory plan of training ad at this batch size. */
static lora4j_memory_plan show_plan(const lora4j_model *model, const lora4j_adapter *ad, const opts *o,
                                    int32_t batch) {
    lora4j_train_params tp = train_params(o, batch, o->device);
    lora4j_memory_plan plan;
    if (lora4j_trainer_plan(model, ad, &tp, &plan) != LORA4J_OK) bench_fail("plan");
    printf("batch %d x seq %d%s\n", batch, o->seq, o->ckpt ? ", checkpointing" : "");
    print_plan(o->device >= 0 ? "(device)" : "(CPU)", &plan);
    return plan;
}

/* --plan: every batch size's plan without and with checkpointing. */
static void show_plans(const lora4j_model *model, const opts *o) {
    lora4j_adapter *ad = new_adapter(model, o->rank);
    opts oc = *o;
    for (int i = 0; i < o->n_batches; i++)
        for (oc.ckpt = 0; oc.ckpt <= 1; oc.ckpt++) show_plan(model, ad, &oc, o->batches[i]);
    fflush(stdout);
    lora4j_adapter_free(ad);
}

static void bench_train(const lora4j_model *model, const opts *o, int32_t batch, double used0) {
    lora4j_adapter *ad = new_adapter(model, o->rank);
    lora4j_train_params tp = train_params(o, batch, o->device);
    const lora4j_memory_plan plan = show_plan(model, ad, o, batch);
    lora4j_trainer *tr = NULL;
    if (lora4j_trainer_new(model, ad, NULL, NULL, 0, &tp, &tr) != LORA4J_OK) bench_fail("trainer");
    double peak = device_used(o->device);

    const int32_t n = batch * o->seq;
    int32_t *tokens = (int32_t *)malloc((size_t)n * sizeof(int32_t));
    int32_t *pos = (int32_t *)malloc((size_t)n * sizeof(int32_t));
    int32_t *seg = (int32_t *)malloc((size_t)n * sizeof(int32_t));
    float *weights = (float *)malloc((size_t)n * sizeof(float));
    double *t = (double *)malloc((size_t)o->steps * sizeof(double));
    if (!tokens || !pos || !seg || !weights || !t) bench_fail("host buffers");
    uint64_t s = 12345;
    for (int32_t i = 0; i < n; i++) {
        tokens[i] = (int32_t)(rng_next(&s) % (uint64_t)o->sh.n_vocab);
        pos[i] = i % o->seq;
        seg[i] = 0;
        /* SFT: the mean cross-entropy over every prediction in the batch */
        weights[i] = pos[i] > 0 ? -1.0f / (float)(batch * (o->seq - 1)) : 0.0f;
    }
    lora4j_optim_params op = lora4j_optim_default_params();
    op.lr = 1e-4f;
    double loss = 0, loss_first = 0;
    for (int32_t k = -o->warmup; k < o->steps; k++) {
        /* the objective and the clipped optimizer step both wait for the device: wall time is
         * the step's time */
        const double t0 = bench_now();
        if (lora4j_trainer_step(tr, tokens, pos, seg, weights, NULL, &loss) != LORA4J_OK) bench_fail("step");
        if (lora4j_trainer_optimizer_step(tr, &op, NULL) != LORA4J_OK) bench_fail("optimizer step");
        if (k >= 0) t[k] = bench_now() - t0;
        if (k == -o->warmup) loss_first = loss;
    }
    const double used = device_used(o->device);
    if (used > peak) peak = used;
    bench_sort(t, o->steps);
    const double med = t[o->steps / 2];
    printf("  %.1f ms/step (min %.1f, max %.1f over %d steps after %d warm-up), %.0f tokens/s, loss %.3f -> %.3f\n",
           med * 1e3, t[0] * 1e3, t[o->steps - 1] * 1e3, o->steps, o->warmup, n / med, loss_first, loss);
    printf("  device memory held: %.0f MB (plan %.0f MB)\n", (peak - used0) * MB, plan.total * MB);
    printf("RESULT train batch=%d seq=%d tokens_per_s=%.1f ms_per_step=%.2f peak_mb=%.1f plan_mb=%.1f\n", batch,
           o->seq, n / med, med * 1e3, (peak - used0) * MB, plan.total * MB);
    fflush(stdout);
    free(t);
    free(tokens);
    free(pos);
    free(seg);
    free(weights);
    lora4j_trainer_free(tr);
    lora4j_adapter_free(ad);
}

/* ---- generation ------------------------------------------------------------------------------------ */

static int32_t argmax(const float *v, int32_t n) {
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

/* Prefill every sequence with `prompt` tokens, then `gen` greedy steps of one token per sequence,
 * all sequences in one decode call per step. Returns the seconds the greedy steps took. */
static double generate(lora4j_context *ctx, const opts *o, int32_t prompt, int32_t gen, double *prefill_s) {
    const int32_t S = o->gen_seqs, V = o->sh.n_vocab;
    int32_t *tok = (int32_t *)malloc((size_t)S * prompt * sizeof(int32_t));
    int32_t *seq = (int32_t *)malloc((size_t)S * prompt * sizeof(int32_t));
    int8_t *want = (int8_t *)malloc((size_t)S * prompt);
    float *logits = (float *)malloc((size_t)S * V * sizeof(float));
    if (!tok || !seq || !want || !logits) bench_fail("host buffers");
    uint64_t s = 777;
    for (int32_t q = 0; q < S; q++) {
        if (lora4j_kv_seq_clear(ctx, q) != LORA4J_OK) bench_fail("kv clear");
        for (int32_t i = 0; i < prompt; i++) {
            tok[q * prompt + i] = (int32_t)(rng_next(&s) % (uint64_t)V);
            seq[q * prompt + i] = q;
            want[q * prompt + i] = i == prompt - 1;
        }
    }
    double t0 = bench_now();
    if (lora4j_decode(ctx, tok, NULL, seq, S * prompt, want, logits, (int64_t)S * V) != LORA4J_OK)
        bench_fail("prefill");
    *prefill_s = bench_now() - t0;
    t0 = bench_now();
    for (int32_t step = 0; step < gen; step++) {
        for (int32_t q = 0; q < S; q++) {
            tok[q] = argmax(logits + (size_t)q * V, V);
            seq[q] = q;
            want[q] = 1;
        }
        if (lora4j_decode(ctx, tok, NULL, seq, S, want, logits, (int64_t)S * V) != LORA4J_OK) bench_fail("decode");
    }
    const double dt = bench_now() - t0;
    free(tok);
    free(seq);
    free(want);
    free(logits);
    return dt;
}

static void bench_generate(const lora4j_model *model, const opts *o, double used0) {
    const int32_t prompt = 16;
    lora4j_adapter *ad = new_adapter(model, o->rank);
    lora4j_context_params cp = lora4j_context_default_params();
    cp.n_ctx = prompt + o->gen_tokens;
    cp.n_seq_max = o->gen_seqs;
    cp.n_batch = o->gen_seqs * prompt;
    cp.device = o->device;
    lora4j_context *ctx = NULL;
    if (lora4j_context_new(model, cp, &ctx) != LORA4J_OK) bench_fail("context");
    const lora4j_adapter *ads[1] = {ad};
    const float scales[1] = {1.0f};
    if (lora4j_context_set_adapters(ctx, ads, scales, 1) != LORA4J_OK) bench_fail("set adapters");
    double prefill;
    const int32_t warm = o->gen_tokens < 8 ? o->gen_tokens : 8;
    generate(ctx, o, prompt, warm, &prefill);
    const double dt = generate(ctx, o, prompt, o->gen_tokens, &prefill);
    const double used = device_used(o->device);
    const double n = (double)o->gen_seqs * o->gen_tokens;
    printf("generation: %d sequences x %d new tokens after a %d-token prompt, LoRA r=%d on\n", o->gen_seqs,
           o->gen_tokens, prompt, o->rank);
    printf("  prefill %.1f ms; decode %.0f tokens/s (%.2f ms per step of %d tokens); device memory held %.0f MB\n",
           prefill * 1e3, n / dt, dt / o->gen_tokens * 1e3, o->gen_seqs, (used - used0) * MB);
    printf("RESULT gen seqs=%d new_tokens=%d tokens_per_s=%.1f ms_per_step=%.3f prefill_ms=%.2f\n", o->gen_seqs,
           o->gen_tokens, n / dt, dt / o->gen_tokens * 1e3, prefill * 1e3);
    fflush(stdout);
    lora4j_context_free(ctx);
    lora4j_adapter_free(ad);
}

/* ---- 7B plan --------------------------------------------------------------------------------------- */

static void plan_7b(const opts *o, const wtype *wt, const char *dir) {
    char path[600];
    snprintf(path, sizeof path, "%s/model-7b.gguf", dir);
    const double t0 = bench_now();
    if (write_model(&k_llama7b, wt, o->seq, path) != LORA4J_OK) bench_fail("writing the 7B model");
    lora4j_model *model = NULL;
    if (lora4j_model_load(path, lora4j_model_default_params(), &model) != LORA4J_OK) bench_fail("loading the 7B model");
    printf("7B shape (n_embd 4096, 32 layers, 32 heads, 32 kv heads, n_ff 11008, vocab 32000), %s, written in %.1f s\n",
           wt->name, bench_now() - t0);
    lora4j_adapter *ad = new_adapter(model, o->rank);
    lora4j_train_params tp = train_params(o, 1, o->device);
    lora4j_memory_plan plan;
    if (lora4j_trainer_plan(model, ad, &tp, &plan) != LORA4J_OK) bench_fail("7B plan");
    printf("  r=%d, seq %d, batch 1%s\n", o->rank, o->seq, o->ckpt ? ", checkpointing" : "");
    print_plan(o->device >= 0 ? "(device)" : "(CPU)", &plan);
    printf("  %s in 8 GB\n", plan.total <= 8.0 * 1024 * 1024 * 1024 ? "fits" : "does NOT fit");
    printf("RESULT plan7b seq=%d batch=1 ckpt=%d plan_mb=%.1f weights_mb=%.1f activations_mb=%.1f\n", o->seq,
           o->ckpt, plan.total * MB, plan.weights * MB, plan.activations * MB);
    if (!o->ckpt) {
        tp.checkpointing = 1;
        if (lora4j_trainer_plan(model, ad, &tp, &plan) != LORA4J_OK) bench_fail("7B plan");
        print_plan(o->device >= 0 ? "(device, checkpointing)" : "(CPU, checkpointing)", &plan);
        printf("RESULT plan7b seq=%d batch=1 ckpt=1 plan_mb=%.1f weights_mb=%.1f activations_mb=%.1f\n", o->seq,
               plan.total * MB, plan.weights * MB, plan.activations * MB);
    }
    fflush(stdout);
    lora4j_adapter_free(ad);
    lora4j_model_free(model);
    remove(path);
}

/* ---- main ------------------------------------------------------------------------------------------- */

static void usage(void) {
    fprintf(stderr, "usage: bench_cuda_train [--small] [--type q4_k|q5_k|q6_k|q8_0|q4_0|f16|bf16] [--batch 1,4,8]\n"
                    "  [--seq N] [--rank N] [--steps N] [--warmup N] [--ckpt] [--device N|-1] [--gen-seqs N]\n"
                    "  [--gen-tokens N] [--no-gen] [--no-train] [--plan] [--plan-7b] [--embd N --layers N --heads N --kv-heads N\n"
                    "  --ff N --vocab N]\n");
    exit(2);
}

static int32_t parse_type(const char *s) {
    for (size_t i = 0; i < N_WTYPES; i++)
        if (strcmp(s, k_wtypes[i].name) == 0) return k_wtypes[i].type;
    usage();
    return -1;
}

static void parse_batches(opts *o, const char *s) {
    o->n_batches = 0;
    for (const char *p = s; *p && o->n_batches < 8;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 4096) usage();
        o->batches[o->n_batches++] = (int32_t)v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') usage();
    }
    if (o->n_batches == 0) usage();
}

static int32_t parse_int(const char *s) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < -1 || v > 1000000) usage();
    return (int32_t)v;
}

static void parse(opts *o, int argc, char **argv) {
    memset(o, 0, sizeof *o);
    o->sh = k_tinyllama;
    o->type = LORA4J_TYPE_Q4_K;
    o->seq = 1024;
    o->rank = 16;
    o->steps = 5;
    o->warmup = 2;
    o->gen_seqs = 8;
    o->gen_tokens = 128;
    o->batches[0] = 4;
    o->n_batches = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--small") == 0) {
            /* a quick smoke run for the CPU emulation */
            o->sh = k_small;
            o->seq = 64;
            o->batches[0] = 2;
            o->steps = 2;
            o->warmup = 1;
            o->gen_seqs = 2;
            o->gen_tokens = 4;
        } else if (strcmp(a, "--ckpt") == 0) o->ckpt = 1;
        else if (strcmp(a, "--no-gen") == 0) o->gen_tokens = 0;
        else if (strcmp(a, "--no-train") == 0) o->no_train = 1;
        else if (strcmp(a, "--plan-7b") == 0) o->plan_7b = 1;
        else if (strcmp(a, "--plan") == 0) o->plan = 1;
        else if (!v) usage();
        else if (strcmp(a, "--type") == 0) o->type = parse_type(argv[++i]);
        else if (strcmp(a, "--batch") == 0) parse_batches(o, argv[++i]);
        else if (strcmp(a, "--seq") == 0) o->seq = parse_int(argv[++i]);
        else if (strcmp(a, "--rank") == 0) o->rank = parse_int(argv[++i]);
        else if (strcmp(a, "--steps") == 0) o->steps = parse_int(argv[++i]);
        else if (strcmp(a, "--warmup") == 0) o->warmup = parse_int(argv[++i]);
        else if (strcmp(a, "--device") == 0) o->device = parse_int(argv[++i]);
        else if (strcmp(a, "--gen-seqs") == 0) o->gen_seqs = parse_int(argv[++i]);
        else if (strcmp(a, "--gen-tokens") == 0) o->gen_tokens = parse_int(argv[++i]);
        else if (strcmp(a, "--embd") == 0) o->sh.n_embd = parse_int(argv[++i]);
        else if (strcmp(a, "--layers") == 0) o->sh.n_layer = parse_int(argv[++i]);
        else if (strcmp(a, "--heads") == 0) o->sh.n_head = parse_int(argv[++i]);
        else if (strcmp(a, "--kv-heads") == 0) o->sh.n_head_kv = parse_int(argv[++i]);
        else if (strcmp(a, "--ff") == 0) o->sh.n_ff = parse_int(argv[++i]);
        else if (strcmp(a, "--vocab") == 0) o->sh.n_vocab = parse_int(argv[++i]);
        else usage();
    }
    const shape *s = &o->sh;
    if (o->seq < 2 || o->rank < 1 || o->steps < 1 || o->warmup < 0 || o->gen_seqs < 1 || o->gen_tokens < 0 || s->n_head < 1 || s->n_head_kv < 1 ||
        s->n_embd % s->n_head != 0 || s->n_head % s->n_head_kv != 0 || s->n_layer < 1 || s->n_vocab < 2 ||
        s->n_ff < 1) {
        fprintf(stderr, "bench_cuda_train: inconsistent shape or sizes\n");
        exit(2);
    }
}

int main(int argc, char **argv) {
    opts o;
    parse(&o, argc, argv);
#ifdef LCU_BENCH_BACKEND
    setenv("LORA4J_CUDA_LIBRARY", LCU_BENCH_BACKEND, 0); /* a caller's choice wins */
#endif
    if (o.device >= 0) {
        const int32_t n_dev = lora4j_cuda_device_count();
        if (n_dev <= o.device) {
            printf("SKIP: no CUDA device %d (%s)\n", o.device, n_dev < 0 ? lora4j_last_error() : "not present");
            return 77;
        }
        lora4j_device_info info;
        if (lora4j_cuda_device_info(o.device, &info) != LORA4J_OK) bench_fail("device info");
        printf("device %d: %s, compute capability %d.%d, %d multiprocessors, %.0f MB%s\n", o.device, info.name,
               info.cc_major, info.cc_minor, info.multiprocessors, info.total_memory * MB,
               info.emulated ? " (CPU emulation)" : "");
    } else {
        printf("device -1: the CPU engine (for comparison; no device memory figures)\n");
    }
    const wtype *wt = wtype_by_id(o.type);
    const shape *s = &o.sh;
    printf("model: n_embd %d, %d layers, %d heads, %d kv heads, n_ff %d, vocab %d, %s weights (random blocks)\n",
           s->n_embd, s->n_layer, s->n_head, s->n_head_kv, s->n_ff, s->n_vocab, wt->name);
    printf("LoRA r=%d alpha=%d on q,k,v,o,gate,up,down; AdamW; seq %d\n", o.rank, 2 * o.rank, o.seq);

    const char *tmp = getenv("TMPDIR");
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/l4-bench-cuda-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/model.gguf", dir);
    const double used0 = device_used(o.device);
    if (!o.no_train || o.gen_tokens > 0 || o.plan) {
        const double t0 = bench_now();
        if (write_model(s, wt, o.seq, path) != LORA4J_OK) bench_fail("writing the model");
        lora4j_model *model = NULL;
        if (lora4j_model_load(path, lora4j_model_default_params(), &model) != LORA4J_OK) bench_fail("loading the model");
        printf("model written and loaded in %.1f s\n", bench_now() - t0);
        fflush(stdout);
        if (o.plan) show_plans(model, &o);
        for (int i = 0; i < o.n_batches && !o.no_train; i++) bench_train(model, &o, o.batches[i], used0);
        if (o.gen_tokens > 0) bench_generate(model, &o, used0);
        lora4j_model_free(model);
        remove(path);
    }
    if (o.plan_7b) plan_7b(&o, wt, dir);
    rmdir(dir);
    return 0;
}
