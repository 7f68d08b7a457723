/* Embedding backward (full fine-tuning): scatter-add of the rows' gradients. Serial, so rows
 * shared by several tokens add up without races. */
#include "train/grad_ops.h"

void l4_embed_backward(const int32_t *tokens, int64_t n, const float *dx, float *demb, int64_t n_embd) {
    for (int64_t i = 0; i < n; i++) {
        float *row = demb + (int64_t)tokens[i] * n_embd;
        const float *d = dx + i * n_embd;
        for (int64_t j = 0; j < n_embd; j++) row[j] += d[j];
    }
}
