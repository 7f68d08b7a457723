/* A deliberately simple reference forward pass for the forward tests: weights read back from
 * the GGUF file and dequantized to f32, naive loops in double, its own RoPE (written from the
 * Hugging Face formulations of linear, YaRN and llama3 scaling) and its own attention. It shares
 * nothing with the engine's forward code; only the model description (fx_model) is common. */
#ifndef LORA4J_MODEL_FIXTURE_REF_H
#define LORA4J_MODEL_FIXTURE_REF_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lora4j.h"
#include "model_fixture_build.h"

typedef struct ref_layer {
    float *attn_norm, *wq, *wk, *wv, *bq, *bk, *bv, *wo, *ffn_norm, *gate, *up, *down;
} ref_layer;

typedef struct ref_model {
    fx_model cfg;
    int hd, nq, nkv, n_rot;
    float *tok_embd, *output, *output_norm;
    ref_layer *layers;
    float *freq_factors; /* [n_rot/2] or NULL */
} ref_model;

/* Tensor `name` dequantized to a new f32 array (NULL if absent). */
static float *ref_tensor(const lora4j_gguf *g, const char *name) {
    int64_t i = lora4j_gguf_find_tensor(g, name);
    if (i < 0) return NULL;
    lora4j_tensor_info t;
    if (lora4j_gguf_tensor_info(g, i, &t) != LORA4J_OK) return NULL;
    int64_t n = t.ne[0] * t.ne[1] * t.ne[2] * t.ne[3];
    float *f = malloc((size_t)n * sizeof(float));
    if (f && lora4j_dequantize(t.type, t.data, t.n_bytes, f, n) != LORA4J_OK) {
        free(f);
        return NULL;
    }
    return f;
}

static float *ref_copy(const float *src, int64_t n) {
    float *f = malloc((size_t)n * sizeof(float));
    memcpy(f, src, (size_t)n * sizeof(float));
    return f;
}

/* Hugging Face's llama3 inv_freq adjustment, as divisors of the frequency. */
static void ref_llama3_factors(const fx_model *c, int n_rot, float *out) {
    double base = c->rope_base ? c->rope_base : 10000.0;
    double lo = c->low_freq_factor ? c->low_freq_factor : 1, hi = c->high_freq_factor ? c->high_freq_factor : 4;
    double old_ctx = c->rope_orig_ctx, factor = c->rope_factor;
    for (int j = 0; j < n_rot / 2; j++) {
        double inv_freq = 1.0 / pow(base, 2.0 * j / n_rot);
        double wavelen = 2 * M_PI / inv_freq, new_freq;
        if (wavelen < old_ctx / hi) new_freq = inv_freq;
        else if (wavelen > old_ctx / lo) new_freq = inv_freq / factor;
        else {
            double smooth = (old_ctx / wavelen - lo) / (hi - lo);
            new_freq = (1 - smooth) * inv_freq / factor + smooth * inv_freq;
        }
        out[j] = (float)(inv_freq / new_freq);
    }
}

static int ref_load(ref_model *r, const fx_model *cfg, const char *path) {
    memset(r, 0, sizeof *r);
    r->cfg = *cfg;
    r->hd = fx_head_dim(cfg);
    r->nq = cfg->n_head * r->hd;
    r->nkv = cfg->n_head_kv * r->hd;
    r->n_rot = cfg->n_rot ? cfg->n_rot : r->hd;
    lora4j_gguf *g = NULL;
    if (lora4j_gguf_open(path, &g) != LORA4J_OK) return 0;
    r->tok_embd = ref_tensor(g, "token_embd.weight");
    r->output = cfg->tied ? r->tok_embd : ref_tensor(g, "output.weight");
    r->output_norm = ref_tensor(g, "output_norm.weight");
    if (cfg->rope_freqs) {
        r->freq_factors = ref_copy(cfg->rope_freqs, r->n_rot / 2);
    } else if (cfg->rope_scaling && strcmp(cfg->rope_scaling, "llama3") == 0) {
        r->freq_factors = malloc((size_t)r->n_rot / 2 * sizeof(float));
        ref_llama3_factors(cfg, r->n_rot, r->freq_factors);
    }
    r->layers = calloc((size_t)cfg->n_layer, sizeof *r->layers);
    char name[96];
    for (int il = 0; il < cfg->n_layer; il++) {
        ref_layer *L = &r->layers[il];
#define T(s) (snprintf(name, sizeof name, "blk.%d.%s", il, s), ref_tensor(g, name))
        L->attn_norm = T("attn_norm.weight");
        if (cfg->fused_qkv) {
            float *qkv = T("attn_qkv.weight"), *b = T("attn_qkv.bias");
            int64_t E = cfg->n_embd;
            L->wq = ref_copy(qkv, r->nq * E);
            L->wk = ref_copy(qkv + r->nq * E, r->nkv * E);
            L->wv = ref_copy(qkv + (r->nq + r->nkv) * E, r->nkv * E);
            if (b) {
                L->bq = ref_copy(b, r->nq);
                L->bk = ref_copy(b + r->nq, r->nkv);
                L->bv = ref_copy(b + r->nq + r->nkv, r->nkv);
            }
            free(qkv);
            free(b);
        } else {
            L->wq = T("attn_q.weight");
            L->wk = T("attn_k.weight");
            L->wv = T("attn_v.weight");
            L->bq = T("attn_q.bias");
            L->bk = T("attn_k.bias");
            L->bv = T("attn_v.bias");
        }
        L->wo = T("attn_output.weight");
        L->ffn_norm = T("ffn_norm.weight");
        L->gate = T("ffn_gate.weight");
        L->up = T("ffn_up.weight");
        L->down = T("ffn_down.weight");
#undef T
    }
    lora4j_gguf_close(g);
    return r->tok_embd && r->output && r->output_norm;
}

static void ref_free(ref_model *r) {
    for (int il = 0; il < r->cfg.n_layer; il++) {
        ref_layer *L = &r->layers[il];
        float *all[] = {L->attn_norm, L->wq, L->wk, L->wv, L->bq, L->bk, L->bv, L->wo, L->ffn_norm, L->gate, L->up, L->down};
        for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) free(all[k]);
    }
    free(r->layers);
    if (r->output != r->tok_embd) free(r->output);
    free(r->tok_embd);
    free(r->output_norm);
    free(r->freq_factors);
}

static void ref_rmsnorm(const double *x, const float *w, double *out, int n, double eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    double s = 1 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) out[i] = x[i] * s * w[i];
}

/* y[o] = sum_i W[o][i] x[i] (+ b[o]) */
static void ref_linear(const float *W, const float *b, const double *x, double *y, int n_in, int n_out) {
    for (int o = 0; o < n_out; o++) {
        double s = b ? b[o] : 0;
        for (int i = 0; i < n_in; i++) s += (double)W[(int64_t)o * n_in + i] * x[i];
        y[o] = s;
    }
}

/* Angle and magnitude of rotary pair j at position pos. */
static void ref_rope_angle(const ref_model *r, int pos, int j, double *theta, double *mag) {
    const fx_model *c = &r->cfg;
    double base = c->rope_base ? c->rope_base : 10000.0;
    double inv_freq = 1.0 / pow(base, 2.0 * j / r->n_rot);
    *mag = 1;
    const char *s = c->rope_scaling;
    if (r->freq_factors) inv_freq /= r->freq_factors[j];
    if ((s && strcmp(s, "linear") == 0) || (!s && c->rope_factor)) {
        inv_freq /= c->rope_factor;
    } else if (s && strcmp(s, "yarn") == 0) {
        /* transformers' _compute_yarn_parameters */
        double factor = c->rope_factor, orig = c->rope_orig_ctx ? c->rope_orig_ctx : c->n_ctx_train;
        double bf = c->yarn_beta_fast ? c->yarn_beta_fast : 32, bs = c->yarn_beta_slow ? c->yarn_beta_slow : 1;
        double low = floor(r->n_rot * log(orig / (bf * 2 * M_PI)) / (2 * log(base)));
        double high = ceil(r->n_rot * log(orig / (bs * 2 * M_PI)) / (2 * log(base)));
        if (low < 0) low = 0;
        if (high > r->n_rot - 1) high = r->n_rot - 1;
        if (high == low) high += 0.001;
        double ramp = (j - low) / (high - low);
        ramp = ramp < 0 ? 0 : ramp > 1 ? 1 : ramp;
        double extrap = 1 - ramp;
        inv_freq = inv_freq / factor * (1 - extrap) + inv_freq * extrap;
        *mag = 0.1 * log(factor) + 1;
    }
    *theta = pos * inv_freq;
}

static void ref_rope(const ref_model *r, double *head, int pos, int neox) {
    for (int j = 0; j < r->n_rot / 2; j++) {
        double theta, mag;
        ref_rope_angle(r, pos, j, &theta, &mag);
        int a = neox ? j : 2 * j, b = neox ? j + r->n_rot / 2 : 2 * j + 1;
        double x0 = head[a], x1 = head[b];
        head[a] = mag * (x0 * cos(theta) - x1 * sin(theta));
        head[b] = mag * (x0 * sin(theta) + x1 * cos(theta));
    }
}

/* Logits [n][n_vocab] (as float) of tokens at positions 0..n-1 of one sequence. */
static void ref_forward(const ref_model *r, const int32_t *tokens, int n, float *logits) {
    const fx_model *c = &r->cfg;
    const int E = c->n_embd, F = c->n_ff, hd = r->hd, nq = r->nq, nkv = r->nkv;
    const int neox = strcmp(c->arch, "qwen2") == 0, group = c->n_head / c->n_head_kv;
    double *x = calloc((size_t)n * E, sizeof(double)), *xn = malloc((size_t)E * sizeof(double));
    double *q = malloc((size_t)n * nq * sizeof(double)), *k = malloc((size_t)n * nkv * sizeof(double));
    double *v = malloc((size_t)n * nkv * sizeof(double)), *att = malloc((size_t)nq * sizeof(double));
    double *o = malloc((size_t)(E > F ? E : F) * sizeof(double)), *g = malloc((size_t)F * sizeof(double));
    double *u = malloc((size_t)F * sizeof(double)), *p = malloc((size_t)n * sizeof(double));
    for (int t = 0; t < n; t++) {
        for (int i = 0; i < E; i++) x[t * E + i] = r->tok_embd[(int64_t)tokens[t] * E + i];
    }
    for (int il = 0; il < c->n_layer; il++) {
        const ref_layer *L = &r->layers[il];
        for (int t = 0; t < n; t++) {
            ref_rmsnorm(x + t * E, L->attn_norm, xn, E, c->rms_eps);
            ref_linear(L->wq, L->bq, xn, q + t * nq, E, nq);
            ref_linear(L->wk, L->bk, xn, k + t * nkv, E, nkv);
            ref_linear(L->wv, L->bv, xn, v + t * nkv, E, nkv);
            for (int h = 0; h < c->n_head; h++) ref_rope(r, q + t * nq + h * hd, t, neox);
            for (int h = 0; h < c->n_head_kv; h++) ref_rope(r, k + t * nkv + h * hd, t, neox);
        }
        for (int t = 0; t < n; t++) { /* causal attention, then the output projection */
            for (int h = 0; h < c->n_head; h++) {
                const int kvh = h / group;
                double max = -1e300, sum = 0;
                for (int s = 0; s <= t; s++) {
                    double d = 0;
                    for (int e = 0; e < hd; e++) d += q[t * nq + h * hd + e] * k[s * nkv + kvh * hd + e];
                    p[s] = d / sqrt((double)hd);
                    if (p[s] > max) max = p[s];
                }
                for (int s = 0; s <= t; s++) sum += (p[s] = exp(p[s] - max));
                for (int e = 0; e < hd; e++) {
                    double a = 0;
                    for (int s = 0; s <= t; s++) a += p[s] * v[s * nkv + kvh * hd + e];
                    att[h * hd + e] = a / sum;
                }
            }
            ref_linear(L->wo, NULL, att, o, nq, E);
            for (int i = 0; i < E; i++) x[t * E + i] += o[i];
        }
        for (int t = 0; t < n; t++) {
            ref_rmsnorm(x + t * E, L->ffn_norm, xn, E, c->rms_eps);
            ref_linear(L->gate, NULL, xn, g, E, F);
            ref_linear(L->up, NULL, xn, u, E, F);
            for (int i = 0; i < F; i++) g[i] = g[i] / (1 + exp(-g[i])) * u[i];
            ref_linear(L->down, NULL, g, o, F, E);
            for (int i = 0; i < E; i++) x[t * E + i] += o[i];
        }
    }
    double *lg = malloc((size_t)c->n_vocab * sizeof(double));
    for (int t = 0; t < n; t++) {
        ref_rmsnorm(x + t * E, r->output_norm, xn, E, c->rms_eps);
        ref_linear(r->output, NULL, xn, lg, E, c->n_vocab);
        for (int i = 0; i < c->n_vocab; i++) logits[(int64_t)t * c->n_vocab + i] = (float)lg[i];
    }
    free(lg);
    free(x); free(xn); free(q); free(k); free(v); free(att); free(o); free(g); free(u); free(p);
}

#endif
