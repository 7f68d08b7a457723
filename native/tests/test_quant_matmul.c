/* l4_matmul (both paths) and l4_matmul_t_acc against a naive double-precision reference on the
 * exactly dequantized weights, over odd shapes (rows not a multiple of any tile, 1/3/17/128
 * tokens, strided rows), 1 and 2 threads, and every SIMD level.
 * Tolerances: the exact path is f32 arithmetic, so |err| <= 1e-5 * sum|w*x| per output; the
 * fast path rounds each activation to a grid of step d = amax/127 of its block (32 or 256
 * values), so |err| <= sum |w_i| * d_i / 2 (plus float error) per output, and over many outputs
 * the relative RMS error stays <= 1.5e-2 (measured below 1e-2). Between SIMD levels
 * the fast path's integer block sums are identical and only the float combination order
 * differs: <= 2e-6 * sum|w*x|. */
#include <string.h>

#include "quant/quant.h"
#include "quant_test.h"

typedef struct {
    int32_t type;
    int64_t n_out, n_in, n_tok;
    uint8_t *w;
    float *wf;    /* dequantized weights */
    float *x;     /* [n_tok][ldx] */
    int64_t ldx, ldy;
    double *ref;  /* [n_tok][n_out] */
    double *mag;  /* sum |w*x| */
    double *qbound; /* sum |w_i| * d_i / 2: the int8 activation rounding bound */
} problem_t;

static void make_problem(problem_t *p, int32_t type, int64_t n_out, int64_t n_in, int64_t n_tok, int64_t pad) {
    p->type = type, p->n_out = n_out, p->n_in = n_in, p->n_tok = n_tok;
    p->ldx = n_in + pad, p->ldy = n_out + pad;
    const int64_t rb = lora4j_row_bytes(type, n_in);
    float *src = malloc((size_t)(n_out * n_in) * sizeof(float));
    qt_fill_gauss(src, n_out * n_in, 0.5f);
    p->w = malloc((size_t)(rb * n_out) + 1);
    p->wf = malloc((size_t)(n_out * n_in) * sizeof(float));
    QT_CHECK(lora4j_quantize(type, src, n_out, n_in, p->w, (size_t)(rb * n_out)) == LORA4J_OK, "quantize");
    QT_CHECK(lora4j_dequantize(type, p->w, (size_t)(rb * n_out), p->wf, n_out * n_in) == LORA4J_OK, "dequantize");
    free(src);
    p->x = malloc((size_t)(n_tok * p->ldx) * sizeof(float));
    qt_fill_gauss(p->x, n_tok * p->ldx, 1.0f);
    p->ref = malloc((size_t)(n_tok * n_out) * sizeof(double));
    p->mag = malloc((size_t)(n_tok * n_out) * sizeof(double));
    p->qbound = malloc((size_t)(n_tok * n_out) * sizeof(double));
    const int64_t blck = lora4j_type_block_size(type);
    double *step = malloc((size_t)n_in * sizeof(double));
    for (int64_t t = 0; t < n_tok; t++) {
        const float *xt = p->x + t * p->ldx;
        for (int64_t b = 0; blck > 1 && b < n_in; b += blck) {
            double amax = 0.0;
            for (int64_t i = b; i < b + blck; i++) amax = fmax(amax, fabs(xt[i]));
            for (int64_t i = b; i < b + blck; i++) step[i] = amax / 127.0;
        }
        for (int64_t o = 0; o < n_out; o++) {
            double s = 0.0, m = 0.0, qb = 0.0;
            for (int64_t i = 0; i < n_in; i++) {
                const double v = (double)p->wf[o * n_in + i] * xt[i];
                s += v;
                m += fabs(v);
                if (blck > 1) qb += fabs(p->wf[o * n_in + i]) * step[i] * 0.5;
            }
            p->ref[t * n_out + o] = s;
            p->mag[t * n_out + o] = m;
            p->qbound[t * n_out + o] = qb;
        }
    }
    free(step);
}

static void free_problem(problem_t *p) {
    free(p->w), free(p->wf), free(p->x), free(p->ref), free(p->mag), free(p->qbound);
}

/* y sentinel: padding between rows must stay untouched */
#define SENTINEL 12345.0f

static float *run(const problem_t *p, int threads, int exact) {
    float *y = malloc((size_t)(p->n_tok * p->ldy) * sizeof(float));
    for (int64_t i = 0; i < p->n_tok * p->ldy; i++) y[i] = SENTINEL;
    l4_matmul(p->type, p->w, p->n_out, p->n_in, p->x, p->ldx, p->n_tok, y, p->ldy, threads, exact);
    for (int64_t t = 0; t < p->n_tok; t++)
        for (int64_t o = p->n_out; o < p->ldy; o++)
            QT_CHECK(y[t * p->ldy + o] == SENTINEL, "%s: padding of y overwritten", lora4j_type_name(p->type));
    return y;
}

static void check_exact(const problem_t *p, const float *y, const char *what) {
    int bad = 0;
    for (int64_t t = 0; t < p->n_tok && bad < 3; t++)
        for (int64_t o = 0; o < p->n_out && bad < 3; o++) {
            const double err = fabs(y[t * p->ldy + o] - p->ref[t * p->n_out + o]);
            if (!(err <= 1e-5 * p->mag[t * p->n_out + o] + 1e-30)) {
                bad++;
                QT_CHECK(0, "%s exact %s [%lldx%lld]x%lld: y[%lld][%lld] = %.7g, ref %.7g", lora4j_type_name(p->type),
                         what, (long long)p->n_out, (long long)p->n_in, (long long)p->n_tok, (long long)t,
                         (long long)o, (double)y[t * p->ldy + o], p->ref[t * p->n_out + o]);
            }
        }
}

/* Every output within the activation rounding bound (plus f32 error). */
static void check_fast_bound(const problem_t *p, const float *y, const char *what) {
    int bad = 0;
    for (int64_t t = 0; t < p->n_tok && bad < 3; t++)
        for (int64_t o = 0; o < p->n_out && bad < 3; o++) {
            const int64_t i = t * p->n_out + o;
            const double err = fabs(y[t * p->ldy + o] - p->ref[i]);
            if (!(err <= p->qbound[i] + 1e-5 * p->mag[i])) {
                bad++;
                QT_CHECK(0, "%s fast %s [%lldx%lld]x%lld: y[%lld][%lld] = %.7g, ref %.7g, beyond the rounding bound %.3g",
                         lora4j_type_name(p->type), what, (long long)p->n_out, (long long)p->n_in, (long long)p->n_tok,
                         (long long)t, (long long)o, (double)y[t * p->ldy + o], p->ref[i], p->qbound[i]);
            }
        }
}

static double fast_rel_rms(const problem_t *p, const float *y) {
    double num = 0.0, den = 0.0;
    for (int64_t t = 0; t < p->n_tok; t++)
        for (int64_t o = 0; o < p->n_out; o++) {
            const double d = y[t * p->ldy + o] - p->ref[t * p->n_out + o];
            num += d * d;
            den += p->ref[t * p->n_out + o] * p->ref[t * p->n_out + o];
        }
    return sqrt(num / den);
}

static void check_same(const problem_t *p, const float *a, const float *b, double tol, const char *what) {
    int bad = 0;
    for (int64_t t = 0; t < p->n_tok && bad < 3; t++)
        for (int64_t o = 0; o < p->n_out && bad < 3; o++) {
            const double err = fabs((double)a[t * p->ldy + o] - b[t * p->ldy + o]);
            if (!(err <= tol * p->mag[t * p->n_out + o] + 1e-30)) {
                bad++;
                QT_CHECK(0, "%s %s [%lldx%lld]x%lld: y[%lld][%lld] %.9g vs %.9g", lora4j_type_name(p->type), what,
                         (long long)p->n_out, (long long)p->n_in, (long long)p->n_tok, (long long)t, (long long)o,
                         (double)a[t * p->ldy + o], (double)b[t * p->ldy + o]);
            }
        }
}

static double g_worst_fast = 0.0;

static void test_shape(int32_t type, int64_t n_out, int64_t n_in, int64_t n_tok, int64_t pad) {
    problem_t p;
    make_problem(&p, type, n_out, n_in, n_tok, pad);
    const int32_t top = lora4j_simd_detected();
    float *exact_at[3] = {0}, *fast_at[3] = {0};
    for (int32_t level = 0; level <= top; level++) {
        lora4j_simd_set(level);
        char what[64];
        for (int threads = 1; threads <= 2; threads++) {
            float *ye = run(&p, threads, 1), *yf = run(&p, threads, 0);
            snprintf(what, sizeof what, "level %d, %d thread(s)", level, threads);
            check_exact(&p, ye, what);
            const int is_float = lora4j_type_block_size(type) == 1;
            if (is_float) {
                check_exact(&p, yf, what);
            } else {
                check_fast_bound(&p, yf, what);
                if (n_out * n_tok >= 64) {
                    const double e = fast_rel_rms(&p, yf);
                    if (e > g_worst_fast) g_worst_fast = e;
                    QT_CHECK(e <= 1.5e-2, "%s fast %s [%lldx%lld]x%lld: relative RMS %.4g", lora4j_type_name(type),
                             what, (long long)n_out, (long long)n_in, (long long)n_tok, e);
                }
            }
            if (threads == 1) {
                exact_at[level] = ye, fast_at[level] = yf;
            } else {
                /* rows are split among threads; each output is computed the same way */
                check_same(&p, ye, exact_at[level], 0.0, "exact: 2 threads vs 1");
                check_same(&p, yf, fast_at[level], 0.0, "fast: 2 threads vs 1");
                free(ye), free(yf);
            }
        }
    }
    for (int32_t level = 1; level <= top; level++) {
        check_same(&p, exact_at[level], exact_at[0], 1e-5, "exact: SIMD vs scalar");
        check_same(&p, fast_at[level], fast_at[0], 2e-6, "fast: SIMD vs scalar");
    }
    for (int32_t level = 0; level <= top; level++) free(exact_at[level]), free(fast_at[level]);
    lora4j_simd_set(top);
    free_problem(&p);
}

/* dx += W^T dy against the reference, at every level and 1/2 threads. */
static void test_t_acc(int32_t type, int64_t n_out, int64_t n_in, int64_t n_tok) {
    problem_t p;
    make_problem(&p, type, n_out, n_in, 1, 0);
    float *dy = malloc((size_t)(n_tok * n_out) * sizeof(float)), *dx0 = malloc((size_t)(n_tok * n_in) * sizeof(float));
    float *dx = malloc((size_t)(n_tok * n_in) * sizeof(float));
    qt_fill_gauss(dy, n_tok * n_out, 1.0f);
    qt_fill_gauss(dx0, n_tok * n_in, 1.0f);
    const int32_t top = lora4j_simd_detected();
    for (int32_t level = 0; level <= top; level++) {
        lora4j_simd_set(level);
        for (int threads = 1; threads <= 2; threads++) {
            memcpy(dx, dx0, (size_t)(n_tok * n_in) * sizeof(float));
            l4_matmul_t_acc(type, p.w, n_out, n_in, dy, n_out, n_tok, dx, n_in, threads);
            int bad = 0;
            for (int64_t t = 0; t < n_tok && bad < 3; t++)
                for (int64_t i = 0; i < n_in && bad < 3; i++) {
                    double s = dx0[t * n_in + i], m = fabs(dx0[t * n_in + i]);
                    for (int64_t o = 0; o < n_out; o++) {
                        const double v = (double)p.wf[o * n_in + i] * dy[t * n_out + o];
                        s += v;
                        m += fabs(v);
                    }
                    if (!(fabs(dx[t * n_in + i] - s) <= 1e-5 * m)) {
                        bad++;
                        QT_CHECK(0, "%s t_acc level %d threads %d [%lldx%lld]x%lld: dx[%lld][%lld] = %.7g, ref %.7g",
                                 lora4j_type_name(type), level, threads, (long long)n_out, (long long)n_in,
                                 (long long)n_tok, (long long)t, (long long)i, (double)dx[t * n_in + i], s);
                    }
                }
        }
    }
    lora4j_simd_set(top);
    free(dy), free(dx0), free(dx);
    free_problem(&p);
}

/* l4_matmul_ops gives each op exactly what l4_matmul gives it: a set mixing both int8 kinds,
 * a float type and an empty op, on the direct, unpacked and exact paths, 1 and 2 threads. */
static void test_ops_set(void) {
    enum { N_IN = 512, N_OPS = 4 };
    const int32_t types[N_OPS] = {LORA4J_TYPE_Q4_K, LORA4J_TYPE_Q8_0, LORA4J_TYPE_F16, LORA4J_TYPE_Q6_K};
    const int64_t n_out[N_OPS] = {37, 70, 9, 0};
    const int64_t toks[] = {1, 3, 20};
    uint8_t *w[N_OPS];
    float *src = malloc((size_t)70 * N_IN * sizeof(float));
    for (int i = 0; i < N_OPS; i++) {
        const int64_t rb = lora4j_row_bytes(types[i], N_IN);
        w[i] = malloc((size_t)(rb * (n_out[i] > 0 ? n_out[i] : 1)));
        qt_fill_gauss(src, n_out[i] * N_IN, 0.5f);
        if (n_out[i] > 0) {
            QT_CHECK(lora4j_quantize(types[i], src, n_out[i], N_IN, w[i], (size_t)(rb * n_out[i])) == LORA4J_OK, "quantize");
        }
    }
    free(src);
    float *x = malloc((size_t)20 * N_IN * sizeof(float));
    qt_fill_gauss(x, 20 * N_IN, 1.0f);
    for (int k = 0; k < 3; k++) {
        const int64_t nt = toks[k];
        for (int exact = 0; exact <= 1; exact++) {
            for (int threads = 1; threads <= 2; threads++) {
                l4_matmul_op ops[N_OPS];
                float *one[N_OPS];
                for (int i = 0; i < N_OPS; i++) {
                    const int64_t len = nt * n_out[i] + 1;
                    ops[i] = (l4_matmul_op){types[i], w[i], n_out[i], malloc((size_t)len * sizeof(float)), n_out[i]};
                    one[i] = malloc((size_t)len * sizeof(float));
                    for (int64_t j = 0; j < len; j++) ops[i].y[j] = one[i][j] = SENTINEL;
                    l4_matmul(types[i], w[i], n_out[i], N_IN, x, N_IN, nt, one[i], n_out[i], threads, exact);
                }
                l4_matmul_ops(ops, N_OPS, N_IN, x, N_IN, nt, threads, exact);
                for (int i = 0; i < N_OPS; i++) {
                    QT_CHECK(memcmp(ops[i].y, one[i], (size_t)(nt * n_out[i] + 1) * sizeof(float)) == 0,
                             "ops set: op %d (%s), %lld tokens, exact %d, %d thread(s) differs from l4_matmul", i,
                             lora4j_type_name(types[i]), (long long)nt, exact, threads);
                    free(ops[i].y), free(one[i]);
                }
            }
        }
    }
    for (int i = 0; i < N_OPS; i++) free(w[i]);
    free(x);
}

int main(void) {
    qt_seed(2024);
    /* few tokens take the direct kernels (tiles of 2 tokens and a tail; 32-block types up to
     * 3 tokens, K-quants up to 8), 17 and 128 the unpacked ones */
    const int64_t toks[] = {1, 2, 3, 4, 7, 17, 128};
    for (int ti = 0; ti < QT_N_TYPES; ti++) {
        const int32_t type = qt_types[ti];
        const int64_t blck = lora4j_type_block_size(type);
        const int64_t n_in_a = blck == 256 ? 256 : blck == 32 ? 288 : 37; /* 37: f32 tails */
        const int64_t n_in_b = blck == 256 ? 768 : blck == 32 ? 96 : 288;
        for (int k = 0; k < 7; k++) {
            test_shape(type, 67, n_in_a, toks[k], k == 2 ? 3 : 0);
            test_shape(type, k == 6 ? 33 : 5, n_in_b, toks[k], 0);
        }
        test_shape(type, 1, blck == 1 ? 1 : blck, 2, 1);
        test_shape(type, 301, n_in_a, 1, 0); /* many row units per thread */
        /* long rows: several column chunks of the prompt kernels (and KC tiles of the f32 path) */
        test_shape(type, 40, blck == 256 ? 1280 : blck == 32 ? 1088 : 1040, 17, 0);
        test_t_acc(type, 37, n_in_b, 5);
        test_t_acc(type, 70, n_in_a, 1);
    }
    test_ops_set();
    printf("worst fast-path relative RMS: %.4g\n", g_worst_fast);
    return qt_finish("test_quant_matmul");
}
