/* One micro-batch: validate the packed batch, forward, the output head over the rows that predict
 * a token (weighted log-prob objective and its gradient), then backward. And the forward-only
 * log-probs. The batch checks and the head are shared with the classification step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "lora/lora_rng.h"
#include "train/trainer.h"

static void zero(float *p, int64_t n) { memset(p, 0, (size_t)n * sizeof(float)); }

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Tokens in range; segments contiguous runs within a row with positions advancing by 1;
 * weights finite and 0 where nothing is predicted. Stages the positions (padding at 0). */
int32_t l4_tr_check_batch(lora4j_trainer *tr, const int32_t *tokens, const int32_t *pos, const int32_t *seg,
                          const float *weights, const char *what) {
    const int64_t n_seq = tr->p.n_seq;
    for (int64_t r = 0; r < tr->p.n_rows; r++) {
        int32_t *runs = tr->seg_ids + r * n_seq;
        int64_t n_runs = 0;
        for (int64_t c = 0; c < n_seq; c++) {
            const int64_t i = r * n_seq + c;
            if (tokens[i] < 0 || tokens[i] >= tr->V) {
                return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: token %lld (row %lld, column %lld) has id %d, out "
                               "of range [0, %lld)", what, (long long)i, (long long)r, (long long)c, tokens[i],
                               (long long)tr->V);
            }
            const int32_t s = seg[i];
            if (s < -1) {
                return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: token %lld has segment id %d (segments are >= 0, "
                               "-1 marks padding)", what, (long long)i, s);
            }
            const int starts = s >= 0 && (c == 0 || seg[i - 1] != s);
            if (weights) {
                if (!isfinite(weights[i])) {
                    return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: weight %lld is %g, not finite", what,
                                   (long long)i, weights[i]);
                }
                if ((s < 0 || starts) && weights[i] != 0.0f) {
                    return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: weight %lld is %g but token %lld %s, so nothing "
                                   "predicts it: its weight must be 0", what, (long long)i, weights[i], (long long)i,
                                   s < 0 ? "is padding" : "starts a segment");
                }
            }
            if (s < 0) {
                tr->pos[i] = 0;
                continue;
            }
            if (starts) {
                if (pos[i] < 0) {
                    return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: token %lld has negative position %d", what,
                                   (long long)i, pos[i]);
                }
                runs[n_runs++] = s;
            } else if ((int64_t)pos[i] != (int64_t)pos[i - 1] + 1) {
                return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: token %lld of segment %d is at position %d, expected "
                               "%lld (positions advance by 1 within a segment)", what, (long long)i, s, pos[i],
                               (long long)pos[i - 1] + 1);
            }
            tr->pos[i] = pos[i];
        }
        qsort(runs, (size_t)n_runs, sizeof *runs, cmp_i32);
        for (int64_t k = 1; k < n_runs; k++) {
            if (runs[k] == runs[k - 1]) {
                return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: row %lld holds segment %d in two separate runs (a "
                               "segment must be contiguous)", what, (long long)r, runs[k]);
            }
        }
    }
    return LORA4J_OK;
}

/* Rows whose hidden state predicts the next token of their segment (all of them, or only those
 * with a non-zero weight), with targets and weights. Returns how many. */
static int64_t select_rows(lora4j_trainer *tr, const int32_t *tokens, const int32_t *seg, const float *weights,
                           int all) {
    int64_t m = 0;
    for (int64_t r = 0; r < tr->p.n_rows; r++) {
        for (int64_t c = 0; c + 1 < tr->p.n_seq; c++) {
            const int64_t j = r * tr->p.n_seq + c;
            if (seg[j] < 0 || seg[j + 1] != seg[j]) continue;
            const float w = weights ? weights[j + 1] : 0.0f;
            if (!all && w == 0.0f) continue;
            tr->rows[m] = (int32_t)j;
            tr->tgt[m] = tokens[j + 1];
            tr->wrow[m] = w;
            m++;
        }
    }
    return m;
}

static int all_finite(const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(x[i])) return 0;
    }
    return 1;
}

int l4_tr_head_input(lora4j_trainer *tr, int64_t m) {
    const int64_t E = tr->E;
    for (int64_t i = 0; i < m; i++) memcpy(tr->xg + i * E, tr->x_out + (int64_t)tr->rows[i] * E, (size_t)E * sizeof(float));
    l4_rmsnorm(tr->xg, tr->output_norm, tr->xng, m, E, tr->eps);
    return all_finite(tr->xng, m * E);
}

/* A trained head (which accumulates its gradient while it computes the objective) also has its
 * weight and bias checked, so no gradient ever sees a NaN. */
double l4_tr_run_head(lora4j_trainer *tr, int64_t m, int with_grad) {
    const int64_t E = tr->E;
    const int cls = tr->cls_w != NULL;
    const l4_matrix head = cls ? (l4_matrix){LORA4J_TYPE_F32, E, tr->p.n_labels, tr->cls_w} : tr->output;
    const float *bias = cls ? NULL : tr->model->output_bias;
    float *dw = cls ? tr->g_cls : tr->g_output;
    int finite = l4_tr_head_input(tr, m);
    if (finite && with_grad && dw) {
        finite = all_finite(head.data, head.n_out * E) && (!bias || all_finite(bias, head.n_out));
    }
    if (!finite) {
        for (int64_t i = 0; i < m; i++) tr->lp[i] = NAN;
        return NAN;
    }
    if (with_grad) zero(tr->dxng, m * E);
    return l4_head_logprobs(&head, bias, tr->xng, m, tr->tgt, with_grad ? tr->wrow : NULL, tr->lp, tr->dxng,
                            with_grad ? dw : NULL, tr->logits, tr->head_chunk, tr->nth);
}

void l4_tr_head_backward(lora4j_trainer *tr, int64_t m) {
    const int64_t E = tr->E;
    zero(tr->dxg, m * E);
    l4_rmsnorm_backward(tr->xg, tr->output_norm, tr->dxng, tr->dxg, tr->g_output_norm, m, E, tr->eps);
    zero(tr->dx, tr->N * E);
    for (int64_t i = 0; i < m; i++) memcpy(tr->dx + (int64_t)tr->rows[i] * E, tr->dxg + i * E, (size_t)E * sizeof(float));
}

static void write_logprobs(const lora4j_trainer *tr, int64_t m, float *out) {
    zero(out, tr->N);
    for (int64_t i = 0; i < m; i++) out[tr->rows[i] + 1] = tr->lp[i];
}

void l4_tr_stage(lora4j_trainer *tr, const int32_t *seg) {
    l4_rope_cache(&tr->rope, tr->pos, tr->N, tr->rope_cs);
    tr->attn.seg = seg;
}

tr_pass l4_tr_train_pass(lora4j_trainer *tr) {
    const tr_pass ps = {1, tr->ad && tr->ad->params.dropout > 0.0f,
                        l4_mix64(tr->p.seed ^ l4_mix64((uint64_t)tr->micro_steps + 1))};
    tr->micro_steps++;
    return ps;
}

/* The LM head's entry points refuse a classifier, which has none. */
static int32_t check_lm(const lora4j_trainer *tr, const char *what) {
    if (tr->cls_w) {
        return l4_fail(LORA4J_ERR_STATE, "%s: a classification trainer (n_labels %d) has no language-model head "
                       "(use trainer_classify_step)", what, tr->p.n_labels);
    }
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_trainer_step(lora4j_trainer *tr, const int32_t *tokens, const int32_t *pos,
                                               const int32_t *seg, const float *weights, float *out_logprobs,
                                               double *out_objective) {
    l4_clear_error();
    if (!tr || !tokens || !pos || !seg || !weights) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_step: NULL trainer, tokens, pos, seg or weights");
    }
    int32_t st = check_lm(tr, "trainer_step");
    if (st == LORA4J_OK) st = l4_tr_check_batch(tr, tokens, pos, seg, weights, "trainer_step");
    if (st != LORA4J_OK) return st;
    l4_tr_stage(tr, seg);
    const tr_pass ps = l4_tr_train_pass(tr);
    if (tr->dev) {
        const int64_t m = select_rows(tr, tokens, seg, weights, out_logprobs != NULL);
        st = m > 0 ? l4_trd_step(tr, tokens, seg, m, &ps, 1, out_objective) : LORA4J_OK;
        if (out_logprobs && (st == LORA4J_OK || st == LORA4J_ERR_NUMERIC)) write_logprobs(tr, m, out_logprobs);
        if (st == LORA4J_OK && m == 0 && out_objective) *out_objective = 0.0;
        return st;
    }
    l4_tr_forward(tr, tokens, &ps);
    const int64_t m = select_rows(tr, tokens, seg, weights, out_logprobs != NULL);
    const double L = m > 0 ? l4_tr_run_head(tr, m, 1) : 0.0;
    if (out_logprobs) write_logprobs(tr, m, out_logprobs);
    if (!isfinite(L)) {
        return l4_fail(LORA4J_ERR_NUMERIC, "trainer_step: the objective is %g (not finite); gradients are unchanged", L);
    }
    if (out_objective) *out_objective = L;
    if (m > 0) {
        l4_tr_head_backward(tr, m);
        l4_tr_backward(tr, tokens, &ps);
    }
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_trainer_logprobs(lora4j_trainer *tr, const int32_t *tokens, const int32_t *pos,
                                                   const int32_t *seg, int32_t use_trainable, float *out_logprobs) {
    l4_clear_error();
    if (!tr || !tokens || !pos || !seg || !out_logprobs) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_logprobs: NULL trainer, tokens, pos, seg or output");
    }
    int32_t st = check_lm(tr, "trainer_logprobs");
    if (st == LORA4J_OK) st = l4_tr_check_batch(tr, tokens, pos, seg, NULL, "trainer_logprobs");
    if (st != LORA4J_OK) return st;
    l4_tr_stage(tr, seg);
    const tr_pass ps = {use_trainable != 0, 0, 0};
    if (tr->dev) {
        const int64_t m = select_rows(tr, tokens, seg, NULL, 1);
        st = m > 0 ? l4_trd_step(tr, tokens, seg, m, &ps, 0, NULL) : LORA4J_OK;
        if (st == LORA4J_OK || st == LORA4J_ERR_NUMERIC) write_logprobs(tr, m, out_logprobs);
        if (st == LORA4J_ERR_NUMERIC) return l4_fail(st, "trainer_logprobs: the hidden states are not finite");
        return st;
    }
    l4_tr_forward(tr, tokens, &ps);
    const int64_t m = select_rows(tr, tokens, seg, NULL, 1);
    const double L = m > 0 ? l4_tr_run_head(tr, m, 0) : 0.0;
    write_logprobs(tr, m, out_logprobs);
    if (isnan(L)) return l4_fail(LORA4J_ERR_NUMERIC, "trainer_logprobs: the hidden states are not finite");
    return LORA4J_OK;
}
