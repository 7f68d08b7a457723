/* The attention kernels (ops/attention*.cu) against a scalar double reference and the CPU
 * engine:
 *   - training forward (out, lse) and backward (dq, dk, dv) over packed rows with segments, a
 *     resumed segment, padding and a partial last tile, GQA and MHA, head_dim 64, 48, 128, 200;
 *     a central finite difference of the double forward spot-checks the kernel's gradients;
 *   - the CPU trainer (l4_train_attn_*) on live tokens (it lets a padding token see itself, the
 *     device contract outputs 0 there; with dout 0 on padding the gradients agree everywhere);
 *   - decoding: kv_store then attention_cache for 3 sequences of different lengths, against the
 *     double reference and the CPU's l4_attention on the same (bf16-rounded) cache.
 * Tolerances: out is bf16 (relative rounding <= 2^-9), so 5e-3 relative; lse f32, 1e-4 absolute;
 * gradients are f32 sums over <= 70 keys and use the bf16 out for D = rowsum(dO∘O) exactly as
 * the reference does, so 1e-3 relative plus 1e-4 of the tensor's largest value. Against the CPU
 * (D from an f32 out) and the finite differences, 2e-2 of the largest gradient. */
#include <math.h>
#include <string.h>

#include "lcu_test.h"
#include "ops/ops.h"

extern "C" {
#include "infer/ops.h"
#include "train/grad_ops.h"
}

typedef struct cfg {
    int64_t n_rows, n_seq;
    int n_head, n_head_kv, hd;
} cfg;

static float bf16_round(float x) { return __bfloat162float(__float2bfloat16(x)); }

/* Row 0: segments 0, 1, padding, 2. Row 1: 0, 1, 0 again (a resumed segment), padding. Any
 * further rows (none here) would repeat row 1. */
static void make_segments(const cfg *c, int32_t *seg) {
    for (int64_t r = 0; r < c->n_rows; r++)
        for (int64_t t = 0; t < c->n_seq; t++) {
            const int64_t f = t * 100 / c->n_seq; /* percent of the row */
            int32_t s;
            if (r == 0) s = f < 35 ? 0 : f < 60 ? 1 : f < 66 ? -1 : 2;
            else s = f < 20 ? 0 : f < 50 ? 1 : f < 85 ? 0 : -1;
            seg[r * c->n_seq + t] = s;
        }
}

/* Double reference of the device contract: out, lse (0 for padding), and when dout is given the
 * gradients, with D computed from `o_for_d` (the output the kernel under test saw). */
static void reference(const cfg *c, const int32_t *seg, const float *q, const float *k, const float *v,
                      double *out, double *lse, const float *dout, const float *o_for_d, double *dq, double *dk,
                      double *dv) {
    const int64_t hd = c->hd, ldq = c->n_head * hd, ldk = c->n_head_kv * hd, n_seq = c->n_seq;
    const int group = c->n_head / c->n_head_kv;
    const double scale = 1.0 / sqrt((double)hd);
    const int64_t N = c->n_rows * n_seq;
    if (dout) {
        memset(dq, 0, sizeof(double) * N * ldq);
        memset(dk, 0, sizeof(double) * N * ldk);
        memset(dv, 0, sizeof(double) * N * ldk);
    }
    double *p = (double *)malloc(sizeof(double) * n_seq);
    for (int64_t r = 0; r < c->n_rows; r++)
        for (int h = 0; h < c->n_head; h++)
            for (int64_t t = 0; t < n_seq; t++) {
                const int64_t it = r * n_seq + t;
                const int g = h / group;
                const float *qt = q + it * ldq + h * hd;
                double *ot = out + it * ldq + h * hd;
                for (int64_t d = 0; d < hd; d++) ot[d] = 0.0;
                lse[it * c->n_head + h] = 0.0;
                if (seg[it] < 0) continue;
                double mx = -INFINITY;
                for (int64_t u = 0; u <= t; u++) {
                    p[u] = -INFINITY;
                    if (seg[r * n_seq + u] != seg[it]) continue;
                    double s = 0.0;
                    for (int64_t d = 0; d < hd; d++) s += (double)qt[d] * k[(r * n_seq + u) * ldk + g * hd + d];
                    p[u] = s * scale;
                    mx = p[u] > mx ? p[u] : mx;
                }
                double sum = 0.0;
                for (int64_t u = 0; u <= t; u++) sum += p[u] == -INFINITY ? 0.0 : exp(p[u] - mx);
                for (int64_t u = 0; u <= t; u++) p[u] = p[u] == -INFINITY ? 0.0 : exp(p[u] - mx) / sum;
                lse[it * c->n_head + h] = mx + log(sum);
                for (int64_t u = 0; u <= t; u++)
                    for (int64_t d = 0; d < hd; d++) ot[d] += p[u] * v[(r * n_seq + u) * ldk + g * hd + d];
                if (!dout) continue;
                const float *dot = dout + it * ldq + h * hd, *od = o_for_d + it * ldq + h * hd;
                double D = 0.0;
                for (int64_t d = 0; d < hd; d++) D += (double)dot[d] * od[d];
                for (int64_t u = 0; u <= t; u++) {
                    if (p[u] == 0.0) continue;
                    const int64_t iu = (r * n_seq + u) * ldk + g * hd;
                    double dp = 0.0;
                    for (int64_t d = 0; d < hd; d++) dp += (double)dot[d] * v[iu + d];
                    const double ds = p[u] * (dp - D);
                    for (int64_t d = 0; d < hd; d++) {
                        dq[it * ldq + h * hd + d] += scale * ds * k[iu + d];
                        dk[iu + d] += scale * ds * qt[d];
                        dv[iu + d] += p[u] * dot[d];
                    }
                }
            }
    free(p);
}

/* Every |got - ref| <= rtol |ref| + atol_frac max|ref|; prints the worst ratio to its bound. */
static void compare(const char *what, const float *got, const double *ref, int64_t n, double rtol, double atol_frac) {
    double big = 0.0;
    for (int64_t i = 0; i < n; i++) big = fabs(ref[i]) > big ? fabs(ref[i]) : big;
    double worst = 0.0;
    int64_t at = 0;
    for (int64_t i = 0; i < n; i++) {
        const double bound = rtol * fabs(ref[i]) + atol_frac * big + 1e-30;
        const double ratio = fabs((double)got[i] - ref[i]) / bound;
        if (!(ratio <= worst)) worst = ratio, at = i;
    }
    printf("  %-22s max|ref| %.3g  worst err/bound %.3f (at %lld: %.6g vs %.6g)\n", what, big, worst,
           (long long)at, got[at], ref[at]);
    LCU_CHECK(worst <= 1.0);
}

static void to_double(const float *x, double *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = x[i];
}

/* sum(dout ∘ out) of the double forward: the loss whose gradient the backward computes. */
static double loss(const cfg *c, const int32_t *seg, const float *q, const float *k, const float *v,
                   const float *dout, double *out, double *lse) {
    reference(c, seg, q, k, v, out, lse, NULL, NULL, NULL, NULL, NULL);
    double L = 0.0;
    for (int64_t i = 0; i < c->n_rows * c->n_seq * c->n_head * c->hd; i++) L += out[i] * dout[i];
    return L;
}

static void test_training(const cfg *c, uint64_t seed) {
    printf("training: rows %lld seq %lld heads %d/%d hd %d\n", (long long)c->n_rows, (long long)c->n_seq,
           c->n_head, c->n_head_kv, c->hd);
    const int64_t N = c->n_rows * c->n_seq, nq = N * c->n_head * c->hd, nk = N * c->n_head_kv * c->hd;
    float *q = (float *)malloc(sizeof(float) * nq), *k = (float *)malloc(sizeof(float) * nk);
    float *v = (float *)malloc(sizeof(float) * nk), *dout = (float *)malloc(sizeof(float) * nq);
    int32_t *seg = (int32_t *)malloc(sizeof(int32_t) * N);
    uint64_t st = seed;
    lcu_test_fill(q, nq, -1.5f, 1.5f, &st);
    lcu_test_fill(k, nk, -1.5f, 1.5f, &st);
    lcu_test_fill(v, nk, -1.0f, 1.0f, &st);
    lcu_test_fill(dout, nq, -1.0f, 1.0f, &st);
    make_segments(c, seg);

    float *dq_d = (float *)lcu_test_upload(q, sizeof(float) * nq), *dk_d = (float *)lcu_test_upload(k, sizeof(float) * nk);
    float *dv_d = (float *)lcu_test_upload(v, sizeof(float) * nk);
    float *ddout = (float *)lcu_test_upload(dout, sizeof(float) * nq);
    int32_t *dseg = (int32_t *)lcu_test_upload(seg, sizeof(int32_t) * N);
    lcu_bf16 *dout_bf = (lcu_bf16 *)lcu_test_upload(NULL, sizeof(lcu_bf16) * nq);
    float *dlse = (float *)lcu_test_upload(NULL, sizeof(float) * N * c->n_head);
    float *gq = (float *)lcu_test_upload(NULL, sizeof(float) * nq), *gk = (float *)lcu_test_upload(NULL, sizeof(float) * nk);
    float *gv = (float *)lcu_test_upload(NULL, sizeof(float) * nk);

    const lcu_attn a = {dq_d, dk_d, dv_d, dseg, c->n_rows, c->n_seq, c->n_head, c->n_head_kv, c->hd};
    lcu_attention(0, &a, dout_bf, dlse);
    lcu_attention_backward(0, &a, dout_bf, dlse, ddout, gq, gk, gv);

    lcu_bf16 *out_bf = (lcu_bf16 *)malloc(sizeof(lcu_bf16) * nq);
    float *out = (float *)malloc(sizeof(float) * nq), *lse = (float *)malloc(sizeof(float) * N * c->n_head);
    float *hq = (float *)malloc(sizeof(float) * nq), *hk = (float *)malloc(sizeof(float) * nk);
    float *hv = (float *)malloc(sizeof(float) * nk);
    lcu_test_download(out_bf, dout_bf, sizeof(lcu_bf16) * nq);
    lcu_test_download(lse, dlse, sizeof(float) * N * c->n_head);
    lcu_test_download(hq, gq, sizeof(float) * nq);
    lcu_test_download(hk, gk, sizeof(float) * nk);
    lcu_test_download(hv, gv, sizeof(float) * nk);
    for (int64_t i = 0; i < nq; i++) out[i] = __bfloat162float(out_bf[i]);

    double *rout = (double *)malloc(sizeof(double) * nq), *rlse = (double *)malloc(sizeof(double) * N * c->n_head);
    double *rdq = (double *)malloc(sizeof(double) * nq), *rdk = (double *)malloc(sizeof(double) * nk);
    double *rdv = (double *)malloc(sizeof(double) * nk);
    reference(c, seg, q, k, v, rout, rlse, dout, out, rdq, rdk, rdv);
    compare("out vs double", out, rout, nq, 5e-3, 1e-5);
    compare("lse vs double", lse, rlse, N * c->n_head, 0.0, 1e-4 / 4.0); /* lse values are O(1..4) */
    compare("dq vs double", hq, rdq, nq, 1e-3, 1e-4);
    compare("dk vs double", hk, rdk, nk, 1e-3, 1e-4);
    compare("dv vs double", hv, rdv, nk, 1e-3, 1e-4);
    for (int64_t i = 0; i < N; i++) /* padding: output, lse and gradients exactly 0 */
        if (seg[i] < 0) {
            for (int64_t e = 0; e < c->n_head * c->hd; e++) LCU_CHECK(out[i * c->n_head * c->hd + e] == 0.0f && hq[i * c->n_head * c->hd + e] == 0.0f);
            for (int64_t e = 0; e < c->n_head_kv * c->hd; e++) LCU_CHECK(hk[i * c->n_head_kv * c->hd + e] == 0.0f && hv[i * c->n_head_kv * c->hd + e] == 0.0f);
            for (int h = 0; h < c->n_head; h++) LCU_CHECK(lse[i * c->n_head + h] == 0.0f);
        }

    /* The CPU trainer, with dout 0 on padding rows (its padding tokens see themselves). */
    float *cdout = (float *)malloc(sizeof(float) * nq), *cout_ = (float *)malloc(sizeof(float) * nq);
    float *clse = (float *)malloc(sizeof(float) * N * c->n_head);
    float *cdq = (float *)calloc((size_t)nq, sizeof(float)), *cdk = (float *)calloc((size_t)nk, sizeof(float));
    float *cdv = (float *)calloc((size_t)nk, sizeof(float));
    memcpy(cdout, dout, sizeof(float) * nq);
    for (int64_t i = 0; i < N; i++)
        if (seg[i] < 0) memset(cdout + i * c->n_head * c->hd, 0, sizeof(float) * c->n_head * c->hd);
    l4_train_attn ta = {c->n_rows, c->n_seq, c->n_head, c->n_head_kv, c->hd, seg, 1, NULL};
    ta.scratch = (float *)malloc(sizeof(float) * l4_train_attn_scratch_floats(&ta));
    l4_train_attn_forward(&ta, q, k, v, cout_, clse);
    l4_train_attn_backward(&ta, q, k, v, cout_, clse, cdout, cdq, cdk, cdv);
    for (int64_t i = 0; i < N; i++)
        if (seg[i] < 0) { /* the contract's padding values, so the comparison covers all others */
            memset(cout_ + i * c->n_head * c->hd, 0, sizeof(float) * c->n_head * c->hd);
            memset(clse + i * c->n_head, 0, sizeof(float) * c->n_head);
        }
    double *cd = (double *)malloc(sizeof(double) * nq);
    to_double(cout_, cd, nq);
    compare("out vs CPU trainer", out, cd, nq, 5e-3, 1e-5);
    to_double(clse, cd, N * c->n_head);
    compare("lse vs CPU trainer", lse, cd, N * c->n_head, 0.0, 1e-4 / 4.0);
    /* our backward with the CPU's dout: padding rows' dout must not matter */
    LCU_CHECK_CUDA(cudaMemcpy(ddout, cdout, sizeof(float) * nq, cudaMemcpyHostToDevice));
    lcu_attention_backward(0, &a, dout_bf, dlse, ddout, gq, gk, gv);
    lcu_test_download(hq, gq, sizeof(float) * nq);
    lcu_test_download(hk, gk, sizeof(float) * nk);
    lcu_test_download(hv, gv, sizeof(float) * nk);
    to_double(cdq, cd, nq);
    compare("dq vs CPU trainer", hq, cd, nq, 0.0, 2e-2);
    to_double(cdk, cd, nk);
    compare("dk vs CPU trainer", hk, cd, nk, 0.0, 2e-2);
    to_double(cdv, cd, nk);
    compare("dv vs CPU trainer", hv, cd, nk, 0.0, 2e-2);

    /* Finite differences of the double forward's sum(cdout ∘ out) at a few live entries. */
    double *fo = (double *)malloc(sizeof(double) * nq), *fl = (double *)malloc(sizeof(double) * N * c->n_head);
    struct { float *x; const float *g; int64_t n; const char *name; } xs[3] = {{q, hq, nq, "q"}, {k, hk, nk, "k"}, {v, hv, nk, "v"}};
    double gmax = 0.0;
    for (int64_t i = 0; i < nq; i++) gmax = fabs(hq[i]) > gmax ? fabs(hq[i]) : gmax;
    for (int64_t i = 0; i < nk; i++) gmax = fabs(hk[i]) > gmax ? fabs(hk[i]) : gmax;
    for (int which = 0; which < 3; which++)
        for (int s = 0; s < 3; s++) {
            const int64_t i = (int64_t)(lcu_test_uniform(&st, 0.0f, 1.0f) * (float)xs[which].n) % xs[which].n;
            const float x0 = xs[which].x[i], eps = 1e-2f;
            xs[which].x[i] = x0 + eps;
            const double lp = loss(c, seg, q, k, v, cdout, fo, fl);
            xs[which].x[i] = x0 - eps;
            const double lm = loss(c, seg, q, k, v, cdout, fo, fl);
            xs[which].x[i] = x0;
            const double fd = (lp - lm) / (2.0 * (double)eps);
            LCU_CHECK(fabs(fd - xs[which].g[i]) <= 2e-2 * gmax);
        }
    printf("  finite differences: 9 entries within 2e-2 of max|grad| %.3g\n", gmax);

    free(fo), free(fl), free(cd), free(ta.scratch), free(cdout), free(cout_), free(clse), free(cdq), free(cdk), free(cdv);
    free(rout), free(rlse), free(rdq), free(rdk), free(rdv), free(out_bf), free(out), free(lse), free(hq), free(hk), free(hv);
    free(q), free(k), free(v), free(dout), free(seg);
    cudaFree(dq_d), cudaFree(dk_d), cudaFree(dv_d), cudaFree(ddout), cudaFree(dseg), cudaFree(dout_bf), cudaFree(dlse);
    cudaFree(gq), cudaFree(gk), cudaFree(gv);
}

/* kv_store of every sequence's tokens, then nqr queries at several positions of 3 sequences
 * (nqr * n_head picks the kernel's warps per block: < 128 pairs 16, < 512 pairs 8). */
static void test_decode(int n_head, int n_head_kv, int hd, int nqr, uint64_t seed) {
    printf("decode: heads %d/%d hd %d, %d queries\n", n_head, n_head_kv, hd, nqr);
    const int n_seqs = 3, len[3] = {13, 50, 77};
    const int64_t n_ctx = 80, cache = (int64_t)n_seqs * n_head_kv * n_ctx * hd, ldk = (int64_t)n_head_kv * hd;
    int64_t n_tok = 0;
    for (int s = 0; s < n_seqs; s++) n_tok += len[s];
    float *k = (float *)malloc(sizeof(float) * n_tok * ldk), *v = (float *)malloc(sizeof(float) * n_tok * ldk);
    int32_t *seq = (int32_t *)malloc(sizeof(int32_t) * n_tok), *pos = (int32_t *)malloc(sizeof(int32_t) * n_tok);
    uint64_t st = seed;
    lcu_test_fill(k, n_tok * ldk, -1.5f, 1.5f, &st);
    lcu_test_fill(v, n_tok * ldk, -1.0f, 1.0f, &st);
    /* tokens interleaved across sequences, as a batched prefill of mixed lengths would */
    int64_t i = 0;
    for (int p = 0; p < len[n_seqs - 1]; p++) /* len ascends */
        for (int s = 0; s < n_seqs; s++)
            if (p < len[s]) seq[i] = s, pos[i] = p, i++;

    lcu_bf16 *kc = (lcu_bf16 *)malloc(sizeof(lcu_bf16) * cache), *vc = (lcu_bf16 *)malloc(sizeof(lcu_bf16) * cache);
    memset((void *)kc, 0x7f, sizeof(lcu_bf16) * cache); /* a sentinel in every slot no token writes */
    memset((void *)vc, 0x7f, sizeof(lcu_bf16) * cache);
    lcu_kv kv = {(lcu_bf16 *)lcu_test_upload(kc, sizeof(lcu_bf16) * cache), (lcu_bf16 *)lcu_test_upload(vc, sizeof(lcu_bf16) * cache),
                 n_ctx, n_head_kv, hd};
    float *dk = (float *)lcu_test_upload(k, sizeof(float) * n_tok * ldk), *dv = (float *)lcu_test_upload(v, sizeof(float) * n_tok * ldk);
    int32_t *dseq = (int32_t *)lcu_test_upload(seq, sizeof(int32_t) * n_tok), *dpos = (int32_t *)lcu_test_upload(pos, sizeof(int32_t) * n_tok);
    lcu_kv_store(0, &kv, dk, dv, dseq, dpos, n_tok);
    lcu_test_download(kc, kv.k, sizeof(lcu_bf16) * cache);
    lcu_test_download(vc, kv.v, sizeof(lcu_bf16) * cache);
    /* every slot: the token's bf16 value where one was stored, the sentinel elsewhere */
    float *fk = (float *)malloc(sizeof(float) * cache), *fv = (float *)malloc(sizeof(float) * cache);
    for (int64_t e = 0; e < cache; e++) fk[e] = NAN, fv[e] = NAN;
    for (int64_t t = 0; t < n_tok; t++)
        for (int g = 0; g < n_head_kv; g++)
            for (int d = 0; d < hd; d++) {
                const int64_t at = (((int64_t)seq[t] * n_head_kv + g) * n_ctx + pos[t]) * hd + d;
                fk[at] = bf16_round(k[t * ldk + g * hd + d]);
                fv[at] = bf16_round(v[t * ldk + g * hd + d]);
            }
    for (int64_t e = 0; e < cache; e++) {
        if (isnan(fk[e])) {
            uint16_t kb, vb;
            memcpy(&kb, &kc[e], 2), memcpy(&vb, &vc[e], 2);
            LCU_CHECK(kb == 0x7f7f && vb == 0x7f7f);
            fk[e] = fv[e] = 0.0f; /* never read by the queries below */
        } else {
            LCU_CHECK(__bfloat162float(kc[e]) == fk[e] && __bfloat162float(vc[e]) == fv[e]);
        }
    }

    /* each sequence's last and first position, then positions spread over it */
    int32_t *qseq = (int32_t *)malloc(sizeof(int32_t) * nqr), *qpos = (int32_t *)malloc(sizeof(int32_t) * nqr);
    for (int qi = 0; qi < nqr; qi++) {
        qseq[qi] = qi % n_seqs;
        qpos[qi] = qi < n_seqs ? len[qi] - 1 : qi < 2 * n_seqs ? 0 : (qi * 37) % len[qi % n_seqs];
    }
    const int64_t ldq = (int64_t)n_head * hd;
    float *q = (float *)malloc(sizeof(float) * nqr * ldq);
    lcu_test_fill(q, nqr * ldq, -1.5f, 1.5f, &st);
    float *dq = (float *)lcu_test_upload(q, sizeof(float) * nqr * ldq);
    int32_t *dqs = (int32_t *)lcu_test_upload(qseq, sizeof(int32_t) * nqr), *dqp = (int32_t *)lcu_test_upload(qpos, sizeof(int32_t) * nqr);
    lcu_bf16 *dout = (lcu_bf16 *)lcu_test_upload(NULL, sizeof(lcu_bf16) * nqr * ldq);
    lcu_attention_cache(0, &kv, dq, dqs, dqp, nqr, n_head, dout);
    lcu_bf16 *ob = (lcu_bf16 *)malloc(sizeof(lcu_bf16) * nqr * ldq);
    lcu_test_download(ob, dout, sizeof(lcu_bf16) * nqr * ldq);
    float *out = (float *)malloc(sizeof(float) * nqr * ldq);
    for (int64_t e = 0; e < nqr * ldq; e++) out[e] = __bfloat162float(ob[e]);

    double *ref = (double *)malloc(sizeof(double) * nqr * ldq), *p = (double *)malloc(sizeof(double) * n_ctx);
    const double scale = 1.0 / sqrt((double)hd);
    for (int qi = 0; qi < nqr; qi++)
        for (int h = 0; h < n_head; h++) {
            const int64_t head = ((int64_t)qseq[qi] * n_head_kv + h / (n_head / n_head_kv)) * n_ctx * hd;
            double mx = -INFINITY, sum = 0.0;
            for (int u = 0; u <= qpos[qi]; u++) {
                double s = 0.0;
                for (int d = 0; d < hd; d++) s += (double)q[qi * ldq + h * hd + d] * fk[head + u * hd + d];
                p[u] = s * scale;
                mx = p[u] > mx ? p[u] : mx;
            }
            for (int u = 0; u <= qpos[qi]; u++) sum += (p[u] = exp(p[u] - mx));
            for (int d = 0; d < hd; d++) {
                double o = 0.0;
                for (int u = 0; u <= qpos[qi]; u++) o += p[u] * fv[head + u * hd + d];
                ref[qi * ldq + h * hd + d] = o / sum;
            }
        }
    compare("out vs double", out, ref, nqr * ldq, 5e-3, 1e-5);

    /* The CPU's decoding attention on the same cache values. */
    float *cpu = (float *)malloc(sizeof(float) * nqr * ldq), *scores = (float *)malloc(sizeof(float) * n_ctx);
    l4_attn_args aa = {q, cpu, nqr, qseq, qpos, n_head, n_head_kv, hd, fk, fv, n_ctx, scores, 1};
    l4_attention(&aa);
    double *cd = (double *)malloc(sizeof(double) * nqr * ldq);
    to_double(cpu, cd, nqr * ldq);
    compare("out vs CPU l4_attention", out, cd, nqr * ldq, 5e-3, 1e-5);

    free(cd), free(cpu), free(scores), free(ref), free(p), free(out), free(ob), free(q), free(fk), free(fv);
    free(kc), free(vc), free(k), free(v), free(seq), free(pos), free(qseq), free(qpos);
    cudaFree(kv.k), cudaFree(kv.v), cudaFree(dk), cudaFree(dv), cudaFree(dseq), cudaFree(dpos), cudaFree(dq);
    cudaFree(dqs), cudaFree(dqp), cudaFree(dout);
}

int main(void) {
    const int skip = lcu_test_skip_without_device();
    if (skip) return skip;
    const cfg cases[] = {
        {2, 45, 4, 2, 64},  /* GQA, one full and one partial query tile */
        {2, 61, 2, 2, 48},  /* MHA, head_dim not a multiple of 32 */
        {1, 70, 4, 1, 128}, /* all query heads on one kv head */
        {1, 40, 2, 1, 200}, /* the widest tiling (head_dim <= 256) */
        {3, 7, 2, 2, 37},   /* rows shorter than a tile, three of them; an odd head_dim */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) test_training(&cases[i], 0x9e3779b97f4a7c15ull + i);
    test_decode(4, 2, 64, 40, 7);
    test_decode(6, 2, 96, 9, 8);
    test_decode(2, 2, 48, 7, 9);
    test_decode(2, 1, 256, 6, 10);
    printf("attention: all checks passed\n");
    return 0;
}
