/* RoPE forward and backward (infer/rope.c l4_rope_apply, train/grad_rope.c): a thread per pair.
 * Forward multiplies each pair by [[c, -s], [s, c]]; backward by its transpose, which is the same
 * rotation with s negated, so both share one kernel. */
#include "ops/ops.h"

/* A block per row (grid-stride over rows), its threads over the row's n_heads * n_rot/2 pairs:
 * consecutive threads take consecutive pairs of a head, so loads are coalesced (NORM pairs are
 * adjacent floats, NEOX pairs two runs half a rotation apart). */
static __global__ void rope_kernel(float *x, int64_t n, int64_t ld, int n_heads, int head_dim, int n_rot,
                                   int neox, const float *cs, float sin_sign) {
    const int half = n_rot / 2;
    const int64_t stride = neox ? half : 1; /* distance between the two members of a pair */
    const int64_t step = neox ? 1 : 2;      /* distance between consecutive pairs */
    const int n_pairs = n_heads * half;
    for (int64_t i = blockIdx.x; i < n; i += gridDim.x) {
        const float *c = cs + i * n_rot;
        for (int k = threadIdx.x; k < n_pairs; k += blockDim.x) {
            const int h = k / half, j = k - h * half;
            float *a = x + i * ld + (int64_t)h * head_dim + j * step, *b = a + stride;
            const float cj = c[2 * j], sj = sin_sign * c[2 * j + 1];
            const float x0 = *a, x1 = *b;
            *a = x0 * cj - x1 * sj;
            *b = x0 * sj + x1 * cj;
        }
    }
}

#define ROPE_MAX_THREADS 256
#define ROPE_MAX_BLOCKS 65535

static void rope(lcu_stream s, float *x, int64_t n, int64_t ld, int n_heads, int head_dim, int n_rot, int neox,
                 const float *cs, float sin_sign) {
    if (n <= 0 || n_heads <= 0 || n_rot < 2) return;
    const int64_t pairs = (int64_t)n_heads * (n_rot / 2);
    const unsigned threads = (unsigned)(pairs < ROPE_MAX_THREADS ? lcu_cdiv(pairs, 32) * 32 : ROPE_MAX_THREADS);
    const unsigned blocks = (unsigned)(n < ROPE_MAX_BLOCKS ? n : ROPE_MAX_BLOCKS);
    LCU_LAUNCH(rope_kernel, blocks, threads, 0, s, x, n, ld, n_heads, head_dim, n_rot, neox, cs, sin_sign);
}

void lcu_rope(lcu_stream s, float *x, int64_t n, int64_t ld, int n_heads, int head_dim, int n_rot, int neox,
              const float *cs) {
    rope(s, x, n, ld, n_heads, head_dim, n_rot, neox, cs, 1.0f);
}

void lcu_rope_backward(lcu_stream s, float *dx, int64_t n, int64_t ld, int n_heads, int head_dim, int n_rot,
                       int neox, const float *cs) {
    rope(s, dx, n, ld, n_heads, head_dim, n_rot, neox, cs, -1.0f);
}
