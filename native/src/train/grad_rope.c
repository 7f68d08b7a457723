/* RoPE backward: each pair was multiplied by [[c, -s], [s, c]] (c, s the cached cos and sin,
 * YaRN's magnitude included), so the gradient goes through the transpose [[c, s], [-s, c]]. */
#include "train/grad_ops.h"

void l4_rope_backward(const l4_rope *r, float *dx, int64_t n, int64_t ld, int n_heads, int head_dim,
                      const float *cs) {
    const int half = r->n_rot / 2;
    const int64_t stride = r->neox ? half : 1; /* distance between the two members of a pair */
    const int64_t step = r->neox ? 1 : 2;      /* distance between consecutive pairs */
    for (int64_t i = 0; i < n; i++) {
        const float *c = cs + i * r->n_rot;
        for (int h = 0; h < n_heads; h++) {
            float *xh = dx + i * ld + (int64_t)h * head_dim;
            for (int j = 0; j < half; j++) {
                float *a = xh + j * step, *b = a + stride;
                const float d0 = *a, d1 = *b;
                *a = d0 * c[2 * j] + d1 * c[2 * j + 1];
                *b = d1 * c[2 * j] - d0 * c[2 * j + 1];
            }
        }
    }
}
