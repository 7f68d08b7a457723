/* Training attention over packed rows (l4_train_attn_forward/backward).
 * - Finite-difference check of dq, dk, dv (L = sum(dout . out), step 1e-3, bound 2e-3) on rows of
 *   37 tokens (not a multiple of the 32-query block) with several segments, a segment that
 *   resumes after another one, padding, GQA (4 query heads on 2 kv heads) and head_dim 12.
 * - A double reference (explicit masks and probabilities) for out, lse and all gradients on
 *   3 rows x 160 tokens, 6 heads on 2 kv heads, head_dim 16, at every SIMD level (bound 1e-5 of
 *   the largest component); two threads give bit-identical results to one.
 * - Agreement with the inference attention (l4_attention over a KV cache, one cache sequence per
 *   packed segment, positions restarting): bound 1e-5. */
#include <string.h>

#include "grad_check.h"
#include "infer/ops.h"
#include "train/grad_ops.h"

typedef struct {
    l4_train_attn a;
    float *q, *k, *v, *out, *lse, *dout;
} attn_ctx;

static int64_t q_size(const l4_train_attn *a) { return a->n_rows * a->n_seq * a->n_head * a->head_dim; }
static int64_t kv_size(const l4_train_attn *a) { return a->n_rows * a->n_seq * a->n_head_kv * a->head_dim; }

static attn_ctx make(int64_t n_rows, int64_t n_seq, int n_head, int n_head_kv, int hd, const int32_t *seg,
                     int n_threads) {
    attn_ctx c = {.a = {n_rows, n_seq, n_head, n_head_kv, hd, seg, n_threads, NULL}};
    c.a.scratch = gc_alloc(l4_train_attn_scratch_floats(&c.a));
    c.q = gc_gauss(q_size(&c.a), 1.0f);
    c.k = gc_gauss(kv_size(&c.a), 1.0f);
    c.v = gc_gauss(kv_size(&c.a), 1.0f);
    c.dout = gc_gauss(q_size(&c.a), 1.0f);
    c.out = gc_alloc(q_size(&c.a));
    c.lse = gc_alloc(n_rows * n_seq * n_head);
    return c;
}

static void release(attn_ctx *c) {
    free(c->a.scratch), free(c->q), free(c->k), free(c->v), free(c->dout), free(c->out), free(c->lse);
}

static double objective(void *p) {
    attn_ctx *c = p;
    l4_train_attn_forward(&c->a, c->q, c->k, c->v, c->out, c->lse);
    return gc_dot(c->dout, c->out, q_size(&c->a));
}

static int visible(const int32_t *seg, int64_t t, int64_t s) {
    return s <= t && seg[s] == seg[t] && (seg[t] >= 0 || s == t);
}

/* out, lse and the gradients of sum(dout . out), in double with explicit probabilities. */
static void reference(const attn_ctx *c, float *out, float *lse, float *dq, float *dk, float *dv) {
    const l4_train_attn *a = &c->a;
    const int64_t n_seq = a->n_seq, hd = a->head_dim, ldq = a->n_head * hd, ldk = a->n_head_kv * hd;
    const double scale = 1.0 / sqrt((double)hd);
    memset(dq, 0, sizeof(float) * q_size(a));
    memset(dk, 0, sizeof(float) * kv_size(a));
    memset(dv, 0, sizeof(float) * kv_size(a));
    double *p = gc_alloc_d(n_seq), *o = gc_alloc_d(hd);
    for (int64_t r = 0; r < a->n_rows; r++) {
        const int32_t *seg = a->seg + r * n_seq;
        for (int h = 0; h < a->n_head; h++) {
            const int g = h / (a->n_head / a->n_head_kv);
            for (int64_t t = 0; t < n_seq; t++) {
                const float *qt = c->q + (r * n_seq + t) * ldq + h * hd, *dot = c->dout + (r * n_seq + t) * ldq + h * hd;
                double mx = -INFINITY, sum = 0.0;
                for (int64_t s = 0; s < n_seq; s++) {
                    p[s] = -INFINITY;
                    if (!visible(seg, t, s)) continue;
                    double d = 0.0;
                    for (int64_t e = 0; e < hd; e++) d += (double)qt[e] * c->k[(r * n_seq + s) * ldk + g * hd + e];
                    p[s] = d * scale;
                    mx = fmax(mx, p[s]);
                }
                for (int64_t s = 0; s < n_seq; s++) sum += (p[s] = exp(p[s] - mx));
                for (int64_t e = 0; e < hd; e++) o[e] = 0.0;
                for (int64_t s = 0; s < n_seq; s++) {
                    p[s] /= sum;
                    for (int64_t e = 0; e < hd; e++) o[e] += p[s] * c->v[(r * n_seq + s) * ldk + g * hd + e];
                }
                for (int64_t e = 0; e < hd; e++) out[(r * n_seq + t) * ldq + h * hd + e] = (float)o[e];
                lse[(r * n_seq + t) * a->n_head + h] = (float)(mx + log(sum));
                double D = 0.0;
                for (int64_t e = 0; e < hd; e++) D += dot[e] * o[e];
                for (int64_t s = 0; s < n_seq; s++) {
                    if (p[s] == 0.0) continue;
                    const float *ks = c->k + (r * n_seq + s) * ldk + g * hd, *vs = c->v + (r * n_seq + s) * ldk + g * hd;
                    double d = 0.0;
                    for (int64_t e = 0; e < hd; e++) d += (double)dot[e] * vs[e];
                    const double ds = p[s] * (d - D) * scale;
                    for (int64_t e = 0; e < hd; e++) {
                        dq[(r * n_seq + t) * ldq + h * hd + e] += (float)(ds * ks[e]);
                        dk[(r * n_seq + s) * ldk + g * hd + e] += (float)(ds * qt[e]);
                        dv[(r * n_seq + s) * ldk + g * hd + e] += (float)(p[s] * dot[e]);
                    }
                }
            }
        }
    }
    free(p), free(o);
}

static void check_finite_differences(void) {
    enum { ROWS = 2, SEQ = 37 };
    int32_t seg[ROWS * SEQ];
    for (int t = 0; t < SEQ; t++) {
        seg[t] = t < 10 ? 0 : t < 30 ? 1 : -1;            /* two segments, then padding */
        seg[SEQ + t] = t < 15 ? 5 : t < 27 ? 2 : 5;       /* segment 5 resumes after segment 2 */
    }
    attn_ctx c = make(ROWS, SEQ, 4, 2, 12, seg, 1);
    const int64_t nq = q_size(&c.a), nkv = kv_size(&c.a);
    float *dq = gc_gauss(nq, 1.0f), *dk = gc_gauss(nkv, 1.0f), *dv = gc_gauss(nkv, 1.0f);
    float *dq0 = gc_alloc(nq), *dk0 = gc_alloc(nkv), *dv0 = gc_alloc(nkv);
    memcpy(dq0, dq, sizeof(float) * nq), memcpy(dk0, dk, sizeof(float) * nkv), memcpy(dv0, dv, sizeof(float) * nkv);
    objective(&c);
    l4_train_attn_backward(&c.a, c.q, c.k, c.v, c.out, c.lse, c.dout, dq, dk, dv);
    for (int64_t i = 0; i < nq; i++) dq[i] -= dq0[i]; /* the gradients accumulate */
    for (int64_t i = 0; i < nkv; i++) dk[i] -= dk0[i], dv[i] -= dv0[i];
    double *nq_ = gc_alloc_d(nq), *nk_ = gc_alloc_d(nkv), *nv_ = gc_alloc_d(nkv);
    gc_numeric_grad(c.q, nq, 1, 1e-3, objective, &c, nq_);
    gc_numeric_grad(c.k, nkv, 1, 1e-3, objective, &c, nk_);
    gc_numeric_grad(c.v, nkv, 1, 1e-3, objective, &c, nv_);
    gc_compare("attention dq finite differences", dq, nq_, nq, 1, 2e-3);
    gc_compare("attention dk finite differences", dk, nk_, nkv, 1, 2e-3);
    gc_compare("attention dv finite differences", dv, nv_, nkv, 1, 2e-3);
    release(&c);
    free(dq), free(dk), free(dv), free(dq0), free(dk0), free(dv0), free(nq_), free(nk_), free(nv_);
}

static void check_reference(void) {
    enum { ROWS = 3, SEQ = 160 };
    int32_t seg[ROWS * SEQ];
    for (int t = 0; t < SEQ; t++) {
        seg[t] = 7;                                               /* one sequence filling the row */
        seg[SEQ + t] = t < 33 ? 0 : t < 34 ? 1 : t < 150 ? 2 : -1; /* a one-token segment, padding */
        seg[2 * SEQ + t] = t % 41 < 20 ? 3 : 4;                   /* alternating, resuming segments */
    }
    attn_ctx c = make(ROWS, SEQ, 6, 2, 16, seg, 1);
    const int64_t nq = q_size(&c.a), nkv = kv_size(&c.a), nl = ROWS * SEQ * 6;
    float *r_out = gc_alloc(nq), *r_lse = gc_alloc(nl), *r_dq = gc_alloc(nq), *r_dk = gc_alloc(nkv), *r_dv = gc_alloc(nkv);
    reference(&c, r_out, r_lse, r_dq, r_dk, r_dv);
    float *dq = gc_alloc(nq), *dk = gc_alloc(nkv), *dv = gc_alloc(nkv);
    float *out1 = gc_alloc(nq), *lse1 = gc_alloc(nl), *dq1 = gc_alloc(nq), *dk1 = gc_alloc(nkv), *dv1 = gc_alloc(nkv);
    attn_ctx c2 = c;
    c2.a.n_threads = 2;
    c2.a.scratch = gc_alloc(l4_train_attn_scratch_floats(&c2.a));
    int32_t levels[3];
    const int n_levels = gc_simd_levels(levels);
    for (int li = 0; li < n_levels; li++) {
        lora4j_simd_set(levels[li]);
        for (int nth = 1; nth <= 2; nth++) {
            const attn_ctx *cc = nth == 1 ? &c : &c2;
            l4_train_attn_forward(&cc->a, c.q, c.k, c.v, c.out, c.lse);
            memset(dq, 0, sizeof(float) * nq), memset(dk, 0, sizeof(float) * nkv), memset(dv, 0, sizeof(float) * nkv);
            l4_train_attn_backward(&cc->a, c.q, c.k, c.v, c.out, c.lse, c.dout, dq, dk, dv);
            if (nth == 1) {
                char what[80];
                snprintf(what, sizeof what, "attention out vs double (level %d)", levels[li]);
                gc_compare_f(what, c.out, r_out, nq, 1e-5);
                snprintf(what, sizeof what, "attention lse vs double (level %d)", levels[li]);
                gc_compare_f(what, c.lse, r_lse, nl, 1e-5);
                snprintf(what, sizeof what, "attention dq vs double (level %d)", levels[li]);
                gc_compare_f(what, dq, r_dq, nq, 1e-5);
                snprintf(what, sizeof what, "attention dk vs double (level %d)", levels[li]);
                gc_compare_f(what, dk, r_dk, nkv, 1e-5);
                snprintf(what, sizeof what, "attention dv vs double (level %d)", levels[li]);
                gc_compare_f(what, dv, r_dv, nkv, 1e-5);
                memcpy(out1, c.out, sizeof(float) * nq), memcpy(lse1, c.lse, sizeof(float) * nl);
                memcpy(dq1, dq, sizeof(float) * nq), memcpy(dk1, dk, sizeof(float) * nkv), memcpy(dv1, dv, sizeof(float) * nkv);
            } else {
                QT_CHECK(memcmp(out1, c.out, sizeof(float) * nq) == 0 && memcmp(lse1, c.lse, sizeof(float) * nl) == 0 &&
                             memcmp(dq1, dq, sizeof(float) * nq) == 0 && memcmp(dk1, dk, sizeof(float) * nkv) == 0 &&
                             memcmp(dv1, dv, sizeof(float) * nkv) == 0,
                         "two threads differ from one (level %d)", levels[li]);
            }
        }
    }
    free(c2.a.scratch);
    release(&c);
    free(r_out), free(r_lse), free(r_dq), free(r_dk), free(r_dv), free(dq), free(dk), free(dv);
    free(out1), free(lse1), free(dq1), free(dk1), free(dv1);
}

/* Packed segments of one row against l4_attention with each segment in its own cache sequence. */
static void check_inference(void) {
    enum { SEQ = 45, HEADS = 4, KV = 2, HD = 20, CTX = 32 };
    int32_t seg[SEQ], seq[SEQ], pos[SEQ];
    for (int t = 0; t < SEQ; t++) {
        seg[t] = seq[t] = t < 19 ? 0 : 1;
        pos[t] = t < 19 ? t : t - 19;
    }
    attn_ctx c = make(1, SEQ, HEADS, KV, HD, seg, 1);
    l4_train_attn_forward(&c.a, c.q, c.k, c.v, c.out, c.lse);
    float *kc = gc_alloc(2 * KV * CTX * HD), *vc = gc_alloc(2 * KV * CTX * HD);
    for (int t = 0; t < SEQ; t++)
        for (int g = 0; g < KV; g++) {
            const int64_t at = ((int64_t)(seq[t] * KV + g) * CTX + pos[t]) * HD;
            memcpy(kc + at, c.k + ((int64_t)t * KV + g) * HD, sizeof(float) * HD);
            memcpy(vc + at, c.v + ((int64_t)t * KV + g) * HD, sizeof(float) * HD);
        }
    float *out = gc_alloc(SEQ * HEADS * HD), *scores = gc_alloc(2 * CTX);
    const l4_attn_args args = {c.q, out, SEQ, seq, pos, HEADS, KV, HD, kc, vc, CTX, scores, 1};
    l4_attention(&args);
    gc_compare_f("attention vs inference l4_attention", c.out, out, SEQ * HEADS * HD, 1e-5);
    release(&c);
    free(kc), free(vc), free(out), free(scores);
}

int main(void) {
    qt_seed(19);
    check_finite_differences();
    check_reference();
    check_inference();
    return qt_finish("test_grad_attention");
}
