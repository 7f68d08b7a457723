/* LoRA training throughput: the configuration, a random model of the stories15M shape
 * (dim 288, 6 layers, 6 heads, ffn 768, vocab 32000, untied output) in f32 and re-encoded as
 * Q8_0 / Q4_0, LoRA r=16 alpha=32 on all seven projections, batch 4 x seq 256, one SFT
 * micro-batch plus an AdamW step per step. Each type runs in its own process so that its peak
 * RSS (getrusage) is its own. Prints the memory plan, tokens/s (min / median / max of the
 * timed steps after the warm-up ones) and GFLOP/s counted as the PyTorch baseline counts them
 * (../shared/bench/torch/llama_lora.py step_flops: full T x T attention, dX through every
 * weight but layer 0's q/k/v, 6·r·(in+out) per adapted linear per token).
 *
 *   bench_train [-t threads] [-s steps] [-w warmup] [--ckpt] [--full] [types...]   types: f32 q8_0 q4_0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tests/model_fixture_build.h"

#include "bench_util.h"

#define N_ROWS 4
#define N_SEQ 256
#define RANK 16
#define ALPHA 32.0f

typedef struct bench_type {
    const char *name;
    int32_t target; /* quantize target; -1: the f32 file itself */
    double want;    /* the target in tokens/s (0: none) */
} bench_type;

static const bench_type k_types[] = {
    {"f32", -1, 1080},
    {"q8_0", LORA4J_TYPE_Q8_0, 0},
    {"q4_0", LORA4J_TYPE_Q4_0, 1440},
};

typedef struct opts {
    int threads, steps, warmup, ckpt, full;
} opts;

static fx_model stories_shape(void) {
    fx_model m = fx_default();
    m.n_vocab = 32000;
    m.n_embd = 288;
    m.n_layer = 6;
    m.n_head = 6;
    m.n_head_kv = 6;
    m.n_ff = 768;
    m.n_ctx_train = N_SEQ;
    return m;
}

/* FLOPs of one step as ../shared/bench/torch/llama_lora.py step_flops counts them. */
static double step_flops(const fx_model *m, int full) {
    const double E = m->n_embd, F = m->n_ff, L = m->n_layer, tok = (double)N_ROWS * N_SEQ;
    const double layer = 4 * E * E + 3 * E * F, total = L * layer + (double)m->n_vocab * E;
    const double attn_fwd = 4.0 * N_ROWS * N_SEQ * (double)N_SEQ * E * L;
    double flops = 2 * total * tok + attn_fwd + 2 * attn_fwd;
    if (full) return flops + 2 * total * tok + 2 * total * tok;
    flops += 2 * total * tok - 2 * (3 * E * E) * tok;                          /* dX, not layer 0 q/k/v */
    flops += 6.0 * RANK * (4 * (E + E) + 2 * (E + F) + (F + E)) * L * tok; /* LoRA fwd, dX, dA+dB */
    return flops;
}

static void print_plan(const lora4j_memory_plan *p) {
    const double mb = 1.0 / (1024 * 1024);
    printf("  plan: weights %.1f MB, trainable %.1f MB, optimizer %.1f MB, activations %.1f MB, total %.1f MB\n",
           p->weights * mb, p->trainable * mb, p->optimizer * mb, p->activations * mb, p->total * mb);
}

/* One type, in a child process: load, plan, train, report. */
static void run_type(const bench_type *bt, const char *path, const opts *o) {
    fx_model shape = stories_shape();
    lora4j_model *model = NULL;
    if (lora4j_model_load(path, lora4j_model_default_params(), &model) != LORA4J_OK) bench_fail("load");
    lora4j_adapter *ad = NULL;
    if (!o->full) {
        lora4j_lora_params lp = lora4j_lora_default_params();
        lp.rank = RANK;
        lp.alpha = ALPHA;
        if (lora4j_adapter_new(model, &lp, &ad) != LORA4J_OK) bench_fail("adapter");
    }
    lora4j_train_params tp = lora4j_train_default_params();
    tp.n_rows = N_ROWS;
    tp.n_seq = N_SEQ;
    tp.n_threads = o->threads;
    tp.checkpointing = o->ckpt;
    tp.full = o->full;
    lora4j_memory_plan plan;
    if (lora4j_trainer_plan(model, ad, &tp, &plan) != LORA4J_OK) bench_fail("plan");
    printf("%s\n", bt->name);
    print_plan(&plan);
    lora4j_trainer *tr = NULL;
    if (lora4j_trainer_new(model, ad, NULL, NULL, 0, &tp, &tr) != LORA4J_OK) bench_fail("trainer");

    const int n = N_ROWS * N_SEQ;
    int32_t *tokens = malloc(n * sizeof *tokens), *pos = malloc(n * sizeof *pos), *seg = malloc(n * sizeof *seg);
    float *weights = malloc(n * sizeof *weights);
    uint32_t s = 9;
    for (int i = 0; i < n; i++) {
        tokens[i] = (int32_t)(fx_rand(&s) % (uint32_t)shape.n_vocab);
        pos[i] = i % N_SEQ;
        seg[i] = 0;
        weights[i] = pos[i] > 0 ? -1.0f / (float)(N_ROWS * (N_SEQ - 1)) : 0.0f;
    }
    lora4j_optim_params op = lora4j_optim_default_params();
    op.lr = 1e-4f;
    op.weight_decay = 0.01f;
    double *t = malloc((size_t)o->steps * sizeof *t), loss = 0;
    for (int k = -o->warmup; k < o->steps; k++) {
        double t0 = bench_now();
        if (lora4j_trainer_step(tr, tokens, pos, seg, weights, NULL, &loss) != LORA4J_OK) bench_fail("step");
        if (lora4j_trainer_optimizer_step(tr, &op, NULL) != LORA4J_OK) bench_fail("optimizer");
        if (k >= 0) t[k] = bench_now() - t0;
    }
    bench_sort(t, o->steps);
    const double med = t[o->steps / 2];
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("  tokens/s %.0f / %.0f / %.0f (min / median / max of %d steps), %.1f GFLOP/s, loss %.3f, peak RSS "
           "%.0f MB", n / t[o->steps - 1], n / med, n / t[0], o->steps, step_flops(&shape, o->full) / med * 1e-9,
           loss, ru.ru_maxrss / 1024.0);
    if (bt->want > 0 && !o->full) printf("  (target >= %.0f tokens/s, < 775 MB)", bt->want);
    printf("\n");
    fflush(stdout);
    free(t);
    free(tokens);
    free(pos);
    free(seg);
    free(weights);
    lora4j_trainer_free(tr);
    lora4j_adapter_free(ad);
    lora4j_model_free(model);
}

int main(int argc, char **argv) {
    opts o = {2, 7, 2, 0, 0};
    int first_type = argc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) o.threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) o.steps = atoi(argv[++i]);
        else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc) o.warmup = atoi(argv[++i]);
        else if (strcmp(argv[i], "--ckpt") == 0) o.ckpt = 1;
        else if (strcmp(argv[i], "--full") == 0) o.full = 1;
        else { first_type = i; break; }
    }
    if (o.steps < 1) o.steps = 1;
    if (o.warmup < 0) o.warmup = 0;
    fx_model m = stories_shape();
    char dir[] = "/tmp/l4-bench-train-XXXXXX", f32_path[64], q_path[64];
    if (!mkdtemp(dir)) return 1;
    snprintf(f32_path, sizeof f32_path, "%s/f32.gguf", dir);
    snprintf(q_path, sizeof q_path, "%s/q.gguf", dir);
    if (fx_write(&m, f32_path) != LORA4J_OK) bench_fail("writing the f32 model");
    printf("LoRA training, stories15M shape, r=%d alpha=%g on q,k,v,o,gate,up,down, %d x %d tokens, %d threads%s%s\n",
           RANK, ALPHA, N_ROWS, N_SEQ, o.threads, o.ckpt ? ", checkpointing" : "", o.full ? ", FULL fine-tuning" : "");
    for (size_t k = 0; k < sizeof k_types / sizeof k_types[0]; k++) {
        const bench_type *bt = &k_types[k];
        int wanted = first_type == argc;
        for (int i = first_type; i < argc; i++) wanted |= strcmp(argv[i], bt->name) == 0;
        if (!wanted) continue;
        const char *path = f32_path;
        if (bt->target >= 0) {
            lora4j_quantize_params qp = lora4j_quantize_default_params();
            qp.type = bt->target;
            qp.n_threads = 1; /* the parent starts no thread pool: a forked child would inherit a dead one */
            if (lora4j_model_quantize(f32_path, q_path, qp) != LORA4J_OK) bench_fail("quantize");
            path = q_path;
        }
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            run_type(bt, path, &o);
            _exit(0);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "%s: the benchmark process failed\n", bt->name);
        }
    }
    remove(f32_path);
    remove(q_path);
    rmdir(dir);
    return 0;
}
