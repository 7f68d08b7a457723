/* l4_rope_backward: finite-difference check against l4_rope_apply (L = sum(dout . rope(x))) for
 * both pairings, partial rotation (n_rot < head_dim), llama3-style frequency factors and YaRN
 * (whose magnitude factor makes the rotation a scaled one: the backward must be its transpose,
 * not its inverse). The op is linear, so a large step (1e-2) is exact but for f32 rounding:
 * bound 1e-4. */
#include <string.h>

#include "grad_check.h"
#include "infer/ops.h"
#include "train/grad_ops.h"

#define N 6
#define HEADS 3
#define HD 10
#define LD (HEADS * HD + 4) /* rows padded: ld != n_heads * head_dim */

typedef struct {
    const l4_rope *r;
    const float *cs;
    float *x, *dout, *out;
} rope_ctx;

static double objective(void *p) {
    rope_ctx *c = p;
    memcpy(c->out, c->x, sizeof(float) * N * LD);
    l4_rope_apply(c->r, c->out, N, LD, HEADS, HD, c->cs);
    return gc_dot(c->dout, c->out, N * LD);
}

static void check(const char *name, const l4_rope *r) {
    const int32_t pos[N] = {0, 1, 2, 7, 100, 3000};
    float cs[N * HD];
    l4_rope_cache(r, pos, N, cs);
    rope_ctx c = {r, cs, gc_gauss(N * LD, 1.0f), gc_gauss(N * LD, 1.0f), gc_alloc(N * LD)};
    float *grad = gc_alloc(N * LD);
    memcpy(grad, c.dout, sizeof(float) * N * LD);
    l4_rope_backward(r, grad, N, LD, HEADS, HD, cs);
    double *num = gc_alloc_d(N * LD);
    gc_numeric_grad(c.x, N * LD, 1, 1e-2, objective, &c, num);
    gc_compare(name, grad, num, N * LD, 1, 1e-4);
    free(c.x), free(c.dout), free(c.out), free(grad), free(num);
}

int main(void) {
    qt_seed(12);
    const float factors[4] = {1.0f, 2.0f, 8.0f, 32.0f};
    l4_rope base = {.n_rot = 8, .neox = 0, .freq_base = 10000.0f, .freq_scale = 1.0f, .attn_factor = 1.0f};
    check("rope backward (norm)", &base);
    l4_rope neox = base;
    neox.neox = 1;
    check("rope backward (neox)", &neox);
    l4_rope ff = neox;
    ff.freq_factors = factors;
    check("rope backward (freq factors)", &ff);
    l4_rope yarn = base;
    yarn.freq_scale = 0.25f, yarn.ext_factor = 1.0f, yarn.corr_dims[0] = 1.0f, yarn.corr_dims[1] = 3.0f;
    check("rope backward (yarn, scaled rotation)", &yarn);
    return qt_finish("test_grad_rope");
}
