/* Token embedding lookup: one row of the (possibly quantized) embedding matrix per token. */
#include "infer/ops.h"
#include "quant/quant.h"

void l4_embed(const l4_matrix *emb, const int32_t *tokens, int64_t n, float *x) {
    const l4_type_traits *t = l4_traits(emb->type);
    const int64_t row_bytes = l4_row_bytes(emb->type, emb->n_in);
    for (int64_t i = 0; i < n; i++) {
        t->to_float((const uint8_t *)emb->data + tokens[i] * row_bytes, x + i * emb->n_in, emb->n_in);
    }
}
