/* Token embedding: x[i] = row tokens[i] of the (possibly quantized) embedding matrix, in f32,
 * bit-identical to the CPU dequantization. */
#include "ops/dequant.cuh"
#include "ops/ops.h"

#define EMBED_THREADS 256

/* One block per token; thread t dequantizes chunks t, t+256, ... of 8 elements. A token id
 * outside the vocabulary gives a zero row rather than a read out of bounds (the engine checks
 * ids before this; the guard keeps a bad id from touching other memory). */
template <int T>
__global__ void __launch_bounds__(EMBED_THREADS)
embed_rows(const uint8_t *emb, int64_t row_bytes, int64_t n_vocab, int64_t dim, const int32_t *tokens, float *x) {
    const int32_t tok = tokens[blockIdx.x];
    const bool valid = tok >= 0 && tok < n_vocab;
    const uint8_t *row = emb + (valid ? tok : 0) * row_bytes;
    float *out = x + (int64_t)blockIdx.x * dim;
    for (int64_t c0 = 8 * (int64_t)threadIdx.x; c0 < dim; c0 += 8 * EMBED_THREADS) {
        float y[8];
        if (valid) {
            dq_load8<T>(row, c0, dim, y);
        } else {
            for (int i = 0; i < 8; i++) y[i] = 0.0f;
        }
        for (int i = 0; i < 8 && c0 + i < dim; i++) out[c0 + i] = y[i];
    }
}

namespace {
struct embed_launch {
    lcu_stream s;
    const lcu_mat *emb;
    const int32_t *tokens;
    int64_t n;
    float *x;

    template <int T> void run() {
        auto *k = embed_rows<T>;
        LCU_LAUNCH(k, dim3((unsigned)n), dim3(EMBED_THREADS), 0, s, (const uint8_t *)emb->data,
                   dq_row_bytes(emb->type, emb->ld), emb->rows, emb->cols, tokens, x);
    }
};
} /* namespace */

void lcu_embed(lcu_stream s, const lcu_mat *emb, const int32_t *tokens, int64_t n, float *x) {
    if (n <= 0) return;
    embed_launch l = {s, emb, tokens, n, x};
    dq_dispatch(emb->type, l);
}
