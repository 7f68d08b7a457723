/* Causal attention over packed training rows, flash style: the forward keeps only the
 * log-sum-exp of each (token, head); the backward recomputes the probabilities from q, k and
 * lse. Work goes in blocks of BQ queries against all the keys they can see (a [BQ][keys] strip
 * of scores per thread, never [n_seq][n_seq]); the products are small GEMMs (grad_gemm.c).
 *   forward:  S = scale Q K^T, P = softmax(S) (masked), O = P V, lse = log sum exp(S)
 *   backward: P = exp(S - lse), dP = dO V^T, D = rowsum(dO * O), dS = P * (dP - D),
 *             dV += P^T dO, dK += scale dS^T Q, dQ += scale dS K
 * The forward splits (row, head, query block) items among threads; the backward splits
 * (row, kv head) items, so each thread owns the dK and dV rows it accumulates. */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "core/threadpool.h"
#include "train/grad_gemm.h"
#include "train/grad_kernels.h"
#include "train/grad_ops.h"

#define BQ 32 /* queries per block */

/* Below this many query-key-dimension products a thread hand-off costs more than it saves. */
#define ATTN_PARALLEL_MIN 65536

typedef struct attn_job {
    const l4_train_attn *a;
    const float *q, *k, *v, *out, *lse, *dout;
    float *o, *lse_out, *dq, *dk, *dv;
    const int32_t *first; /* [n_rows*n_seq] earliest key each token may see */
    int64_t n_qblocks;
    atomic_llong next; /* next item to take */
} attn_job;

static int n_workers(const l4_train_attn *a) { return a->n_threads > 0 ? a->n_threads : l4_n_cores(); }

/* floats per thread: the scores/probabilities strip, the dP/dS strip and D */
static int64_t thread_floats(const l4_train_attn *a) { return 2 * BQ * a->n_seq + BQ; }

int64_t l4_train_attn_scratch_floats(const l4_train_attn *a) {
    return a->n_rows * a->n_seq + (int64_t)n_workers(a) * thread_floats(a);
}

/* first[t] = the smallest s <= t of t's row with seg[s] == seg[t] (t itself for padding). A
 * token's keys lie in [first[t], t]; segments that resume after a gap leave holes in that range,
 * which mask_row removes. */
static void find_first_keys(const l4_train_attn *a, int32_t *first) {
    for (int64_t r = 0; r < a->n_rows; r++) {
        const int32_t *seg = a->seg + r * a->n_seq;
        int32_t *f = first + r * a->n_seq;
        for (int64_t t = 0; t < a->n_seq; t++) {
            if (seg[t] < 0) {
                f[t] = (int32_t)t;
            } else if (t > 0 && seg[t - 1] == seg[t]) {
                f[t] = f[t - 1];
            } else {
                int64_t s = 0;
                while (seg[s] != seg[t]) s++;
                f[t] = (int32_t)s;
            }
        }
    }
}

/* Keys of query t (row offset base) inside a strip row that starts at key lo: returns the
 * count of the range [first, t] and sets *from; marks keys of other segments inside it -inf. */
static int64_t mask_row(const int32_t *seg, const int32_t *first, int64_t t, int64_t lo, float *srow,
                        int64_t *from) {
    *from = first[t] - lo;
    for (int64_t s = first[t]; s < t; s++)
        if (seg[s] != seg[t]) srow[s - lo] = -INFINITY;
    return t - first[t] + 1;
}

/* Lowest key any query of [t0, t1) may see. */
static int64_t block_lo(const int32_t *first, int64_t t0, int64_t t1) {
    int64_t lo = t1;
    for (int64_t t = t0; t < t1; t++) lo = first[t] < lo ? first[t] : lo;
    return lo;
}

static void forward_block(const attn_job *j, float *strip, int64_t r, int h, int64_t t0, int64_t t1) {
    const l4_train_attn *a = j->a;
    const int64_t hd = a->head_dim, ldq = (int64_t)a->n_head * hd, ldk = (int64_t)a->n_head_kv * hd;
    const int g = h / (a->n_head / a->n_head_kv);
    const float scale = 1.0f / sqrtf((float)hd);
    const int64_t base = r * a->n_seq;
    const int32_t *seg = a->seg + base, *first = j->first + base;
    const int64_t lo = block_lo(first, t0, t1), nk = t1 - lo, bq = t1 - t0;
    const float *kb = j->k + (base + lo) * ldk + g * hd, *vb = j->v + (base + lo) * ldk + g * hd;
    float *ob = j->o + (base + t0) * ldq + h * hd;
    l4_grad_gemm(bq, nk, hd, scale, j->q + (base + t0) * ldq + h * hd, ldq, 1, kb, 1, ldk, strip, nk, 0);
    float inv[BQ];
    for (int64_t i = 0; i < bq; i++) {
        const int64_t t = t0 + i;
        float *srow = strip + i * nk;
        int64_t from;
        const int64_t len = mask_row(seg, first, t, lo, srow, &from);
        const float m = l4_grad_max_row(srow + from, len);
        const float sum = l4_grad_exp_row(srow + from, len, 1.0f, m, 1.0f);
        memset(srow, 0, (size_t)from * sizeof(float));
        memset(srow + from + len, 0, (size_t)(nk - from - len) * sizeof(float));
        j->lse_out[(base + t) * a->n_head + h] = m + logf(sum);
        inv[i] = 1.0f / sum;
    }
    l4_grad_gemm(bq, hd, nk, 1.0f, strip, nk, 1, vb, ldk, 1, ob, ldq, 0);
    for (int64_t i = 0; i < bq; i++)
        for (int64_t d = 0; d < hd; d++) ob[i * ldq + d] *= inv[i];
}

static void forward_task(void *arg, int ith, int nth) {
    attn_job *j = arg;
    const l4_train_attn *a = j->a;
    float *strip = a->scratch + a->n_rows * a->n_seq + ith * thread_floats(a);
    const int64_t per_block = a->n_rows * a->n_head, n_items = per_block * j->n_qblocks;
    for (;;) {
        const int64_t item = atomic_fetch_add(&j->next, 1);
        if (item >= n_items) break;
        /* the last query blocks (most keys) first, so the tail of the queue is short work */
        const int64_t qb = j->n_qblocks - 1 - item / per_block;
        const int64_t r = item % per_block / a->n_head;
        const int h = (int)(item % a->n_head);
        const int64_t t0 = qb * BQ, t1 = t0 + BQ < a->n_seq ? t0 + BQ : a->n_seq;
        forward_block(j, strip, r, h, t0, t1);
    }
}

/* Query-key-dimension products of the causal triangle: the thread decision's work measure. */
static int64_t attn_work(const l4_train_attn *a) {
    return a->n_rows * a->n_seq * (a->n_seq + 1) / 2 * a->n_head * a->head_dim;
}

static int thread_count(const l4_train_attn *a, int64_t items) {
    int nth = n_workers(a);
    if (attn_work(a) < ATTN_PARALLEL_MIN) nth = 1;
    return nth < items ? nth : (int)items;
}

void l4_train_attn_forward(const l4_train_attn *a, const float *q, const float *k, const float *v,
                           float *out, float *lse) {
    if (a->n_rows <= 0 || a->n_seq <= 0) return;
    attn_job j = {.a = a, .q = q, .k = k, .v = v, .o = out, .lse_out = lse};
    int32_t *first = (int32_t *)a->scratch;
    find_first_keys(a, first);
    j.first = first;
    j.n_qblocks = (a->n_seq + BQ - 1) / BQ;
    atomic_init(&j.next, 0);
    l4_parallel(forward_task, &j, thread_count(a, a->n_rows * a->n_head * j.n_qblocks));
}

static void backward_block(const attn_job *j, float *pstrip, float *dstrip, float *dvec, int64_t r, int h,
                           int64_t t0, int64_t t1) {
    const l4_train_attn *a = j->a;
    const int64_t hd = a->head_dim, ldq = (int64_t)a->n_head * hd, ldk = (int64_t)a->n_head_kv * hd;
    const int g = h / (a->n_head / a->n_head_kv);
    const float scale = 1.0f / sqrtf((float)hd);
    const int64_t base = r * a->n_seq;
    const int32_t *seg = a->seg + base, *first = j->first + base;
    const int64_t lo = block_lo(first, t0, t1), nk = t1 - lo, bq = t1 - t0;
    const int64_t kv_off = (base + lo) * ldk + g * hd, q_off = (base + t0) * ldq + h * hd;
    /* P = exp(scale Q K^T - lse) on each query's keys, 0 elsewhere */
    l4_grad_gemm(bq, nk, hd, scale, j->q + q_off, ldq, 1, j->k + kv_off, 1, ldk, pstrip, nk, 0);
    for (int64_t i = 0; i < bq; i++) {
        const int64_t t = t0 + i;
        float *srow = pstrip + i * nk;
        int64_t from;
        const int64_t len = mask_row(seg, first, t, lo, srow, &from);
        l4_grad_exp_row(srow + from, len, 1.0f, j->lse[(base + t) * a->n_head + h], 1.0f);
        memset(srow, 0, (size_t)from * sizeof(float));
        memset(srow + from + len, 0, (size_t)(nk - from - len) * sizeof(float));
        const float *dot = j->dout + q_off + i * ldq, *ot = j->out + q_off + i * ldq;
        float d = 0.0f;
        for (int64_t e = 0; e < hd; e++) d += dot[e] * ot[e];
        dvec[i] = d;
    }
    /* dS = P * (dO V^T - D) */
    l4_grad_gemm(bq, nk, hd, 1.0f, j->dout + q_off, ldq, 1, j->v + kv_off, 1, ldk, dstrip, nk, 0);
    for (int64_t i = 0; i < bq; i++) {
        const float *p = pstrip + i * nk;
        float *ds = dstrip + i * nk;
        for (int64_t s = 0; s < nk; s++) ds[s] = p[s] * (ds[s] - dvec[i]);
    }
    l4_grad_gemm(nk, hd, bq, 1.0f, pstrip, 1, nk, j->dout + q_off, ldq, 1, j->dv + kv_off, ldk, 1);
    l4_grad_gemm(nk, hd, bq, scale, dstrip, 1, nk, j->q + q_off, ldq, 1, j->dk + kv_off, ldk, 1);
    l4_grad_gemm(bq, hd, nk, scale, dstrip, nk, 1, j->k + kv_off, ldk, 1, j->dq + q_off, ldq, 1);
}

static void backward_task(void *arg, int ith, int nth) {
    attn_job *j = arg;
    const l4_train_attn *a = j->a;
    float *pstrip = a->scratch + a->n_rows * a->n_seq + ith * thread_floats(a);
    float *dstrip = pstrip + BQ * a->n_seq, *dvec = dstrip + BQ * a->n_seq;
    const int group = a->n_head / a->n_head_kv;
    const int64_t n_items = a->n_rows * a->n_head_kv;
    for (;;) {
        const int64_t item = atomic_fetch_add(&j->next, 1);
        if (item >= n_items) break;
        const int64_t r = item / a->n_head_kv;
        const int g = (int)(item % a->n_head_kv);
        for (int h = g * group; h < (g + 1) * group; h++)
            for (int64_t t0 = 0; t0 < a->n_seq; t0 += BQ)
                backward_block(j, pstrip, dstrip, dvec, r, h, t0, t0 + BQ < a->n_seq ? t0 + BQ : a->n_seq);
    }
}

void l4_train_attn_backward(const l4_train_attn *a, const float *q, const float *k, const float *v,
                            const float *out, const float *lse, const float *dout, float *dq,
                            float *dk, float *dv) {
    if (a->n_rows <= 0 || a->n_seq <= 0) return;
    attn_job j = {.a = a, .q = q, .k = k, .v = v, .out = out, .lse = lse, .dout = dout, .dq = dq, .dk = dk, .dv = dv};
    int32_t *first = (int32_t *)a->scratch;
    find_first_keys(a, first);
    j.first = first;
    atomic_init(&j.next, 0);
    l4_parallel(backward_task, &j, thread_count(a, a->n_rows * a->n_head_kv));
}
