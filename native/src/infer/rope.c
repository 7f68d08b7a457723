/* Rotary position embedding (NORM and NEOX pairings, linear/YaRN/llama3 scaling). */
#include <math.h>

#include "infer/ops.h"

/* YaRN: the range of pair indices between the dims that rotate beta_fast and beta_slow times
 * over the original context (they extrapolate / interpolate). */
static float corr_dim(int n_rot, int n_ctx_orig, float n_turns, float base) {
    return n_rot * logf(n_ctx_orig / (n_turns * 2 * (float)M_PI)) / (2 * logf(base));
}

void l4_rope_init(l4_rope *r, const lora4j_hparams *hp, const float *freq_factors) {
    r->n_rot = hp->n_rot;
    r->neox = hp->rope_type == LORA4J_ROPE_NEOX;
    r->freq_base = hp->rope_freq_base;
    int scaled = hp->rope_scaling == LORA4J_ROPE_SCALING_LINEAR ||
                 hp->rope_scaling == LORA4J_ROPE_SCALING_YARN;
    r->freq_scale = scaled ? 1.0f / hp->rope_scale_factor : 1.0f;
    r->ext_factor = hp->yarn_ext_factor;
    r->attn_factor = hp->yarn_attn_factor;
    int orig = hp->rope_orig_ctx > 0 ? hp->rope_orig_ctx : hp->n_ctx_train;
    float lo = floorf(corr_dim(hp->n_rot, orig, hp->yarn_beta_fast, hp->rope_freq_base));
    float hi = ceilf(corr_dim(hp->n_rot, orig, hp->yarn_beta_slow, hp->rope_freq_base));
    r->corr_dims[0] = lo > 0 ? lo : 0;
    r->corr_dims[1] = hi < hp->n_rot - 1 ? hi : (float)(hp->n_rot - 1);
    r->freq_factors = freq_factors;
}

static float yarn_ramp(float low, float high, int pair) {
    float y = (pair - low) / fmaxf(0.001f, high - low);
    return 1 - fminf(1, fmaxf(0, y));
}

void l4_rope_cache(const l4_rope *r, const int32_t *pos, int64_t n, float *cs) {
    const float theta_scale = powf(r->freq_base, -2.0f / r->n_rot);
    float mscale = r->attn_factor;
    if (r->ext_factor != 0) mscale *= 1.0f + 0.1f * logf(1.0f / r->freq_scale);
    for (int64_t i = 0; i < n; i++) {
        float *c = cs + i * r->n_rot;
        float theta = (float)pos[i];
        for (int j = 0; j < r->n_rot / 2; j++) {
            float extrap = r->freq_factors ? theta / r->freq_factors[j] : theta;
            float t = r->freq_scale * extrap;
            if (r->ext_factor != 0) {
                float mix = yarn_ramp(r->corr_dims[0], r->corr_dims[1], j) * r->ext_factor;
                t = t * (1 - mix) + extrap * mix;
            }
            c[2 * j] = cosf(t) * mscale;
            c[2 * j + 1] = sinf(t) * mscale;
            theta *= theta_scale;
        }
    }
}

void l4_rope_apply(const l4_rope *r, float *x, int64_t n, int64_t ld, int n_heads, int head_dim,
                   const float *cs) {
    const int half = r->n_rot / 2;
    const int64_t stride = r->neox ? half : 1; /* distance between the two members of a pair */
    const int64_t step = r->neox ? 1 : 2;      /* distance between consecutive pairs */
    for (int64_t i = 0; i < n; i++) {
        const float *c = cs + i * r->n_rot;
        for (int h = 0; h < n_heads; h++) {
            float *xh = x + i * ld + (int64_t)h * head_dim;
            for (int j = 0; j < half; j++) {
                float *a = xh + j * step, *b = a + stride;
                float x0 = *a, x1 = *b;
                *a = x0 * c[2 * j] - x1 * c[2 * j + 1];
                *b = x0 * c[2 * j + 1] + x1 * c[2 * j];
            }
        }
    }
}
