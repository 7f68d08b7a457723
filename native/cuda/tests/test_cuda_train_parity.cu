/* The CUDA trainer against the CPU trainer, through the public C API only: the backend library
 * is the one LORA4J_CUDA_LIBRARY names (CTest points it at the emulation for the _emu build and
 * at liblora4j-cuda.so for the _gpu one). The same packed micro-batches (segments, padding,
 * weights of varied sizes) go through a CPU trainer and a device-0 trainer of the same model and
 * of equal adapters, per quant type, with and without checkpointing, with dropout (the masks are
 * the CPU's) and with a frozen adapter (bias deltas included); then the error paths.
 *
 * Tolerances: the GPU rounds every GEMM operand and the saved attention (q, k, v) and SwiGLU
 * (g, u) inputs to bf16 (8 bits of mantissa, relative error up to 2^-9 per value) and
 * accumulates in f32, where the CPU computes exact f32 products. Over two layers and the head
 * that leaves log-probs within 1e-2 to 2.8e-2 (measured on the emulation; 1.1e-2 to 1.9e-2
 * with f32 q, k, v, g, u; bound 3e-2) and gradients within a few percent of their largest
 * component (bound 6e-2). */
#include <math.h>

#include "lcu_test.h"
#include "lora_fixture.h"

#define N_ROWS 2
#define N_SEQ 16
#define N (N_ROWS * N_SEQ)
#define LP_BOUND 3e-2
#define GRAD_BOUND 6e-2

static const int k_segments[] = {9, 5, 0}; /* two segments, then two padding tokens, per row */

typedef struct config {
    const char *name;
    int32_t wtype;
    int n_embd, n_ff;      /* quantized rows need multiples of the block: 32, or 256 for K-quants */
    const char *arch;
    int qkv_bias;
    int checkpointing;
    float dropout;
    int frozen;            /* a frozen adapter under the trained one */
} config;

static fx_model model_of(const config *c) {
    fx_model m = fx_default();
    m.arch = c->arch;
    m.n_vocab = 80;
    m.n_embd = c->n_embd;
    m.n_ff = c->n_ff;
    m.n_layer = 2;
    m.n_head = 4;
    m.n_head_kv = 2;
    m.n_ctx_train = 64;
    m.wtype = c->wtype;
    m.qkv_bias = c->qkv_bias;
    return m;
}

static lora4j_adapter *adapter(const lora4j_model *m, int rank, float dropout, int32_t bias, uint32_t seed) {
    lora4j_lora_params lp = lora4j_lora_default_params();
    lp.rank = rank;
    lp.alpha = 2.0f * (float)rank;
    lp.dropout = dropout;
    lp.bias = bias;
    lora4j_adapter *ad = NULL;
    CHECK_OK(lora4j_adapter_new(m, &lp, &ad));
    /* PEFT's init leaves B = 0 (and so dA = 0): random values exercise every gradient */
    if (ad) lf_randomize(ad, seed, 0.15f);
    return ad;
}

/* Every value of an adapter, pair by pair (a then b), into out (n_params floats). */
static void values(const lora4j_adapter *ad, float *out) {
    lora4j_adapter_info info;
    CHECK_OK(lora4j_adapter_get_info(ad, &info));
    int64_t k = 0;
    for (int64_t i = 0; i < info.n_pairs; i++) {
        lora4j_lora_pair p;
        CHECK_OK(lora4j_adapter_get_pair(ad, i, &p));
        for (int64_t j = 0; j < p.rank * p.n_in; j++) out[k++] = p.a[j];
        for (int64_t j = 0; j < p.rank * p.n_out; j++) out[k++] = p.b[j];
    }
}

static int64_t n_values(const lora4j_adapter *ad) {
    lora4j_adapter_info info;
    CHECK_OK(lora4j_adapter_get_info(ad, &info));
    return info.n_params;
}

static double max_abs_diff(const float *a, const float *b, int64_t n) {
    double d = 0.0;
    for (int64_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - b[i]));
    return d;
}

static lora4j_trainer *trainer(const lora4j_model *m, lora4j_adapter *ad, const lora4j_adapter *frozen,
                               const config *c, int device) {
    lora4j_train_params tp = lora4j_train_default_params();
    tp.n_rows = N_ROWS;
    tp.n_seq = N_SEQ;
    tp.n_threads = 2;
    tp.checkpointing = c->checkpointing;
    tp.device = device;
    const float scale = 0.5f;
    lora4j_trainer *tr = NULL;
    CHECK_OK(lora4j_trainer_new(m, ad, frozen ? &frozen : NULL, frozen ? &scale : NULL, frozen ? 1 : 0, &tp, &tr));
    return tr;
}

/* Varied weights: the -1/count of the fixture times a factor in [0.5, 1.5). */
static lf_batch batch(uint32_t seed) {
    lf_batch b = lf_batch_make(N_ROWS, N_SEQ, k_segments, 80, seed);
    uint32_t s = seed * 7 + 1;
    for (int i = 0; i < N; i++) b.weights[i] *= 1.0f + 0.5f * fx_uniform(&s);
    return b;
}

static void run_config(const config *c) {
    printf("%s\n", c->name);
    const fx_model fm = model_of(c);
    char file[64];
    snprintf(file, sizeof file, "%s.gguf", c->name);
    lora4j_model *m = lf_load(&fm, file);
    if (!m) return;
    lora4j_adapter *ad_cpu = adapter(m, 4, c->dropout, LORA4J_LORA_BIAS_NONE, 11);
    lora4j_adapter *ad_gpu = NULL;
    CHECK_OK(lora4j_adapter_clone(ad_cpu, &ad_gpu));
    lora4j_adapter *fz = c->frozen ? adapter(m, 2, 0.0f, c->qkv_bias ? LORA4J_LORA_BIAS_LORA_ONLY : 0, 23) : NULL;
    lora4j_trainer *cpu = trainer(m, ad_cpu, fz, c, -1), *gpu = trainer(m, ad_gpu, fz, c, 0);
    if (!cpu || !gpu) goto done;
    {
        lf_batch b = batch(5);
        float lp_cpu[N], lp_gpu[N];
        /* forward only: the reference (trainable adapter off) and the policy */
        for (int use = 0; use < 2; use++) {
            CHECK_OK(lora4j_trainer_logprobs(cpu, b.tokens, b.pos, b.seg, use, lp_cpu));
            CHECK_OK(lora4j_trainer_logprobs(gpu, b.tokens, b.pos, b.seg, use, lp_gpu));
            const double d = max_abs_diff(lp_cpu, lp_gpu, N);
            printf("  logprobs (adapter %s): max |dlp| %.2e\n", use ? "on " : "off", d);
            CHECK(d < LP_BOUND);
        }
        /* a training step: log-probs, objective, gradient norm */
        double L_cpu = 0, L_gpu = 0, g_cpu = 0, g_gpu = 0;
        CHECK_OK(lora4j_trainer_step(cpu, b.tokens, b.pos, b.seg, b.weights, lp_cpu, &L_cpu));
        CHECK_OK(lora4j_trainer_step(gpu, b.tokens, b.pos, b.seg, b.weights, lp_gpu, &L_gpu));
        const double dlp = max_abs_diff(lp_cpu, lp_gpu, N);
        CHECK_OK(lora4j_trainer_grad_norm(cpu, &g_cpu));
        CHECK_OK(lora4j_trainer_grad_norm(gpu, &g_gpu));
        printf("  step: objective %.5f vs %.5f, max |dlp| %.2e, grad norm %.5f vs %.5f (rel %.2e)\n", L_cpu, L_gpu,
               dlp, g_cpu, g_gpu, fabs(g_cpu - g_gpu) / g_cpu);
        CHECK(dlp < LP_BOUND);
        CHECK(fabs(L_cpu - L_gpu) < LP_BOUND);
        CHECK(g_cpu > 0 && fabs(g_cpu - g_gpu) / g_cpu < GRAD_BOUND);
        /* SGD without momentum, decay or clipping moves each value by -lr·g: the adapters'
         * changes compare the gradients element by element */
        const int64_t nv = n_values(ad_cpu);
        float *before = (float *)malloc((size_t)nv * sizeof(float));
        float *after_cpu = (float *)malloc((size_t)nv * sizeof(float));
        float *after_gpu = (float *)malloc((size_t)nv * sizeof(float));
        values(ad_cpu, before);
        lora4j_optim_params op = lora4j_optim_default_params();
        op.kind = LORA4J_OPTIM_SGD;
        op.lr = 0.1f;
        op.max_grad_norm = 0.0f;
        CHECK_OK(lora4j_trainer_optimizer_step(cpu, &op, NULL));
        CHECK_OK(lora4j_trainer_optimizer_step(gpu, &op, NULL));
        values(ad_cpu, after_cpu);
        values(ad_gpu, after_gpu);
        double moved = 0.0;
        for (int64_t i = 0; i < nv; i++) moved = fmax(moved, fabs((double)after_cpu[i] - before[i]));
        const double dg = max_abs_diff(after_cpu, after_gpu, nv) / moved;
        printf("  SGD step: largest change %.3e, max |dparam| / it %.2e over %lld values\n", moved, dg, (long long)nv);
        CHECK(moved > 0 && dg < GRAD_BOUND);
        if (c->dropout > 0.0f) {
            /* control: the same step without dropout lands far from the CPU's, so the check above
             * does see the masks */
            lora4j_adapter *plain = adapter(m, 4, 0.0f, LORA4J_LORA_BIAS_NONE, 11);
            lora4j_trainer *ctl = plain ? trainer(m, plain, fz, c, 0) : NULL;
            if (ctl) {
                CHECK_OK(lora4j_trainer_step(ctl, b.tokens, b.pos, b.seg, b.weights, NULL, NULL));
                CHECK_OK(lora4j_trainer_optimizer_step(ctl, &op, NULL));
                values(plain, after_gpu);
                const double dc = max_abs_diff(after_cpu, after_gpu, nv) / moved;
                printf("  control, GPU without dropout: max |dparam| / it %.2e\n", dc);
                CHECK(dc > 4 * GRAD_BOUND);
            }
            lora4j_trainer_free(ctl);
            lora4j_adapter_free(plain);
        }
        /* the next step starts from the synced adapters: still in step */
        CHECK_OK(lora4j_trainer_step(cpu, b.tokens, b.pos, b.seg, b.weights, lp_cpu, &L_cpu));
        CHECK_OK(lora4j_trainer_step(gpu, b.tokens, b.pos, b.seg, b.weights, lp_gpu, &L_gpu));
        printf("  second step: objective %.5f vs %.5f\n", L_cpu, L_gpu);
        CHECK(fabs(L_cpu - L_gpu) < LP_BOUND);
        free(before);
        free(after_cpu);
        free(after_gpu);
        lf_batch_free(&b);
    }
done:
    lora4j_trainer_free(cpu);
    lora4j_trainer_free(gpu);
    lora4j_adapter_free(ad_cpu);
    lora4j_adapter_free(ad_gpu);
    lora4j_adapter_free(fz);
    lora4j_model_free(m);
}

/* AdamW over two steps, and optimizer states crossing over: a state saved by the GPU trainer loads
 * into the CPU one and the other way round (same flat layout, same fingerprint). */
static void test_adamw_state(void) {
    printf("AdamW and optimizer state\n");
    const config c = {"adamw", LORA4J_TYPE_Q8_0, 64, 96, "llama", 0, 0, 0.0f, 0};
    const fx_model fm = model_of(&c);
    lora4j_model *m = lf_load(&fm, "adamw.gguf");
    if (!m) return;
    lora4j_adapter *ad_cpu = adapter(m, 4, 0.0f, LORA4J_LORA_BIAS_NONE, 31);
    lora4j_adapter *ad_gpu = NULL;
    CHECK_OK(lora4j_adapter_clone(ad_cpu, &ad_gpu));
    lora4j_trainer *cpu = trainer(m, ad_cpu, NULL, &c, -1), *gpu = trainer(m, ad_gpu, NULL, &c, 0);
    if (cpu && gpu) {
        lf_batch b = batch(9);
        lora4j_optim_params op = lora4j_optim_default_params();
        op.lr = 1e-3f;
        op.weight_decay = 0.01f;
        for (int s = 0; s < 2; s++) {
            CHECK_OK(lora4j_trainer_step(cpu, b.tokens, b.pos, b.seg, b.weights, NULL, NULL));
            CHECK_OK(lora4j_trainer_step(gpu, b.tokens, b.pos, b.seg, b.weights, NULL, NULL));
            double n_cpu = 0, n_gpu = 0;
            CHECK_OK(lora4j_trainer_optimizer_step(cpu, &op, &n_cpu));
            CHECK_OK(lora4j_trainer_optimizer_step(gpu, &op, &n_gpu));
            printf("  step %d: clipped norm %.5f vs %.5f\n", s + 1, n_cpu, n_gpu);
            CHECK(fabs(n_cpu - n_gpu) / n_cpu < GRAD_BOUND);
        }
        const int64_t nv = n_values(ad_cpu);
        float *vc = (float *)malloc((size_t)nv * sizeof(float)), *vg = (float *)malloc((size_t)nv * sizeof(float));
        values(ad_cpu, vc);
        values(ad_gpu, vg);
        /* Adam's first steps move each value by about lr·sign(g): where a gradient is near 0 the
         * two may move apart by up to 2·lr per step; most values agree far better */
        int64_t close = 0;
        for (int64_t i = 0; i < nv; i++) close += fabs((double)vc[i] - vg[i]) < 0.2 * op.lr;
        const double dmax = max_abs_diff(vc, vg, nv);
        printf("  after 2 steps: max |dparam| %.2e (lr %.0e), %.1f%% within 0.2 lr\n", dmax, op.lr,
               100.0 * (double)close / (double)nv);
        CHECK(dmax <= 4.0 * op.lr + 1e-6);
        CHECK(close >= nv * 9 / 10);
        /* the GPU trainer's moments in the CPU trainer, and back */
        const char *gpu_state = tmp_path("gpu.state");
        CHECK_OK(lora4j_trainer_save_state(gpu, gpu_state));
        CHECK_OK(lora4j_trainer_load_state(cpu, gpu_state));
        const char *cpu_state = tmp_path("cpu.state");
        CHECK_OK(lora4j_trainer_save_state(cpu, cpu_state));
        CHECK_OK(lora4j_trainer_load_state(gpu, cpu_state));
        CHECK(lora4j_trainer_steps(gpu) == 2 && lora4j_trainer_steps(cpu) == 2);
        free(vc);
        free(vg);
        lf_batch_free(&b);
    }
    lora4j_trainer_free(cpu);
    lora4j_trainer_free(gpu);
    lora4j_adapter_free(ad_cpu);
    lora4j_adapter_free(ad_gpu);
    lora4j_model_free(m);
}

/* What the GPU does not train, a device that does not exist, and a plan beyond free memory. */
static void test_errors(void) {
    printf("errors\n");
    const config c = {"errors", LORA4J_TYPE_F32, 256, 256, "qwen2", 1, 0, 0.0f, 0};
    const fx_model fm = model_of(&c);
    lora4j_model *m = lf_load(&fm, "errors.gguf");
    if (!m) return;
    lora4j_train_params tp = lora4j_train_default_params();
    tp.n_rows = N_ROWS;
    tp.n_seq = N_SEQ;
    tp.device = 0;
    lora4j_trainer *tr = NULL;
    lora4j_adapter *ad = adapter(m, 4, 0.0f, LORA4J_LORA_BIAS_NONE, 3);
    lora4j_adapter *biased = adapter(m, 4, 0.0f, LORA4J_LORA_BIAS_LORA_ONLY, 3);

    /* a plan beyond free memory, before and after the weights are on the device */
    lora4j_device_info info;
    CHECK_OK(lora4j_cuda_device_info(0, &info));
    lora4j_train_params big = tp;
    big.n_rows = 1 << 12;
    big.n_seq = 1 << 12;
    lora4j_memory_plan plan;
    CHECK_OK(lora4j_trainer_plan(m, ad, &big, &plan));
    printf("  %d x %d tokens plan %lld bytes (weights %lld), device '%s' has %lld free\n", big.n_rows, big.n_seq,
           (long long)plan.total, (long long)plan.weights, info.name, (long long)info.free_memory);
    CHECK(plan.total > info.free_memory);
    CHECK(plan.total == plan.weights + plan.trainable + plan.optimizer + plan.activations);
    char total[32];
    snprintf(total, sizeof total, "%lld bytes", (long long)plan.total);
    CHECK_FAIL(lora4j_trainer_new(m, ad, NULL, NULL, 0, &big, &tr), LORA4J_ERR_OUT_OF_MEMORY, total);
    printf("  %s\n", lora4j_last_error());
    CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &tp, &tr));
    lora4j_trainer_free(tr);
    tr = NULL;
    CHECK_FAIL(lora4j_trainer_new(m, ad, NULL, NULL, 0, &big, &tr), LORA4J_ERR_OUT_OF_MEMORY, "bytes free");
    printf("  %s\n", lora4j_last_error());

    lora4j_train_params full = tp;
    full.full = 1;
    CHECK_FAIL(lora4j_trainer_new(m, NULL, NULL, NULL, 0, &full, &tr), LORA4J_ERR_UNSUPPORTED, "full fine-tuning");
    lora4j_train_params cls = tp;
    cls.n_labels = 2;
    CHECK_FAIL(lora4j_trainer_new(m, ad, NULL, NULL, 0, &cls, &tr), LORA4J_ERR_UNSUPPORTED, "classification");
    CHECK_FAIL(lora4j_trainer_new(m, biased, NULL, NULL, 0, &tp, &tr), LORA4J_ERR_UNSUPPORTED, "bias delta");
    CHECK_FAIL(lora4j_trainer_plan(m, biased, &tp, &plan), LORA4J_ERR_UNSUPPORTED, "bias delta");
    lora4j_train_params far = tp;
    far.device = 7;
    CHECK_FAIL(lora4j_trainer_new(m, ad, NULL, NULL, 0, &far, &tr), LORA4J_ERR_INVALID_ARGUMENT, "device 7");
    CHECK(tr == NULL);
    lora4j_adapter_free(ad);
    lora4j_adapter_free(biased);
    lora4j_model_free(m);
}

int main(void) {
    const int32_t n = lora4j_cuda_device_count();
#ifdef LCU_EMU
    CHECK(n == 1);
    if (n != 1) {
        fprintf(stderr, "the emulation backend did not load: %s\n", lora4j_last_error());
        return 1;
    }
#else
    if (n < 1) {
        printf("SKIP: no CUDA device (%s)\n", n < 0 ? lora4j_last_error() : "0 devices");
        return LCU_TEST_SKIP;
    }
#endif
    lora4j_device_info info;
    CHECK_OK(lora4j_cuda_device_info(0, &info));
    printf("device 0: %s, %lld bytes (%lld free), cc %d.%d%s\n", info.name, (long long)info.total_memory,
           (long long)info.free_memory, info.cc_major, info.cc_minor, info.emulated ? ", emulated" : "");
    tmpdir_make();
    /* name, weights, E, F, arch, qkv bias, checkpointing, dropout, frozen adapter */
    const config configs[] = {
        {"f32", LORA4J_TYPE_F32, 64, 96, "llama", 0, 0, 0.0f, 0},
        {"q8_0-checkpointing", LORA4J_TYPE_Q8_0, 64, 96, "llama", 0, 1, 0.0f, 0},
        {"q4_0-dropout", LORA4J_TYPE_Q4_0, 64, 96, "llama", 0, 0, 0.2f, 0},
        {"q4_k-qwen2-frozen-checkpointing-dropout", LORA4J_TYPE_Q4_K, 256, 256, "qwen2", 1, 1, 0.1f, 1},
    };
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) run_config(&configs[i]);
    test_adamw_state();
    test_errors();
    tmpdir_remove();
    return test_summary("test_cuda_train_parity");
}
