/* Quantization benchmark: per type, round-trip error, dequantization speed and matmul
 * GFLOP/s of the fast (int8) and exact (f32) paths on the stories15M shapes (FFN [768 x 288],
 * output head [32000 x 288]; 256 columns for K-quants), 1 and 128 tokens, 1 and 2 threads,
 * and of the backward product dx += W^T dy (l4_matmul_t_acc) for 128 tokens.
 * Timings are min / median / max over repetitions.
 *   bench_quant [--quick] [type-name ...]     e.g. bench_quant q4_0 q8_0 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lora4j.h"
#include "quant/quant.h"

#include "bench_util.h"

static uint64_t g_rng = 88172645463325252ull;

static float gauss(void) {
    double u[2];
    for (int i = 0; i < 2; i++) {
        g_rng ^= g_rng << 13, g_rng ^= g_rng >> 7, g_rng ^= g_rng << 17;
        u[i] = ((double)(g_rng >> 11) + 0.5) / 9007199254740992.0;
    }
    return (float)(sqrt(-2.0 * log(u[0])) * cos(6.283185307179586 * u[1]));
}

typedef struct {
    double min, med, max;
} stats_t;

/* Run fn until `budget` seconds or `max_reps` repetitions (at least 3); seconds per run. */
typedef void (*bench_fn)(void *);

static stats_t measure(bench_fn fn, void *ctx, double budget, int max_reps) {
    double t[256];
    int n = 0;
    fn(ctx); /* warm-up */
    const double start = bench_now();
    while (n < max_reps && n < 256 && (n < 3 || bench_now() - start < budget)) {
        const double t0 = bench_now();
        fn(ctx);
        t[n++] = bench_now() - t0;
    }
    bench_sort(t, n);
    return (stats_t){t[0], t[n / 2], t[n - 1]};
}

typedef struct {
    int32_t type;
    const void *w;
    size_t w_bytes;
    int64_t n_out, n_in, n_tok;
    const float *x;
    float *y;
    int threads, exact;
} mm_args;

static void run_matmul(void *p) {
    const mm_args *a = p;
    if (lora4j_matmul(a->type, a->w, a->w_bytes, a->n_out, a->n_in, a->x, a->n_tok, a->y, a->threads, a->exact) !=
        LORA4J_OK) {
        fprintf(stderr, "matmul failed: %s\n", lora4j_last_error());
        exit(1);
    }
}

typedef struct {
    int32_t type;
    const void *w;
    int64_t n_out, n_in, n_tok;
    const float *dy;
    float *dx;
    int threads;
} tacc_args;

static void run_t_acc(void *p) {
    const tacc_args *a = p;
    l4_matmul_t_acc(a->type, a->w, a->n_out, a->n_in, a->dy, a->n_out, a->n_tok, a->dx, a->n_in, a->threads);
}

typedef struct {
    int32_t type;
    const void *q;
    size_t bytes;
    float *out;
    int64_t n;
} dq_args;

static void run_dequant(void *p) {
    const dq_args *a = p;
    lora4j_dequantize(a->type, a->q, a->bytes, a->out, a->n);
}

int main(int argc, char **argv) {
    static const int32_t types[] = {LORA4J_TYPE_F32,  LORA4J_TYPE_F16,  LORA4J_TYPE_BF16, LORA4J_TYPE_Q8_0,
                                    LORA4J_TYPE_Q4_0, LORA4J_TYPE_Q4_1, LORA4J_TYPE_Q5_0, LORA4J_TYPE_Q5_1,
                                    LORA4J_TYPE_IQ4_NL, LORA4J_TYPE_Q2_K, LORA4J_TYPE_Q3_K, LORA4J_TYPE_Q4_K,
                                    LORA4J_TYPE_Q5_K, LORA4J_TYPE_Q6_K};
    int quick = 0, n_filter = 0;
    const char *filter[32];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
        } else if (n_filter < 32) {
            filter[n_filter++] = argv[i];
        }
    }
    const double budget = quick ? 0.15 : 0.6;
    const int64_t max_in = 288, max_out = 32000, max_tok = 128;
    float *w_f32 = malloc((size_t)(max_out * max_in) * sizeof(float));
    float *x = malloc((size_t)(max_tok * max_in) * sizeof(float));
    float *y = malloc((size_t)(max_tok * max_out) * sizeof(float));
    float *back = malloc((size_t)(max_out * max_in) * sizeof(float));
    uint8_t *wq = malloc((size_t)(max_out * max_in) * 4);
    for (int64_t i = 0; i < max_out * max_in; i++) w_f32[i] = 0.05f * gauss();
    for (int64_t i = 0; i < max_tok * max_in; i++) x[i] = gauss();

    printf("SIMD level %d (0 scalar, 1 AVX2, 2 AVX-512); GFLOP/s = 2*n_out*n_in*n_tok / time, min/median/max;\n"
           "rel_rms = round-trip error / RMS of N(0, 0.05^2) data; deq GB/s = f32 bytes written per second\n",
           lora4j_simd_active());
    printf("%-7s %8s %8s | %-11s %4s %3s | %-23s | %-23s\n", "type", "rel_rms", "deq GB/s", "shape", "tok", "thr",
           "fast GFLOP/s", "exact GFLOP/s");
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const int32_t type = types[ti];
        const char *name = lora4j_type_name(type);
        int keep = n_filter == 0;
        for (int i = 0; i < n_filter; i++) keep |= strcmp(filter[i], name) == 0;
        if (!keep) continue;
        const int64_t n_in = lora4j_type_block_size(type) == 256 ? 256 : 288;
        /* round trip and dequantization speed on the head-sized matrix */
        const int64_t rows = max_out, n = rows * n_in;
        const size_t bytes = (size_t)(lora4j_row_bytes(type, n_in) * rows);
        if (lora4j_quantize(type, w_f32, rows, n_in, wq, bytes) != LORA4J_OK) {
            fprintf(stderr, "%s: %s\n", name, lora4j_last_error());
            return 1;
        }
        dq_args dq = {type, wq, bytes, back, n};
        const stats_t ds = measure(run_dequant, &dq, budget, 50);
        double num = 0.0, den = 0.0;
        for (int64_t i = 0; i < n; i++) {
            num += ((double)back[i] - w_f32[i]) * ((double)back[i] - w_f32[i]);
            den += (double)w_f32[i] * w_f32[i];
        }
        const double rms = sqrt(num / den);
        const double deq_gbs = (double)n * 4.0 / ds.med * 1e-9;
        const int64_t shapes[2] = {768, max_out};
        const int64_t toks[2] = {1, max_tok};
        int first = 1;
        for (int si = 0; si < 2; si++)
            for (int k = 0; k < 2; k++)
                for (int threads = 1; threads <= 2; threads++) {
                    const int64_t n_out = shapes[si], n_tok = toks[k];
                    const double flop = 2.0 * (double)n_out * (double)n_in * (double)n_tok;
                    stats_t s[2];
                    for (int exact = 0; exact <= 1; exact++) {
                        mm_args a = {type, wq, bytes, n_out, n_in, n_tok, x, y, threads, exact};
                        s[exact] = measure(run_matmul, &a, budget, flop > 1e9 ? 20 : 200);
                    }
                    char shape[32];
                    snprintf(shape, sizeof shape, "%lldx%lld", (long long)n_out, (long long)n_in);
                    if (first) {
                        printf("%-7s %8.5f %8.2f | ", name, rms, deq_gbs);
                    } else {
                        printf("%-7s %8s %8s | ", "", "", "");
                    }
                    first = 0;
                    printf("%-11s %4lld %3d | %6.1f %6.1f %6.1f    | %6.1f %6.1f %6.1f\n", shape, (long long)n_tok,
                           threads, flop / s[0].max * 1e-9, flop / s[0].med * 1e-9, flop / s[0].min * 1e-9,
                           flop / s[1].max * 1e-9, flop / s[1].med * 1e-9, flop / s[1].min * 1e-9);
                    fflush(stdout);
                }
    }
    /* backward through frozen weights: dx += W^T dy, exact f32, 128 tokens */
    printf("\n%-7s | %-11s %4s %3s | %-23s\n", "type", "shape", "tok", "thr", "t_acc GFLOP/s");
    float *dy = malloc((size_t)(max_tok * max_out) * sizeof(float));
    for (int64_t i = 0; i < max_tok * max_out; i++) dy[i] = gauss();
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const int32_t type = types[ti];
        const char *name = lora4j_type_name(type);
        int keep = n_filter == 0;
        for (int i = 0; i < n_filter; i++) keep |= strcmp(filter[i], name) == 0;
        if (!keep) continue;
        const int64_t n_in = lora4j_type_block_size(type) == 256 ? 256 : 288;
        const size_t bytes = (size_t)(lora4j_row_bytes(type, n_in) * max_out);
        lora4j_quantize(type, w_f32, max_out, n_in, wq, bytes);
        const int64_t shapes[2] = {768, max_out};
        for (int si = 0; si < 2; si++)
            for (int threads = 1; threads <= 2; threads++) {
                tacc_args a = {type, wq, shapes[si], n_in, max_tok, dy, y, threads};
                memset(y, 0, (size_t)(max_tok * n_in) * sizeof(float));
                const double flop = 2.0 * (double)shapes[si] * (double)n_in * (double)max_tok;
                const stats_t s = measure(run_t_acc, &a, budget, 20);
                printf("%-7s | %5lldx%-5lld %4lld %3d | %6.1f %6.1f %6.1f\n", name, (long long)shapes[si],
                       (long long)n_in, (long long)max_tok, threads, flop / s.max * 1e-9, flop / s.med * 1e-9,
                       flop / s.min * 1e-9);
                fflush(stdout);
            }
    }
    free(dy);
    free(w_f32), free(x), free(y), free(back), free(wq);
    return 0;
}
