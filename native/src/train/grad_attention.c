/* Causal attention over packed training rows, flash style: the forward keeps only the
 * log-sum-exp of each (token, head); the backward recomputes the probabilities from q, k and
 * lse. Queries go in blocks of BQ against all the keys they can see: a [BQ][keys] strip of
 * scores per thread, never [n_seq][n_seq]. The products are small GEMMs (grad_gemm.c) reading
 * their operands in place; K and V of the (row, kv head) at hand are transposed once into
 * thread scratch so that Q K^T and dO V^T read rows too.
 *   forward:  S = scale Q K^T, P = softmax(S) (masked), O = P V, lse = log sum exp(S)
 *   backward: P = exp(S - lse), dP = dO V^T, D = rowsum(dO * O), dS = P * (dP - D),
 *             dV += P^T dO, dK += scale dS^T Q, dQ += scale dS K
 * The forward hands out (row, head) items to threads; the backward (row, kv head) items, so
 * each thread owns the dK and dV rows it accumulates. */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "core/threadpool.h"
#include "train/grad_gemm.h"
#include "train/grad_kernels.h"
#include "train/grad_ops.h"

#define BQ 64 /* queries per block */

/* Below this many query-key-dimension products a thread hand-off costs more than it saves. */
#define ATTN_PARALLEL_MIN 65536

typedef struct attn_job {
    const l4_train_attn *a;
    const float *q, *k, *v, *out, *lse, *dout;
    float *o, *lse_out, *dq, *dk, *dv;
    const int32_t *first; /* [n_rows*n_seq] earliest key each token may see */
    const int32_t *run;   /* [n_rows*n_seq] start of the token's run of equal seg */
    atomic_llong next;    /* next item to take */
} attn_job;

static int n_workers(const l4_train_attn *a) { return a->n_threads > 0 ? a->n_threads : l4_n_cores(); }

/* Per thread: two [BQ][n_seq] strips, D, and K^T, V^T ([head_dim][n_seq] each). */
static int64_t thread_floats(const l4_train_attn *a) {
    return 2 * BQ * a->n_seq + BQ + 2 * (int64_t)a->head_dim * a->n_seq;
}

int64_t l4_train_attn_scratch_floats(const l4_train_attn *a) {
    return 2 * a->n_rows * a->n_seq + (int64_t)n_workers(a) * thread_floats(a);
}

/* first[t]: the smallest s <= t of t's row with seg[s] == seg[t]; run[t]: the start of the run
 * of equal seg that ends at t (both t for padding). Keys of t lie in [first[t], t], and only
 * [first[t], run[t]) can hold keys of other segments (a segment resumed after a gap). */
static void find_key_ranges(const l4_train_attn *a, int32_t *first, int32_t *run) {
    for (int64_t r = 0; r < a->n_rows; r++) {
        const int32_t *seg = a->seg + r * a->n_seq;
        int32_t *f = first + r * a->n_seq, *u = run + r * a->n_seq;
        for (int64_t t = 0; t < a->n_seq; t++) {
            if (seg[t] < 0) {
                f[t] = u[t] = (int32_t)t;
            } else if (t > 0 && seg[t - 1] == seg[t]) {
                f[t] = f[t - 1], u[t] = u[t - 1];
            } else {
                int64_t s = 0;
                while (seg[s] != seg[t]) s++;
                f[t] = (int32_t)s, u[t] = (int32_t)t;
            }
        }
    }
}

/* Turn query t's strip row srow (scores of keys lo.., nk of them) into masked exponentials:
 * exp(srow - shift) on [first, t] (keys of other segments there -> 0), 0 elsewhere. shift is
 * the row max when find_max is set (forward; *shift receives it), else the given lse. Returns
 * the sum of the exponentials. */
static float exp_row(const attn_job *j, int64_t base, int64_t t, int64_t lo, int64_t nk, float *srow,
                     int find_max, float *shift) {
    const int32_t *seg = j->a->seg + base;
    const int64_t f = j->first[base + t], u = j->run[base + t];
    for (int64_t s = f; s < u; s++)
        if (seg[s] != seg[t]) srow[s - lo] = -INFINITY;
    const int64_t from = f - lo, len = t - f + 1;
    if (find_max) *shift = l4_grad_max_row(srow + from, len);
    const float sum = l4_grad_exp_row(srow + from, len, 1.0f, *shift, 1.0f);
    memset(srow, 0, (size_t)from * sizeof(float));
    memset(srow + from + len, 0, (size_t)(nk - from - len) * sizeof(float));
    return sum;
}

/* Lowest key any query of [t0, t1) may see. */
static int64_t block_lo(const int32_t *first, int64_t t0, int64_t t1) {
    int64_t lo = t1;
    for (int64_t t = t0; t < t1; t++) lo = first[t] < lo ? first[t] : lo;
    return lo;
}

/* xt[d*n + s] = x[s*ld + d]: one head's [n][hd] slice as [hd][n]. */
static void transpose(const float *x, int64_t ld, int64_t n, int64_t hd, float *xt) {
    for (int64_t s = 0; s < n; s++)
        for (int64_t d = 0; d < hd; d++) xt[d * n + s] = x[s * ld + d];
}

static void forward_item(const attn_job *j, float *strip, float *kt, int64_t r, int h) {
    const l4_train_attn *a = j->a;
    const int64_t n_seq = a->n_seq, hd = a->head_dim, ldq = (int64_t)a->n_head * hd,
                  ldk = (int64_t)a->n_head_kv * hd, base = r * n_seq;
    const int g = h / (a->n_head / a->n_head_kv);
    const float scale = 1.0f / sqrtf((float)hd);
    transpose(j->k + base * ldk + g * hd, ldk, n_seq, hd, kt);
    for (int64_t t0 = 0; t0 < n_seq; t0 += BQ) {
        const int64_t t1 = t0 + BQ < n_seq ? t0 + BQ : n_seq, bq = t1 - t0;
        const int64_t lo = block_lo(j->first + base, t0, t1), nk = t1 - lo;
        float *ob = j->o + (base + t0) * ldq + h * hd;
        l4_grad_gemm(bq, nk, hd, scale, j->q + (base + t0) * ldq + h * hd, ldq, 1, kt + lo, n_seq, 1, strip, nk, 0);
        float inv[BQ];
        for (int64_t i = 0; i < bq; i++) {
            float m;
            const float sum = exp_row(j, base, t0 + i, lo, nk, strip + i * nk, 1, &m);
            j->lse_out[(base + t0 + i) * a->n_head + h] = m + logf(sum);
            inv[i] = 1.0f / sum;
        }
        l4_grad_gemm(bq, hd, nk, 1.0f, strip, nk, 1, j->v + (base + lo) * ldk + g * hd, ldk, 1, ob, ldq, 0);
        for (int64_t i = 0; i < bq; i++)
            for (int64_t d = 0; d < hd; d++) ob[i * ldq + d] *= inv[i];
    }
}

static void forward_task(void *arg, int ith, int nth) {
    attn_job *j = arg;
    const l4_train_attn *a = j->a;
    float *strip = a->scratch + 2 * a->n_rows * a->n_seq + ith * thread_floats(a);
    float *kt = strip + 2 * BQ * a->n_seq + BQ;
    for (;;) {
        const int64_t item = atomic_fetch_add(&j->next, 1);
        if (item >= a->n_rows * a->n_head) break;
        forward_item(j, strip, kt, item / a->n_head, (int)(item % a->n_head));
    }
}

/* Query-key-dimension products of the causal triangle: the threading decision's measure. */
static int thread_count(const l4_train_attn *a, int64_t items) {
    const int64_t work = a->n_rows * a->n_seq * (a->n_seq + 1) / 2 * a->n_head * a->head_dim;
    const int nth = work < ATTN_PARALLEL_MIN ? 1 : n_workers(a);
    return nth < items ? nth : (int)items;
}

static void start(attn_job *j, const l4_train_attn *a) {
    int32_t *first = (int32_t *)a->scratch, *run = first + a->n_rows * a->n_seq;
    find_key_ranges(a, first, run);
    j->first = first, j->run = run;
    atomic_init(&j->next, 0);
}

void l4_train_attn_forward(const l4_train_attn *a, const float *q, const float *k, const float *v,
                           float *out, float *lse) {
    if (a->n_rows <= 0 || a->n_seq <= 0) return;
    attn_job j = {.a = a, .q = q, .k = k, .v = v, .o = out, .lse_out = lse};
    start(&j, a);
    l4_parallel(forward_task, &j, thread_count(a, a->n_rows * a->n_head));
}

typedef struct bwd_scratch {
    float *p, *ds, *dvec, *kt, *vt;
} bwd_scratch;

static void backward_block(const attn_job *j, const bwd_scratch *w, int64_t r, int h, int64_t t0, int64_t t1) {
    const l4_train_attn *a = j->a;
    const int64_t n_seq = a->n_seq, hd = a->head_dim, ldq = (int64_t)a->n_head * hd,
                  ldk = (int64_t)a->n_head_kv * hd, base = r * n_seq;
    const int g = h / (a->n_head / a->n_head_kv);
    const float scale = 1.0f / sqrtf((float)hd);
    const int64_t lo = block_lo(j->first + base, t0, t1), nk = t1 - lo, bq = t1 - t0;
    const int64_t kv_off = (base + lo) * ldk + g * hd, q_off = (base + t0) * ldq + h * hd;
    l4_grad_gemm(bq, nk, hd, scale, j->q + q_off, ldq, 1, w->kt + lo, n_seq, 1, w->p, nk, 0);
    for (int64_t i = 0; i < bq; i++) {
        float shift = j->lse[(base + t0 + i) * a->n_head + h];
        exp_row(j, base, t0 + i, lo, nk, w->p + i * nk, 0, &shift);
        const float *dot = j->dout + q_off + i * ldq, *ot = j->out + q_off + i * ldq;
        float d = 0.0f;
        for (int64_t e = 0; e < hd; e++) d += dot[e] * ot[e];
        w->dvec[i] = d;
    }
    l4_grad_gemm(bq, nk, hd, 1.0f, j->dout + q_off, ldq, 1, w->vt + lo, n_seq, 1, w->ds, nk, 0);
    for (int64_t i = 0; i < bq; i++) {
        const float *p = w->p + i * nk;
        float *ds = w->ds + i * nk;
        for (int64_t s = 0; s < nk; s++) ds[s] = p[s] * (ds[s] - w->dvec[i]);
    }
    l4_grad_gemm(nk, hd, bq, 1.0f, w->p, 1, nk, j->dout + q_off, ldq, 1, j->dv + kv_off, ldk, 1);
    l4_grad_gemm(nk, hd, bq, scale, w->ds, 1, nk, j->q + q_off, ldq, 1, j->dk + kv_off, ldk, 1);
    l4_grad_gemm(bq, hd, nk, scale, w->ds, nk, 1, j->k + kv_off, ldk, 1, j->dq + q_off, ldq, 1);
}

static void backward_task(void *arg, int ith, int nth) {
    attn_job *j = arg;
    const l4_train_attn *a = j->a;
    const int64_t n_seq = a->n_seq, hd = a->head_dim, ldk = (int64_t)a->n_head_kv * hd;
    float *mine = a->scratch + 2 * a->n_rows * n_seq + ith * thread_floats(a);
    const bwd_scratch w = {mine, mine + BQ * n_seq, mine + 2 * BQ * n_seq, mine + 2 * BQ * n_seq + BQ,
                           mine + 2 * BQ * n_seq + BQ + hd * n_seq};
    const int group = a->n_head / a->n_head_kv;
    for (;;) {
        const int64_t item = atomic_fetch_add(&j->next, 1);
        if (item >= a->n_rows * a->n_head_kv) break;
        const int64_t r = item / a->n_head_kv;
        const int g = (int)(item % a->n_head_kv);
        transpose(j->k + r * n_seq * ldk + g * hd, ldk, n_seq, hd, w.kt);
        transpose(j->v + r * n_seq * ldk + g * hd, ldk, n_seq, hd, w.vt);
        for (int h = g * group; h < (g + 1) * group; h++)
            for (int64_t t0 = 0; t0 < n_seq; t0 += BQ) backward_block(j, &w, r, h, t0, t0 + BQ < n_seq ? t0 + BQ : n_seq);
    }
}

void l4_train_attn_backward(const l4_train_attn *a, const float *q, const float *k, const float *v,
                            const float *out, const float *lse, const float *dout, float *dq,
                            float *dk, float *dv) {
    if (a->n_rows <= 0 || a->n_seq <= 0) return;
    attn_job j = {.a = a, .q = q, .k = k, .v = v, .out = out, .lse = lse, .dout = dout, .dq = dq, .dk = dk, .dv = dv};
    start(&j, a);
    l4_parallel(backward_task, &j, thread_count(a, a->n_rows * a->n_head_kv));
}
