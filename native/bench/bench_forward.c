/* Forward-pass throughput as llama-bench measures it: pp128 (one 128-token prompt, logits of
 * the last token) and tg32 (32 single-token decode steps from an empty cache), on a random
 * model of the stories15M shape (dim 288, 6 layers, 6 heads, ffn 768, vocab 32000, untied),
 * written once in f32 and re-encoded with the quantize tool per type.
 *
 *   bench_forward [-t threads] [-r reps] [--exact] [--only pp|tg] [--simd level] [--dim n] [types...]
 *   types: f32 q8_0 q4_0 q4_k_m f16 q6_k q4_k; --only skips the other phase (for profiling);
 *   --simd caps the SIMD level (0 scalar, 1 AVX2, 2 AVX-512); --dim 256 (any multiple of 64:
 *   heads of 64) gives rows K-quants can hold, so q4_k_m is truly Q4_K/Q6_K (llama.cpp's
 *   figures are for the 288 shape only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../tests/model_fixture_build.h"

#include "bench_util.h"

#define PP 128
#define TG 32

typedef struct bench_type {
    const char *name;
    int32_t target;       /* quantize target; -1: the f32 file itself */
    double llama_pp, llama_tg; /* llama.cpp, 2 threads, same shape (from the brief) */
} bench_type;

static const bench_type k_types[] = {
    {"f32", -1, 4144, 238},
    {"q8_0", LORA4J_TYPE_Q8_0, 5377, 678},
    {"q4_0", LORA4J_TYPE_Q4_0, 6831, 933},
    {"q4_k_m", LORA4J_MIX_Q4_K_M, 4451, 690},
    {"f16", LORA4J_TYPE_F16, 0, 0},
    {"q6_k", LORA4J_TYPE_Q6_K, 0, 0},
    {"q4_k", LORA4J_TYPE_Q4_K, 0, 0},
};

/* tokens/s of each rep, sorted. */
static void run(lora4j_context *ctx, int reps, int n_vocab, int phases, double *pp, double *tg) {
    int32_t tok[PP];
    uint32_t s = 5;
    for (int i = 0; i < PP; i++) tok[i] = (int32_t)(fx_rand(&s) % (uint32_t)n_vocab);
    float *logits = malloc((size_t)n_vocab * sizeof(float));
    for (int r = -1; r < reps; r++) { /* rep -1 warms caches and the thread pool */
        lora4j_kv_seq_clear(ctx, 0);
        double t0 = bench_now();
        if ((phases & 1) && lora4j_decode(ctx, tok, NULL, NULL, PP, NULL, logits, n_vocab) != LORA4J_OK) bench_fail("pp");
        double t1 = bench_now();
        lora4j_kv_seq_clear(ctx, 0);
        for (int i = 0; (phases & 2) && i < TG; i++) {
            if (lora4j_decode(ctx, tok + i, NULL, NULL, 1, NULL, logits, n_vocab) != LORA4J_OK) bench_fail("tg");
        }
        double t2 = bench_now();
        if (r >= 0) {
            pp[r] = PP / (t1 - t0);
            tg[r] = TG / (t2 - t1);
        }
    }
    bench_sort(pp, reps);
    bench_sort(tg, reps);
    free(logits);
}

int main(int argc, char **argv) {
    int n_threads = 2, reps = 5, exact = 0, phases = 3, dim = 288, first_type = argc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) n_threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--exact") == 0) exact = 1;
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) phases = strcmp(argv[++i], "pp") == 0 ? 1 : 2;
        else if (strcmp(argv[i], "--dim") == 0 && i + 1 < argc) dim = atoi(argv[++i]);
        else if (strcmp(argv[i], "--simd") == 0 && i + 1 < argc) {
            if (lora4j_simd_set(atoi(argv[++i])) != LORA4J_OK) bench_fail("--simd");
        }
        else { first_type = i; break; }
    }
    if (reps < 1) reps = 1;
    fx_model m = fx_default();
    m.n_vocab = 32000;
    if (dim != 288 && (dim <= 0 || dim % 64 != 0)) {
        fprintf(stderr, "--dim: %d is neither 288 nor a positive multiple of 64\n", dim);
        return 1;
    }
    m.n_embd = dim;
    m.n_layer = 6;
    m.n_head = dim == 288 ? 6 : dim / 64;
    m.n_head_kv = m.n_head;
    m.n_ff = 768;
    m.n_ctx_train = 256;
    char dir[] = "/tmp/l4-bench-XXXXXX", f32_path[64], q_path[64];
    if (!mkdtemp(dir)) return 1;
    snprintf(f32_path, sizeof f32_path, "%s/f32.gguf", dir);
    snprintf(q_path, sizeof q_path, "%s/q.gguf", dir);
    if (fx_write(&m, f32_path) != LORA4J_OK) bench_fail("writing the f32 model");

    printf("stories15M shape (dim %d), %d threads, %d reps, %s path, SIMD level %d; tokens/s min / median / max\n",
           dim, n_threads, reps, exact ? "exact f32" : "fast int8", lora4j_simd_active());
    printf("%-8s %-26s %-26s %s\n", "type", "pp128", "tg32", "llama.cpp pp128 / tg32");
    double *pp = malloc((size_t)reps * sizeof(double)), *tg = malloc((size_t)reps * sizeof(double));
    for (size_t k = 0; k < sizeof k_types / sizeof k_types[0]; k++) {
        const bench_type *bt = &k_types[k];
        int wanted = first_type == argc;
        for (int i = first_type; i < argc; i++) wanted |= strcmp(argv[i], bt->name) == 0;
        if (!wanted) continue;
        const char *path = f32_path;
        if (bt->target >= 0) {
            lora4j_quantize_params qp = lora4j_quantize_default_params();
            qp.type = bt->target;
            qp.n_threads = n_threads;
            if (lora4j_model_quantize(f32_path, q_path, qp) != LORA4J_OK) {
                printf("%-8s (cannot quantize: %s)\n", bt->name, lora4j_last_error());
                continue;
            }
            path = q_path;
        }
        lora4j_model *model = NULL;
        lora4j_context *ctx = NULL;
        lora4j_context_params cp = lora4j_context_default_params();
        cp.n_ctx = 256;
        cp.n_threads = n_threads;
        cp.exact_f32 = exact;
        if (lora4j_model_load(path, lora4j_model_default_params(), &model) != LORA4J_OK) bench_fail("load");
        if (lora4j_context_new(model, cp, &ctx) != LORA4J_OK) bench_fail("context");
        run(ctx, reps, m.n_vocab, phases, pp, tg);
        char a[40], b[40], c[40] = "";
        snprintf(a, sizeof a, "%7.0f %7.0f %7.0f", pp[0], pp[reps / 2], pp[reps - 1]);
        snprintf(b, sizeof b, "%6.0f %6.0f %6.0f", tg[0], tg[reps / 2], tg[reps - 1]);
        if (!(phases & 1)) snprintf(a, sizeof a, "%7s %7s %7s", "-", "-", "-");
        if (!(phases & 2)) snprintf(b, sizeof b, "%6s %6s %6s", "-", "-", "-");
        if (bt->llama_pp > 0 && dim == 288) snprintf(c, sizeof c, "%6.0f / %4.0f", bt->llama_pp, bt->llama_tg);
        printf("%-8s %-26s %-26s %s\n", bt->name, a, b, c);
        fflush(stdout);
        lora4j_context_free(ctx);
        lora4j_model_free(model);
    }
    free(pp);
    free(tg);
    unlink(q_path);
    unlink(f32_path);
    rmdir(dir);
    return 0;
}
