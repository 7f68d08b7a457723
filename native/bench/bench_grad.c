/* Throughput of the training kernels at the stories15M shape (dim 288, 6 heads x 48, ffn 768,
 * vocab 32000) for a 4 x 256-token batch: attention forward/backward (4 rows of 256, one
 * sequence per row), output head + log-softmax + gradient (1024 rows, 288 -> 32000, f32 head;
 * with dxn only as in LoRA training, and with dW too as in full fine-tuning), LoRA forward and
 * backward (r = 16, 288 -> 768). Prints the best and the median time of the reps (on a shared
 * machine the best is the steadier figure) and GFLOP/s of the useful work at the best time (the
 * causal triangle for attention).
 *
 *   bench_grad [-t threads] [-r reps] [-c head_chunk] [-s simd_level]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/threadpool.h"
#include "train/grad_ops.h"

#include "bench_util.h"

#define ROWS 4
#define SEQ 256
#define N (ROWS * SEQ)
#define HEADS 6
#define HD 48
#define EMBD 288
#define FF 768
#define VOCAB 32000
#define RANK 16

static float *randn(int64_t n, float scale, uint32_t *s) {
    float *p = malloc((size_t)n * sizeof(float));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (int64_t i = 0; i < n; i++) {
        *s = *s * 1664525u + 1013904223u;
        p[i] = scale * ((float)(*s >> 8) / 16777216.0f - 0.5f);
    }
    return p;
}

typedef void (*bench_fn)(void *ctx);

static int g_reps = 5;

/* Times reps runs after one warm-up; prints best, median and GFLOP/s at the best. */
static void measure(const char *what, bench_fn fn, void *ctx, double flops) {
    double t[64];
    const int reps = g_reps < 64 ? g_reps : 64;
    fn(ctx);
    for (int r = 0; r < reps; r++) {
        const double t0 = bench_now();
        fn(ctx);
        t[r] = bench_now() - t0;
    }
    bench_sort(t, reps);
    printf("%-44s %9.2f ms (median %9.2f) %8.1f GFLOP/s\n", what, t[0] * 1e3, t[reps / 2] * 1e3, flops / t[0] * 1e-9);
}

typedef struct {
    l4_train_attn a;
    float *q, *k, *v, *out, *lse, *dout, *dq, *dk, *dv;
} attn_bench;

static void attn_fwd(void *p) {
    attn_bench *b = p;
    l4_train_attn_forward(&b->a, b->q, b->k, b->v, b->out, b->lse);
}

static void attn_bwd(void *p) {
    attn_bench *b = p;
    l4_train_attn_backward(&b->a, b->q, b->k, b->v, b->out, b->lse, b->dout, b->dq, b->dk, b->dv);
}

typedef struct {
    l4_matrix w;
    float *xn, *lp, *dxn, *dw, *weight, *logits;
    int32_t *target;
    int64_t chunk;
    int n_threads;
} head_bench;

static void head_fwd(void *p) {
    head_bench *b = p;
    l4_head_logprobs(&b->w, NULL, b->xn, N, b->target, NULL, b->lp, NULL, NULL, b->logits, b->chunk, b->n_threads);
}

static void head_fwd_bwd(void *p) {
    head_bench *b = p;
    l4_head_logprobs(&b->w, NULL, b->xn, N, b->target, b->weight, b->lp, b->dxn, NULL, b->logits, b->chunk, b->n_threads);
}

static void head_fwd_bwd_dw(void *p) {
    head_bench *b = p;
    l4_head_logprobs(&b->w, NULL, b->xn, N, b->target, b->weight, b->lp, b->dxn, b->dw, b->logits, b->chunk,
                     b->n_threads);
}

typedef struct {
    float *a, *b, *x, *h, *y, *dy, *da, *db, *dx, *dh;
    int n_threads;
} lora_bench;

static void lora_fwd(void *p) {
    lora_bench *b = p;
    l4_lora_forward(b->a, b->b, RANK, EMBD, FF, 2.0f, b->x, N, b->h, b->y, b->n_threads);
}

static void lora_bwd(void *p) {
    lora_bench *b = p;
    l4_lora_backward(b->a, b->b, RANK, EMBD, FF, 2.0f, b->x, b->h, b->dy, N, b->da, b->db, b->dx, b->dh, b->n_threads);
}

int main(int argc, char **argv) {
    int n_threads = 0;
    int64_t chunk = 64;
    int opt;
    while ((opt = getopt(argc, argv, "t:r:c:s:")) != -1) {
        if (opt == 't') n_threads = atoi(optarg);
        else if (opt == 'r') g_reps = atoi(optarg);
        else if (opt == 'c') chunk = atoll(optarg);
        else if (opt == 's') {
            if (lora4j_simd_set(atoi(optarg)) != LORA4J_OK) {
                fprintf(stderr, "%s\n", lora4j_last_error());
                return 2;
            }
        } else {
            fprintf(stderr, "usage: %s [-t threads] [-r reps] [-c head_chunk] [-s simd_level]\n", argv[0]);
            return 2;
        }
    }
    if (g_reps < 1) g_reps = 1;
    if (chunk < 1) chunk = 1;
    printf("threads %d, reps %d, SIMD level %d\n", n_threads > 0 ? n_threads : l4_n_cores(), g_reps,
           lora4j_simd_active());
    uint32_t s = 1;

    int32_t *seg = calloc(N, sizeof(int32_t));
    attn_bench ab = {.a = {ROWS, SEQ, HEADS, HEADS, HD, seg, n_threads, NULL}};
    ab.a.scratch = malloc((size_t)l4_train_attn_scratch_floats(&ab.a) * sizeof(float));
    ab.q = randn(N * EMBD, 2.0f, &s), ab.k = randn(N * EMBD, 2.0f, &s), ab.v = randn(N * EMBD, 1.0f, &s);
    ab.dout = randn(N * EMBD, 1.0f, &s), ab.out = calloc(N * EMBD, sizeof(float)), ab.lse = calloc(N * HEADS, sizeof(float));
    ab.dq = calloc(N * EMBD, sizeof(float)), ab.dk = calloc(N * EMBD, sizeof(float)), ab.dv = calloc(N * EMBD, sizeof(float));
    const double pairs = (double)ROWS * SEQ * (SEQ + 1) / 2 * HEADS;
    attn_fwd(&ab);
    measure("attention forward  (4 x 256, 6 x 48)", attn_fwd, &ab, pairs * HD * 4);
    measure("attention backward (4 x 256, 6 x 48)", attn_bwd, &ab, pairs * HD * 10);

    head_bench hb = {.w = {LORA4J_TYPE_F32, EMBD, VOCAB, randn((int64_t)VOCAB * EMBD, 0.1f, &s)}};
    hb.xn = randn(N * EMBD, 2.0f, &s), hb.lp = malloc(N * sizeof(float)), hb.dxn = calloc(N * EMBD, sizeof(float));
    hb.dw = calloc((size_t)VOCAB * EMBD, sizeof(float)), hb.weight = malloc(N * sizeof(float));
    hb.logits = malloc((size_t)chunk * VOCAB * sizeof(float)), hb.target = malloc(N * sizeof(int32_t));
    hb.chunk = chunk, hb.n_threads = n_threads;
    for (int i = 0; i < N; i++) hb.weight[i] = -1.0f / N, hb.target[i] = (int32_t)((i * 7919) % VOCAB);
    const double head_flops = 2.0 * N * EMBD * VOCAB;
    char what[64];
    snprintf(what, sizeof what, "head logprobs fwd (1024 x 288 -> 32000, c %lld)", (long long)chunk);
    measure(what, head_fwd, &hb, head_flops);
    snprintf(what, sizeof what, "head fwd+bwd dxn (chunk %lld)", (long long)chunk);
    measure(what, head_fwd_bwd, &hb, 2 * head_flops);
    snprintf(what, sizeof what, "head fwd+bwd dxn+dW (chunk %lld)", (long long)chunk);
    measure(what, head_fwd_bwd_dw, &hb, 3 * head_flops);

    lora_bench lb = {randn(RANK * EMBD, 0.1f, &s), randn(FF * RANK, 0.1f, &s), randn(N * EMBD, 1.0f, &s),
                     calloc(N * RANK, sizeof(float)), calloc(N * FF, sizeof(float)), randn(N * FF, 1.0f, &s),
                     calloc(RANK * EMBD, sizeof(float)), calloc(FF * RANK, sizeof(float)),
                     calloc(N * EMBD, sizeof(float)), calloc(N * RANK, sizeof(float)), n_threads};
    const double lora_flops = 2.0 * N * RANK * (EMBD + FF);
    measure("lora forward  (1024, r 16, 288 -> 768)", lora_fwd, &lb, lora_flops);
    measure("lora backward (1024, r 16, 288 -> 768)", lora_bwd, &lb, 2 * lora_flops);
    return 0;
}
