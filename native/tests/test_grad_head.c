/* l4_head_logprobs against a naive double computation over full logits (log-probabilities, the
 * objective L = sum w_i lp_i, dxn and dw) with targets < 0 and zero weights (whose dxn rows must
 * stay exactly as they were), chunk sizes 1, 3, 4 and n, with and without bias, one and two
 * threads, every SIMD level (bound 1e-5 of the largest component; f32 logits over 16..32
 * products), a Q8_0 head
 * (dxn through the dequantized weights), weight == NULL (no gradient, L = 0), and a
 * finite-difference check of dxn and dw (L from f32 log-probabilities: step 1e-2, bound 2e-3). */
#include <string.h>

#include "grad_check.h"
#include "train/grad_ops.h"

#define VOCAB 50
#define N 9

static const int32_t targets[N] = {3, -1, 49, 0, 7, 7, -1, 20, 11};
static const float weights[N] = {1.0f, 0.5f, -0.7f, 0.0f, 2.0f, 0.3f, 1.0f, 0.0f, 1.5f};

static int has_grad(int i) { return targets[i] >= 0 && weights[i] != 0.0f; }

typedef struct {
    int64_t embd;
    const float *wf; /* dequantized weights */
    const float *bias;
    const float *xn;
    float lp[N];
    double L;
    float *dxn; /* [N][embd] */
    float *dw;  /* [VOCAB][embd] */
} reference;

static void compute_reference(reference *r) {
    memset(r->dxn, 0, sizeof(float) * N * r->embd);
    memset(r->dw, 0, sizeof(float) * VOCAB * r->embd);
    r->L = 0.0;
    double logits[VOCAB];
    for (int i = 0; i < N; i++) {
        if (targets[i] < 0) {
            r->lp[i] = 0.0f;
            continue;
        }
        double mx = -INFINITY, sum = 0.0;
        for (int v = 0; v < VOCAB; v++) {
            double s = r->bias ? r->bias[v] : 0.0;
            for (int64_t e = 0; e < r->embd; e++) s += (double)r->wf[v * r->embd + e] * r->xn[i * r->embd + e];
            logits[v] = s;
            mx = fmax(mx, s);
        }
        for (int v = 0; v < VOCAB; v++) sum += exp(logits[v] - mx);
        const double lse = mx + log(sum);
        r->lp[i] = (float)(logits[targets[i]] - lse);
        r->L += weights[i] * (logits[targets[i]] - lse);
        if (!has_grad(i)) continue;
        for (int v = 0; v < VOCAB; v++) {
            const double g = weights[i] * ((v == targets[i]) - exp(logits[v] - lse));
            for (int64_t e = 0; e < r->embd; e++) {
                r->dxn[i * r->embd + e] += (float)(g * r->wf[v * r->embd + e]);
                r->dw[v * r->embd + e] += (float)(g * r->xn[i * r->embd + e]);
            }
        }
    }
}

static void check_against_reference(int32_t type, int64_t embd, int with_bias) {
    const int64_t rb = lora4j_row_bytes(type, embd);
    float *src = gc_gauss(VOCAB * embd, 0.4f), *wf = gc_alloc(VOCAB * embd);
    uint8_t *wq = malloc((size_t)(rb * VOCAB));
    lora4j_quantize(type, src, VOCAB, embd, wq, (size_t)(rb * VOCAB));
    lora4j_dequantize(type, wq, (size_t)(rb * VOCAB), wf, VOCAB * embd);
    const l4_matrix w = {type, embd, VOCAB, wq};
    float *bias = with_bias ? gc_gauss(VOCAB, 1.0f) : NULL;
    float *xn = gc_gauss(N * embd, 1.0f);
    reference ref = {embd, wf, bias, xn, {0}, 0.0, gc_alloc(N * embd), gc_alloc(VOCAB * embd)};
    compute_reference(&ref);

    float *dxn0 = gc_gauss(N * embd, 1.0f), *dw0 = gc_gauss(VOCAB * embd, 1.0f);
    float *dxn = gc_alloc(N * embd), *dw = gc_alloc(VOCAB * embd), *logits = gc_alloc(N * VOCAB);
    float lp[N];
    const int64_t chunks[4] = {1, 3, 4, N};
    int32_t levels[3];
    const int n_levels = gc_simd_levels(levels);
    for (int run = 0; run < n_levels * 8; run++) { /* level x chunk x threads */
        const int li = run / 8, ci = run / 2 % 4, nth = 1 + run % 2;
        lora4j_simd_set(levels[li]);
        memcpy(dxn, dxn0, sizeof(float) * N * embd);
        memcpy(dw, dw0, sizeof(float) * VOCAB * embd);
        const double L = l4_head_logprobs(&w, bias, xn, N, targets, weights, lp, dxn,
                                          type == LORA4J_TYPE_F32 ? dw : NULL, logits, chunks[ci], nth);
        for (int i = 0; i < N; i++)
            if (!has_grad(i))
                QT_CHECK(memcmp(dxn + i * embd, dxn0 + i * embd, sizeof(float) * embd) == 0,
                         "row %d without gradient changed dxn", i);
        for (int64_t i = 0; i < N * embd; i++) dxn[i] -= dxn0[i];
        for (int64_t i = 0; i < VOCAB * embd; i++) dw[i] -= dw0[i];
        char what[96];
        snprintf(what, sizeof what, "head %s%s level %d chunk %lld %d thr: lp", lora4j_type_name(type),
                 with_bias ? "+bias" : "", levels[li], (long long)chunks[ci], nth);
        gc_compare_f(what, lp, ref.lp, N, 1e-5);
        QT_CHECK(fabs(L - ref.L) <= 1e-5 * fabs(ref.L), "%s: L %.8g, want %.8g", what, L, ref.L);
        gc_compare_f("  ... dxn", dxn, ref.dxn, N * embd, 1e-5);
        if (type == LORA4J_TYPE_F32) gc_compare_f("  ... dw", dw, ref.dw, VOCAB * embd, 1e-5);
    }
    /* without weights: log-probabilities only */
    memcpy(dxn, dxn0, sizeof(float) * N * embd);
    const double L = l4_head_logprobs(&w, bias, xn, N, targets, NULL, lp, dxn, NULL, logits, 4, 1);
    QT_CHECK(L == 0.0, "L without weights is %g", L);
    QT_CHECK(memcmp(dxn, dxn0, sizeof(float) * N * embd) == 0, "dxn changed without weights");
    gc_compare_f("  ... lp without weights", lp, ref.lp, N, 1e-5);
    free(src), free(wf), free(wq), free(bias), free(xn), free(ref.dxn), free(ref.dw), free(dxn0), free(dw0);
    free(dxn), free(dw), free(logits);
}

typedef struct {
    l4_matrix w;
    float *xn, *logits;
    float lp[N];
} head_ctx;

static double objective(void *p) {
    head_ctx *c = p;
    return l4_head_logprobs(&c->w, NULL, c->xn, N, targets, weights, c->lp, NULL, NULL, c->logits, 3, 1);
}

static void check_finite_differences(void) {
    const int64_t embd = 12;
    float *wf = gc_gauss(VOCAB * embd, 0.4f);
    head_ctx c = {{LORA4J_TYPE_F32, embd, VOCAB, wf}, gc_gauss(N * embd, 1.0f), gc_alloc(N * VOCAB), {0}};
    float *dxn = gc_alloc(N * embd), *dw = gc_alloc(VOCAB * embd);
    l4_head_logprobs(&c.w, NULL, c.xn, N, targets, weights, c.lp, dxn, dw, c.logits, 3, 1);
    double *num_x = gc_alloc_d(N * embd), *num_w = gc_alloc_d(VOCAB * embd);
    gc_numeric_grad(c.xn, N * embd, 1, 1e-2, objective, &c, num_x);
    gc_numeric_grad(wf, VOCAB * embd, 1, 1e-2, objective, &c, num_w);
    gc_compare("head dxn finite differences", dxn, num_x, N * embd, 1, 2e-3);
    gc_compare("head dw finite differences", dw, num_w, VOCAB * embd, 1, 2e-3);
    free(wf), free(c.xn), free(c.logits), free(dxn), free(dw), free(num_x), free(num_w);
}

int main(void) {
    qt_seed(18);
    check_against_reference(LORA4J_TYPE_F32, 16, 0);
    check_against_reference(LORA4J_TYPE_F32, 16, 1);
    check_against_reference(LORA4J_TYPE_Q8_0, 32, 0);
    check_finite_differences();
    return qt_finish("test_grad_head");
}
