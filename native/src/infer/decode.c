/* lora4j_decode and lora4j_sequence_logprobs: validate the whole request first (so a failed call
 * changes nothing), then run it in chunks of at most n_batch tokens, on the CPU or on the
 * context's device (the same staging; a device failure restores the sequences' lengths). */
#include <string.h>

#include "core/error.h"
#include "infer/context.h"

static int32_t check_tokens(const lora4j_context *c, const int32_t *tokens, int32_t n,
                            const char *what) {
    const int32_t n_vocab = c->model->hp.n_vocab;
    for (int32_t i = 0; i < n; i++) {
        if (tokens[i] < 0 || tokens[i] >= n_vocab) {
            return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: token %d has id %d, out of range [0, %d)",
                           what, i, tokens[i], n_vocab);
        }
    }
    return LORA4J_OK;
}

/* Every sequence's tokens must continue its cache in order and stay inside the context. */
static int32_t check_positions(lora4j_context *c, const int32_t *pos, const int32_t *seq_ids,
                               int32_t n) {
    memcpy(c->next_pos, c->seq_len, (size_t)c->p.n_seq_max * sizeof(int32_t));
    for (int32_t i = 0; i < n; i++) {
        int32_t s = seq_ids ? seq_ids[i] : 0;
        if (s < 0 || s >= c->p.n_seq_max) {
            return l4_fail(LORA4J_ERR_INVALID_ARGUMENT,
                           "decode: token %d has sequence id %d, out of range [0, %d)", i, s,
                           c->p.n_seq_max);
        }
        int32_t want = c->next_pos[s];
        int32_t p = pos ? pos[i] : want;
        if (p < 0) {
            return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "decode: token %d has negative position %d", i, p);
        }
        if (p >= c->p.n_ctx) {
            return l4_fail(LORA4J_ERR_INVALID_ARGUMENT,
                           "decode: token %d of sequence %d is at position %d, beyond the context "
                           "(n_ctx %d): prompt longer than the context", i, s, p, c->p.n_ctx);
        }
        if (p != want) {
            return l4_fail(LORA4J_ERR_INVALID_ARGUMENT,
                           "decode: token %d of sequence %d is at position %d, expected %d "
                           "(positions must continue the sequence's cache in order%s)", i, s, p,
                           want, p < want ? "; they are not increasing" : ", without gaps");
        }
        c->next_pos[s] = want + 1;
    }
    return LORA4J_OK;
}

/* Load chunk [b, e) into the context's seq/pos arrays and advance the caches' lengths. */
static void stage_chunk(lora4j_context *c, const int32_t *seq_ids, int32_t b, int32_t e) {
    for (int32_t i = b; i < e; i++) {
        int32_t s = seq_ids ? seq_ids[i] : 0;
        c->seq[i - b] = s;
        c->pos[i - b] = c->seq_len[s]++;
    }
}

LORA4J_API lora4j_status_t lora4j_decode(lora4j_context *ctx, const int32_t *tokens,
                                         const int32_t *pos, const int32_t *seq_ids,
                                         int32_t n_tokens, const int8_t *want_logits,
                                         float *logits_out, int64_t logits_cap) {
    l4_clear_error();
    if (!ctx || !tokens) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "decode: NULL context or tokens");
    if (n_tokens <= 0) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "decode: n_tokens %d must be >= 1", n_tokens);
    }
    int32_t st = check_tokens(ctx, tokens, n_tokens, "decode");
    if (st == LORA4J_OK) st = check_positions(ctx, pos, seq_ids, n_tokens);
    if (st != LORA4J_OK) return st;
    const int64_t n_vocab = ctx->model->hp.n_vocab;
    int64_t n_out = 0;
    for (int32_t i = 0; i < n_tokens; i++) n_out += want_logits ? want_logits[i] != 0 : i == n_tokens - 1;
    if (n_out > 0 && (!logits_out || logits_cap < n_out * n_vocab)) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT,
                       "decode: %lld rows of logits need %lld floats, logits_out holds %lld",
                       (long long)n_out, (long long)(n_out * n_vocab),
                       logits_out ? (long long)logits_cap : 0LL);
    }

    /* next_pos is free again: it keeps the lengths a device failure restores */
    memcpy(ctx->next_pos, ctx->seq_len, (size_t)ctx->p.n_seq_max * sizeof(int32_t));
    float *dst = logits_out;
    for (int32_t b = 0; b < n_tokens; b += ctx->p.n_batch) {
        int32_t e = n_tokens - b < ctx->p.n_batch ? n_tokens : b + ctx->p.n_batch;
        stage_chunk(ctx, seq_ids, b, e);
        int32_t n_rows = 0;
        for (int32_t i = b; i < e; i++) {
            if (want_logits ? want_logits[i] != 0 : i == n_tokens - 1) ctx->rows[n_rows++] = i - b;
        }
        if (ctx->dev) {
            st = l4_device_decode(ctx, tokens + b, e - b, ctx->rows, n_rows, NULL, dst);
            if (st != LORA4J_OK) {
                memcpy(ctx->seq_len, ctx->next_pos, (size_t)ctx->p.n_seq_max * sizeof(int32_t));
                return st;
            }
        } else {
            l4_forward_layers(ctx, tokens + b, e - b);
            if (n_rows > 0) l4_forward_head(ctx, ctx->rows, n_rows, dst);
        }
        dst += (int64_t)n_rows * n_vocab;
    }
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_sequence_logprobs(lora4j_context *ctx, int32_t seq,
                                                    const int32_t *tokens, int32_t n_tokens,
                                                    float *out) {
    l4_clear_error();
    if (!ctx || !tokens) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "sequence_logprobs: NULL context or tokens");
    }
    if (n_tokens <= 0) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "sequence_logprobs: n_tokens %d must be >= 1", n_tokens);
    }
    if (n_tokens > 1 && !out) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "sequence_logprobs: out is NULL");
    if (seq < 0 || seq >= ctx->p.n_seq_max) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "sequence_logprobs: sequence id %d is out of range [0, %d)",
                       seq, ctx->p.n_seq_max);
    }
    int32_t st = check_tokens(ctx, tokens, n_tokens, "sequence_logprobs");
    if (st != LORA4J_OK) return st;
    if ((int64_t)ctx->seq_len[seq] + n_tokens > ctx->p.n_ctx) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT,
                       "sequence_logprobs: %d cached + %d new tokens exceed the context (n_ctx %d): "
                       "prompt longer than the context", ctx->seq_len[seq], n_tokens, ctx->p.n_ctx);
    }
    const int64_t n_vocab = ctx->model->hp.n_vocab;
    const int32_t len0 = ctx->seq_len[seq];
    for (int32_t b = 0; b < n_tokens; b += ctx->p.n_batch) {
        int32_t e = n_tokens - b < ctx->p.n_batch ? n_tokens : b + ctx->p.n_batch;
        for (int32_t i = b; i < e; i++) {
            ctx->seq[i - b] = seq;
            ctx->pos[i - b] = ctx->seq_len[seq]++;
        }
        /* Row i predicts token i+1; the last token of the sequence predicts nothing. */
        int32_t n_pred = (e < n_tokens ? e : n_tokens - 1) - b;
        if (ctx->dev) {
            /* the backend scores the rows in chunks of its own */
            for (int32_t j = 0; j < n_pred; j++) {
                ctx->rows[j] = j;
                ctx->targets[j] = tokens[b + j + 1];
            }
            st = l4_device_decode(ctx, tokens + b, e - b, ctx->rows, n_pred, ctx->targets,
                                 n_pred > 0 ? out + b : NULL);
            if (st != LORA4J_OK) {
                ctx->seq_len[seq] = len0;
                return st;
            }
            continue;
        }
        l4_forward_layers(ctx, tokens + b, e - b);
        for (int32_t r0 = 0; r0 < n_pred; r0 += (int32_t)ctx->head_rows) {
            int32_t n_rows = n_pred - r0 < ctx->head_rows ? n_pred - r0 : (int32_t)ctx->head_rows;
            for (int32_t j = 0; j < n_rows; j++) {
                ctx->rows[j] = r0 + j;
                ctx->targets[j] = tokens[b + r0 + j + 1];
            }
            l4_forward_head(ctx, ctx->rows, n_rows, ctx->logits);
            l4_logprobs(ctx->logits, n_rows, n_vocab, ctx->targets, out + b + r0, ctx->p.n_threads);
        }
    }
    return LORA4J_OK;
}
