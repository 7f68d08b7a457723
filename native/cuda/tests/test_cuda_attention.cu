/* The attention kernels (ops/attention*.cu) against a scalar double reference and the CPU
 * engine:
 *   - training forward (out, lse) and backward (dq, dk, dv) from bf16 q, k, v (the references
 *     read the same bf16-rounded values in f32/double) over packed rows with segments, a
 *     resumed segment, padding and partial tiles, GQA and MHA, head_dim 64, 48, 128, 200, 37, 16
 *     and 32 (each tiling width, dims not a multiple of 4), rows shorter than a tile, on the FMA
 *     kernels and, for head_dim a multiple of 16 up to 128, the tensor-core ones (once more with
 *     inputs not 16-byte aligned, for their element-wise tile loads), lcu_attention(_backward)
 *     giving bitwise the results of the family they should pick; padding must give
 *     exactly 0 (out, lse, gradients); central finite differences of the double forward
 *     spot-check the kernel's gradients;
 *   - the CPU trainer (l4_train_attn_*) on the same data: it lets a padding token see itself
 *     where the device contract outputs 0, so its padding rows are set to the contract's 0 and
 *     dout is 0 there (then the gradients agree everywhere, and the device's must not depend on
 *     dout at padding);
 *   - decoding: kv_store then attention_cache for 3 sequences of different lengths (every cache
 *     slot checked), against the double reference and the CPU's l4_attention on the same
 *     bf16-rounded cache, with enough queries for both the 16- and the 8-warp blocks.
 * Errors are max |got - want| / max |want| (lcu_test_compare). out is bf16, rounded by up to
 * 2^-9 of its value: 4e-3. lse is f32: 1e-5. The gradients are f32 sums over <= 70 keys that use
 * the bf16 out for D = rowsum(dO∘O), as the double reference does: 1e-4. Against the CPU (D
 * from an f32 out; measured 3e-3) and the finite differences (the same, plus the step): 1e-2.
 * The tensor-core kernels round P (forward and backward), dO and dS to bf16 for their products:
 * out measured <= 2.9e-3 (bound 5e-3), gradients against the double reference <= 3.6e-3 (bound
 * 8e-3), against the CPU <= 6.7e-3 (the same 1e-2). */
#include <math.h>
#include <string.h>

#include <vector>

#include "lcu_test.h"
#include "ops/ops.h"

extern "C" {
#include "infer/ops.h"
#include "train/grad_ops.h"
}

typedef std::vector<float> fvec;

typedef struct cfg {
    int64_t n_rows, n_seq;
    int n_head, n_head_kv, hd;
} cfg;

static float bf16_round(float x) { return __bfloat162float(__float2bfloat16(x)); }

/* A device copy of v starting `shift` elements into its allocation *mem (shift 1: rows of an
 * even number of elements lose their 16-byte alignment). */
template <class T> static T *upload_at(const std::vector<T> &v, int shift, T **mem) {
    std::vector<T> b(v.size() + shift);
    memcpy((void *)(b.data() + shift), v.data(), sizeof(T) * v.size());
    *mem = lcu_test_upload(b.data(), b.size());
    return *mem + shift;
}

/* lcu_test_rnd() rounded to bf16 (the values the training kernels read), and a device copy in bf16. */
static fvec rnd_bf16(size_t n, unsigned seed, float a, int shift, lcu_bf16 **mem, lcu_bf16 **dev) {
    fvec v = lcu_test_rnd(n, seed, a);
    std::vector<lcu_bf16> b(n);
    for (size_t i = 0; i < n; i++) {
        b[i] = __float2bfloat16(v[i]);
        v[i] = __bfloat162float(b[i]);
    }
    *dev = upload_at(b, shift, mem);
    return v;
}

/* Row 0: segments 0, 1, padding, 2. Other rows: 0, 1, 0 again (a resumed segment), padding. */
static std::vector<int32_t> make_segments(const cfg *c) {
    std::vector<int32_t> seg((size_t)(c->n_rows * c->n_seq));
    for (int64_t r = 0; r < c->n_rows; r++)
        for (int64_t t = 0; t < c->n_seq; t++) {
            const int64_t f = t * 100 / c->n_seq; /* percent of the row */
            seg[r * c->n_seq + t] = r == 0 ? (f < 35 ? 0 : f < 60 ? 1 : f < 66 ? -1 : 2)
                                           : (f < 20 ? 0 : f < 50 ? 1 : f < 85 ? 0 : -1);
        }
    return seg;
}

typedef struct grads {
    fvec dq, dk, dv;
} grads;

/* Double reference of the device contract: out and lse (0 for padding); with dout, also the
 * gradients, D computed from o_for_d (the output the kernel under test saw). */
static void reference(const cfg *c, const int32_t *seg, const float *q, const float *k, const float *v, fvec *out,
                      fvec *lse, const float *dout, const float *o_for_d, grads *g) {
    const int64_t hd = c->hd, ldq = c->n_head * hd, ldk = c->n_head_kv * hd, n_seq = c->n_seq;
    const int64_t N = c->n_rows * n_seq;
    const int group = c->n_head / c->n_head_kv;
    const double scale = 1.0 / sqrt((double)hd);
    std::vector<double> dq(dout ? N * ldq : 0), dk(dout ? N * ldk : 0), dv(dout ? N * ldk : 0), p(n_seq), o(hd);
    out->assign(N * ldq, 0.0f);
    lse->assign(N * c->n_head, 0.0f);
    for (int64_t r = 0; r < c->n_rows; r++)
        for (int h = 0; h < c->n_head; h++)
            for (int64_t t = 0; t < n_seq; t++) {
                const int64_t it = r * n_seq + t;
                if (seg[it] < 0) continue;
                const float *qt = q + it * ldq + h * hd;
                const int64_t kv = (int64_t)(h / group) * hd;
                double mx = -INFINITY, sum = 0.0;
                for (int64_t u = 0; u <= t; u++) {
                    p[u] = -INFINITY;
                    if (seg[r * n_seq + u] != seg[it]) continue;
                    double s = 0.0;
                    for (int64_t d = 0; d < hd; d++) s += (double)qt[d] * k[(r * n_seq + u) * ldk + kv + d];
                    p[u] = s * scale;
                    mx = fmax(mx, p[u]);
                }
                for (int64_t u = 0; u <= t; u++) sum += exp(p[u] - mx);
                for (int64_t u = 0; u <= t; u++) p[u] = exp(p[u] - mx) / sum;
                (*lse)[it * c->n_head + h] = (float)(mx + log(sum));
                for (int64_t d = 0; d < hd; d++) o[d] = 0.0;
                for (int64_t u = 0; u <= t; u++)
                    for (int64_t d = 0; d < hd; d++) o[d] += p[u] * v[(r * n_seq + u) * ldk + kv + d];
                for (int64_t d = 0; d < hd; d++) (*out)[it * ldq + h * hd + d] = (float)o[d];
                if (!dout) continue;
                const float *dot = dout + it * ldq + h * hd, *od = o_for_d + it * ldq + h * hd;
                double D = 0.0;
                for (int64_t d = 0; d < hd; d++) D += (double)dot[d] * od[d];
                for (int64_t u = 0; u <= t; u++) {
                    if (p[u] == 0.0) continue;
                    const int64_t iu = (r * n_seq + u) * ldk + kv;
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
    if (dout) {
        g->dq.assign(dq.begin(), dq.end());
        g->dk.assign(dk.begin(), dk.end());
        g->dv.assign(dv.begin(), dv.end());
    }
}

/* sum(dout ∘ out) of the double forward: the loss whose gradient the backward computes. */
static double loss(const cfg *c, const int32_t *seg, const fvec &q, const fvec &k, const fvec &v, const fvec &dout) {
    fvec out, lse;
    reference(c, seg, q.data(), k.data(), v.data(), &out, &lse, NULL, NULL, NULL);
    double L = 0.0;
    for (size_t i = 0; i < out.size(); i++) L += (double)out[i] * dout[i];
    return L;
}

static double max_abs(const fvec &x) {
    double m = 0.0;
    for (float e : x) m = fmax(m, fabs((double)e));
    return m;
}

/* A kernel family (ops.h) and its bounds against the double reference: out, gradients. */
typedef struct path {
    const char *name;
    void (*forward)(lcu_stream, const lcu_attn *, lcu_bf16 *, float *);
    void (*backward)(lcu_stream, const lcu_attn *, const lcu_bf16 *, const float *, const float *, float *, float *,
                     float *);
    double out_bound, grad_bound;
    int shift; /* q, k, v and dout this many elements past an aligned start */
} path;

static const path FMA = {"fma", lcu_attention_fma, lcu_attention_fma_backward, 4e-3, 1e-4, 0};
static const path MMA = {"mma", lcu_attention_mma, lcu_attention_mma_backward, 5e-3, 8e-3, 0};
/* the tensor-core kernels' tile loads fall back to one element at a time */
static const path MMA_UNALIGNED = {"mma, rows not 16-byte aligned", lcu_attention_mma, lcu_attention_mma_backward,
                                   5e-3, 8e-3, 1};

/* One case on one kernel family; `dispatched`: lcu_attention(_backward) must pick this family for
 * the case (checked by their results being bitwise the family's). */
static void test_training(const cfg *c, unsigned seed, const path *pa, int dispatched) {
    printf("training (%s): rows %lld seq %lld heads %d/%d hd %d\n", pa->name, (long long)c->n_rows,
           (long long)c->n_seq, c->n_head, c->n_head_kv, c->hd);
    const size_t N = (size_t)(c->n_rows * c->n_seq), nh = (size_t)c->n_head, ldq = nh * c->hd,
                 ldk = (size_t)c->n_head_kv * c->hd;
    lcu_bf16 *m_q, *m_k, *m_v, *d_q, *d_k, *d_v;
    float *m_dout;
    fvec q = rnd_bf16(N * ldq, seed, 1.5f, pa->shift, &m_q, &d_q);
    fvec k = rnd_bf16(N * ldk, seed + 1, 1.5f, pa->shift, &m_k, &d_k);
    fvec v = rnd_bf16(N * ldk, seed + 2, 1.0f, pa->shift, &m_v, &d_v), dout = lcu_test_rnd(N * ldq, seed + 3, 1.0f);
    const std::vector<int32_t> seg = make_segments(c);

    float *d_dout = upload_at(dout, pa->shift, &m_dout);
    int32_t *d_seg = lcu_test_upload(seg.data(), seg.size());
    lcu_bf16 *d_out = lcu_test_alloc<lcu_bf16>(N * ldq);
    float *d_lse = lcu_test_alloc<float>(N * nh), *d_dq = lcu_test_alloc<float>(N * ldq);
    float *d_dk = lcu_test_alloc<float>(N * ldk), *d_dv = lcu_test_alloc<float>(N * ldk);

    const lcu_attn a = {d_q, d_k, d_v, d_seg, c->n_rows, c->n_seq, c->n_head, c->n_head_kv, c->hd};
    pa->forward(0, &a, d_out, d_lse);
    pa->backward(0, &a, d_out, d_lse, d_dout, d_dq, d_dk, d_dv);
    std::vector<lcu_bf16> out_bf(N * ldq);
    lcu_test_sync();
    lcu_test_download(out_bf.data(), d_out, out_bf.size());
    fvec out(N * ldq), lse = lcu_test_fetch(d_lse, N * nh);
    for (size_t i = 0; i < out.size(); i++) out[i] = __bfloat162float(out_bf[i]);
    grads got = {lcu_test_fetch(d_dq, N * ldq), lcu_test_fetch(d_dk, N * ldk), lcu_test_fetch(d_dv, N * ldk)};
    if (dispatched) {
        lcu_attention(0, &a, d_out, d_lse);
        lcu_attention_backward(0, &a, d_out, d_lse, d_dout, d_dq, d_dk, d_dv);
        std::vector<lcu_bf16> out_bf2(N * ldq);
        lcu_test_sync();
        lcu_test_download(out_bf2.data(), d_out, out_bf2.size());
        const int same = memcmp(out_bf.data(), out_bf2.data(), sizeof(lcu_bf16) * out_bf.size()) == 0 &&
                         lcu_test_fetch(d_lse, N * nh) == lse && lcu_test_fetch(d_dq, N * ldq) == got.dq &&
                         lcu_test_fetch(d_dk, N * ldk) == got.dk && lcu_test_fetch(d_dv, N * ldk) == got.dv;
        LCU_TEST_CHECK(same, "lcu_attention(_backward) did not run the %s kernels", pa->name);
    }

    fvec rout, rlse;
    grads ref;
    reference(c, seg.data(), q.data(), k.data(), v.data(), &rout, &rlse, dout.data(), out.data(), &ref);
    lcu_test_compare("out vs double", out.data(), rout.data(), out.size(), pa->out_bound);
    lcu_test_compare("lse vs double", lse.data(), rlse.data(), lse.size(), 1e-5);
    lcu_test_compare("dq vs double", got.dq.data(), ref.dq.data(), got.dq.size(), pa->grad_bound);
    lcu_test_compare("dk vs double", got.dk.data(), ref.dk.data(), got.dk.size(), pa->grad_bound);
    lcu_test_compare("dv vs double", got.dv.data(), ref.dv.data(), got.dv.size(), pa->grad_bound);
    int pad_nonzero = 0;
    for (size_t i = 0; i < N; i++)
        if (seg[i] < 0) {
            for (size_t e = 0; e < ldq; e++) pad_nonzero += out[i * ldq + e] != 0.0f || got.dq[i * ldq + e] != 0.0f;
            for (size_t e = 0; e < ldk; e++) pad_nonzero += got.dk[i * ldk + e] != 0.0f || got.dv[i * ldk + e] != 0.0f;
            for (size_t h = 0; h < nh; h++) pad_nonzero += lse[i * nh + h] != 0.0f;
        }
    LCU_TEST_CHECK(pad_nonzero == 0, "%d nonzero values at padding", pad_nonzero);

    /* The CPU trainer, dout 0 on padding rows; the device again with that dout. */
    fvec cdout = dout, cout_(N * ldq), clse(N * nh), cdq(N * ldq, 0.0f), cdk(N * ldk, 0.0f), cdv(N * ldk, 0.0f);
    for (size_t i = 0; i < N; i++)
        if (seg[i] < 0) memset(&cdout[i * ldq], 0, sizeof(float) * ldq);
    l4_train_attn ta = {c->n_rows, c->n_seq, c->n_head, c->n_head_kv, c->hd, seg.data(), 1, NULL};
    fvec scratch((size_t)l4_train_attn_scratch_floats(&ta));
    ta.scratch = scratch.data();
    l4_train_attn_forward(&ta, q.data(), k.data(), v.data(), cout_.data(), clse.data());
    l4_train_attn_backward(&ta, q.data(), k.data(), v.data(), cout_.data(), clse.data(), cdout.data(), cdq.data(),
                           cdk.data(), cdv.data());
    for (size_t i = 0; i < N; i++)
        if (seg[i] < 0) {
            memset(&cout_[i * ldq], 0, sizeof(float) * ldq);
            memset(&clse[i * nh], 0, sizeof(float) * nh);
        }
    lcu_test_compare("out vs CPU trainer", out.data(), cout_.data(), out.size(), pa->out_bound);
    lcu_test_compare("lse vs CPU trainer", lse.data(), clse.data(), lse.size(), 1e-5);
    LCU_TEST_CUDA(cudaMemcpy(d_dout, cdout.data(), sizeof(float) * cdout.size(), cudaMemcpyHostToDevice));
    pa->backward(0, &a, d_out, d_lse, d_dout, d_dq, d_dk, d_dv);
    got = {lcu_test_fetch(d_dq, N * ldq), lcu_test_fetch(d_dk, N * ldk), lcu_test_fetch(d_dv, N * ldk)};
    lcu_test_compare("dq vs CPU trainer", got.dq.data(), cdq.data(), cdq.size(), 1e-2);
    lcu_test_compare("dk vs CPU trainer", got.dk.data(), cdk.data(), cdk.size(), 1e-2);
    lcu_test_compare("dv vs CPU trainer", got.dv.data(), cdv.data(), cdv.size(), 1e-2);

    /* Central differences of sum(cdout ∘ out) at three entries each of q, k and v. */
    struct {
        fvec *x;
        const fvec *g;
    } xs[3] = {{&q, &got.dq}, {&k, &got.dk}, {&v, &got.dv}};
    const double gmax = fmax(max_abs(got.dq), fmax(max_abs(got.dk), max_abs(got.dv)));
    double worst = 0.0;
    for (int w = 0; w < 3; w++)
        for (int s = 0; s < 3; s++) {
            const size_t i = (size_t)(s * 7919 + w * 104729 + 13) % xs[w].x->size();
            const float x0 = (*xs[w].x)[i], eps = 1e-2f;
            (*xs[w].x)[i] = x0 + eps;
            const double lp = loss(c, seg.data(), q, k, v, cdout);
            (*xs[w].x)[i] = x0 - eps;
            const double lm = loss(c, seg.data(), q, k, v, cdout);
            (*xs[w].x)[i] = x0;
            worst = fmax(worst, fabs((lp - lm) / (2.0 * eps) - (*xs[w].g)[i]) / gmax);
        }
    printf("  %-46s err %.2e (bound 1e-02)\n", "finite differences (9 entries)", worst);
    LCU_TEST_CHECK(worst <= 1e-2, "finite differences: error %.3e", worst);

    cudaFree(m_q), cudaFree(m_k), cudaFree(m_v), cudaFree(m_dout), cudaFree(d_seg), cudaFree(d_out);
    cudaFree(d_lse), cudaFree(d_dq), cudaFree(d_dk), cudaFree(d_dv);
}

/* kv_store of every sequence's tokens, then nq queries at positions of 3 sequences (nq * n_head
 * picks the kernel's warps per block: < 128 pairs 16, < 512 pairs 8). */
static void test_decode(int n_head, int n_head_kv, int hd, int nq, unsigned seed) {
    printf("decode: heads %d/%d hd %d, %d queries\n", n_head, n_head_kv, hd, nq);
    const int n_seqs = 3, len[3] = {13, 50, 77}; /* ascending */
    const int64_t n_ctx = 80, ldk = (int64_t)n_head_kv * hd, ldq = (int64_t)n_head * hd;
    const size_t cache = (size_t)(n_seqs * n_head_kv * n_ctx * hd);
    /* tokens interleaved across sequences, as a batched prefill of mixed lengths would be */
    std::vector<int32_t> seq, pos;
    for (int p = 0; p < len[n_seqs - 1]; p++)
        for (int s = 0; s < n_seqs; s++)
            if (p < len[s]) seq.push_back(s), pos.push_back(p);
    const size_t n_tok = seq.size();
    fvec k = lcu_test_rnd(n_tok * ldk, seed, 1.5f), v = lcu_test_rnd(n_tok * ldk, seed + 1, 1.0f);

    /* a sentinel in every slot, which only the stored tokens' slots lose */
    lcu_bf16 sentinel;
    const uint16_t sentinel_bits = 0x7f7f;
    memcpy((void *)&sentinel, &sentinel_bits, 2);
    std::vector<lcu_bf16> kc(cache, sentinel), vc(cache, sentinel);
    lcu_kv kv = {lcu_test_upload(kc.data(), cache), lcu_test_upload(vc.data(), cache), n_ctx, n_head_kv, hd};
    float *d_k = lcu_test_upload(k.data(), k.size()), *d_v = lcu_test_upload(v.data(), v.size());
    int32_t *d_seq = lcu_test_upload(seq.data(), n_tok), *d_pos = lcu_test_upload(pos.data(), n_tok);
    lcu_kv_store(0, &kv, d_k, d_v, d_seq, d_pos, (int64_t)n_tok);
    lcu_test_sync();
    lcu_test_download(kc.data(), kv.k, cache);
    lcu_test_download(vc.data(), kv.v, cache);
    fvec fk(cache, NAN), fv(cache, NAN);
    for (size_t t = 0; t < n_tok; t++)
        for (int g = 0; g < n_head_kv; g++)
            for (int d = 0; d < hd; d++) {
                const size_t at = (size_t)((((int64_t)seq[t] * n_head_kv + g) * n_ctx + pos[t]) * hd + d);
                fk[at] = bf16_round(k[t * ldk + g * hd + d]);
                fv[at] = bf16_round(v[t * ldk + g * hd + d]);
            }
    int wrong = 0;
    for (size_t e = 0; e < cache; e++) {
        if (isnan(fk[e])) {
            wrong += memcmp(&kc[e], &sentinel, 2) != 0 || memcmp(&vc[e], &sentinel, 2) != 0;
            fk[e] = fv[e] = 0.0f; /* never read by the queries below */
        } else {
            wrong += __bfloat162float(kc[e]) != fk[e] || __bfloat162float(vc[e]) != fv[e];
        }
    }
    LCU_TEST_CHECK(wrong == 0, "kv_store: %d cache slots wrong", wrong);

    /* each sequence's last and first position, then positions spread over it */
    std::vector<int32_t> qseq(nq), qpos(nq);
    for (int i = 0; i < nq; i++) {
        qseq[i] = i % n_seqs;
        qpos[i] = i < n_seqs ? len[i] - 1 : i < 2 * n_seqs ? 0 : (i * 37) % len[i % n_seqs];
    }
    fvec q = lcu_test_rnd((size_t)(nq * ldq), seed + 2, 1.5f);
    float *d_q = lcu_test_upload(q.data(), q.size());
    int32_t *d_qs = lcu_test_upload(qseq.data(), qseq.size()), *d_qp = lcu_test_upload(qpos.data(), qpos.size());
    lcu_bf16 *d_out = lcu_test_alloc<lcu_bf16>((size_t)(nq * ldq));
    lcu_attention_cache(0, &kv, d_q, d_qs, d_qp, nq, n_head, d_out);
    std::vector<lcu_bf16> ob((size_t)(nq * ldq));
    lcu_test_sync();
    lcu_test_download(ob.data(), d_out, ob.size());
    fvec out(ob.size());
    for (size_t e = 0; e < ob.size(); e++) out[e] = __bfloat162float(ob[e]);

    fvec ref(out.size());
    std::vector<double> p(n_ctx);
    const double scale = 1.0 / sqrt((double)hd);
    for (int i = 0; i < nq; i++)
        for (int h = 0; h < n_head; h++) {
            const int64_t head = ((int64_t)qseq[i] * n_head_kv + h / (n_head / n_head_kv)) * n_ctx * hd;
            double mx = -INFINITY, sum = 0.0;
            for (int u = 0; u <= qpos[i]; u++) {
                double s = 0.0;
                for (int d = 0; d < hd; d++) s += (double)q[i * ldq + h * hd + d] * fk[head + u * hd + d];
                p[u] = s * scale;
                mx = fmax(mx, p[u]);
            }
            for (int u = 0; u <= qpos[i]; u++) sum += (p[u] = exp(p[u] - mx));
            for (int d = 0; d < hd; d++) {
                double o = 0.0;
                for (int u = 0; u <= qpos[i]; u++) o += p[u] * fv[head + u * hd + d];
                ref[i * ldq + h * hd + d] = (float)(o / sum);
            }
        }
    lcu_test_compare("out vs double", out.data(), ref.data(), out.size(), 4e-3);

    fvec cpu(out.size()), scores(n_ctx);
    l4_attn_args aa = {q.data(), cpu.data(), nq, qseq.data(), qpos.data(), n_head, n_head_kv, hd, fk.data(),
                       fv.data(), n_ctx, scores.data(), 1};
    l4_attention(&aa);
    lcu_test_compare("out vs CPU l4_attention", out.data(), cpu.data(), out.size(), 4e-3);

    cudaFree(kv.k), cudaFree(kv.v), cudaFree(d_k), cudaFree(d_v), cudaFree(d_seq), cudaFree(d_pos);
    cudaFree(d_q), cudaFree(d_qs), cudaFree(d_qp), cudaFree(d_out);
}

int main(void) {
    if (lcu_test_require_device()) return LCU_TEST_SKIP;
    const cfg cases[] = {
        {2, 45, 4, 2, 64},  /* GQA, one full and one partial query tile */
        {2, 61, 2, 2, 48},  /* MHA, head_dim not a multiple of 32 */
        {1, 70, 4, 1, 128}, /* all query heads on one kv head */
        {1, 40, 2, 1, 200}, /* the widest tiling (head_dim <= 256) */
        {3, 7, 2, 2, 37},   /* rows shorter than a tile, three of them; an odd head_dim */
        {2, 70, 2, 1, 16},  /* the narrowest tensor-core head, two query tiles of 64 */
        {1, 33, 3, 3, 32},
    };
    /* every case on the FMA kernels, and on the tensor-core ones where lcu_attention picks them */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int mma = cases[i].hd % 16 == 0 && cases[i].hd <= 128;
        test_training(&cases[i], 10 * (unsigned)i + 1, &FMA, !mma);
        if (mma) test_training(&cases[i], 10 * (unsigned)i + 1, &MMA, 1);
    }
    test_training(&cases[5], 61, &MMA_UNALIGNED, 1);
    test_decode(4, 2, 64, 40, 101);
    test_decode(6, 2, 96, 9, 111);
    test_decode(2, 2, 48, 7, 121);
    test_decode(2, 1, 256, 6, 131);
    return lcu_test_finish("test_cuda_attention");
}
