/* l4_embed_backward: finite-difference check on the embedding table (L = sum(dx . embed(tokens)))
 * with repeated tokens (their rows must sum), untouched rows staying exactly as they were, and
 * accumulation into an existing gradient. Linear op: bound 1e-5. */
#include <string.h>

#include "grad_check.h"
#include "infer/ops.h"
#include "train/grad_ops.h"

#define VOCAB 9
#define EMBD 7
#define N 6

typedef struct {
    l4_matrix emb;
    const int32_t *tokens;
    float *dx, *out;
} embed_ctx;

static double objective(void *p) {
    embed_ctx *c = p;
    l4_embed(&c->emb, c->tokens, N, c->out);
    return gc_dot(c->dx, c->out, N * EMBD);
}

int main(void) {
    qt_seed(14);
    const int32_t tokens[N] = {3, 0, 3, 8, 3, 5};
    float *table = gc_gauss(VOCAB * EMBD, 1.0f);
    embed_ctx c = {{LORA4J_TYPE_F32, EMBD, VOCAB, table}, tokens, gc_gauss(N * EMBD, 1.0f), gc_alloc(N * EMBD)};
    float *demb = gc_gauss(VOCAB * EMBD, 1.0f), *before = gc_alloc(VOCAB * EMBD);
    memcpy(before, demb, sizeof(float) * VOCAB * EMBD);
    l4_embed_backward(tokens, N, c.dx, demb, EMBD);
    for (int r = 0; r < VOCAB; r++) {
        const int used = r == 0 || r == 3 || r == 5 || r == 8;
        if (!used) QT_CHECK(memcmp(demb + r * EMBD, before + r * EMBD, sizeof(float) * EMBD) == 0, "row %d touched", r);
    }
    for (int i = 0; i < VOCAB * EMBD; i++) demb[i] -= before[i];
    double *num = gc_alloc_d(VOCAB * EMBD);
    gc_numeric_grad(table, VOCAB * EMBD, 1, 1e-2, objective, &c, num);
    gc_compare("embedding demb", demb, num, VOCAB * EMBD, 1, 1e-5);
    free(table), free(c.dx), free(c.out), free(demb), free(before), free(num);
    return qt_finish("test_grad_embed");
}
