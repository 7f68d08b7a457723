/* Sequence classification: the same packed batch and layer graph as the causal-LM step, but the
 * head is the classifier's W [n_labels][E] over each segment's last hidden state (output-normed),
 * with the mean cross-entropy over the segments as the loss. Cross-entropy is the weighted
 * log-prob objective of the shared head with weight -1/m per segment and the label as target. */
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "quant/quant.h"
#include "train/trainer.h"

static int32_t check_classifier(const lora4j_trainer *tr, const char *what) {
    if (!tr->cls_w) {
        return l4_fail(LORA4J_ERR_STATE, "%s: the trainer was created for causal LM (params.n_labels 0); a "
                       "classifier needs n_labels >= 2", what);
    }
    return LORA4J_OK;
}

/* The last row of every segment run, row by row, into tr->rows; returns how many. */
static int64_t select_last(lora4j_trainer *tr, const int32_t *seg) {
    const int64_t n_seq = tr->p.n_seq;
    int64_t m = 0;
    for (int64_t r = 0; r < tr->p.n_rows; r++) {
        for (int64_t c = 0; c < n_seq; c++) {
            const int64_t i = r * n_seq + c;
            if (seg[i] >= 0 && (c + 1 == n_seq || seg[i + 1] != seg[i])) tr->rows[m++] = (int32_t)i;
        }
    }
    return m;
}

/* Checks and stages the batch; *m gets the segment count, which must be n_segments. */
static int32_t prepare(lora4j_trainer *tr, const int32_t *tokens, const int32_t *pos, const int32_t *seg,
                       int32_t n_segments, int64_t *m, const char *what) {
    int32_t st = check_classifier(tr, what);
    if (st == LORA4J_OK) st = l4_tr_check_batch(tr, tokens, pos, seg, NULL, what);
    if (st != LORA4J_OK) return st;
    *m = select_last(tr, seg);
    if (*m == 0) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: the batch holds no segment (only padding)", what);
    if (*m != n_segments) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "%s: the batch holds %lld segments but n_segments is %d", what,
                       (long long)*m, n_segments);
    }
    l4_tr_stage(tr, seg);
    return LORA4J_OK;
}

/* out[m][n_labels] = W · xng (the gathered, normed rows). */
static void write_logits(const lora4j_trainer *tr, int64_t m, float *out) {
    l4_matmul(LORA4J_TYPE_F32, tr->cls_w, tr->p.n_labels, tr->E, tr->xng, tr->E, m, out, tr->p.n_labels, tr->nth, 1);
}

LORA4J_API lora4j_status_t lora4j_trainer_classify_step(lora4j_trainer *tr, const int32_t *tokens,
                                                        const int32_t *pos, const int32_t *seg,
                                                        const int32_t *labels, int32_t n_segments,
                                                        float *out_logits, double *out_loss) {
    l4_clear_error();
    if (!tr || !tokens || !pos || !seg || !labels) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_classify_step: NULL trainer, tokens, pos, seg or labels");
    }
    int64_t m = 0;
    int32_t st = prepare(tr, tokens, pos, seg, n_segments, &m, "trainer_classify_step");
    if (st != LORA4J_OK) return st;
    for (int64_t i = 0; i < m; i++) {
        if (labels[i] < 0 || labels[i] >= tr->p.n_labels) {
            return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_classify_step: label %lld is %d, out of range [0, %d)",
                           (long long)i, labels[i], tr->p.n_labels);
        }
        tr->tgt[i] = labels[i];
        tr->wrow[i] = -1.0f / (float)m;
    }
    const tr_pass ps = l4_tr_train_pass(tr);
    l4_tr_forward(tr, tokens, &ps);
    const double L = l4_tr_run_head(tr, m, 1);
    if (!isfinite(L)) {
        return l4_fail(LORA4J_ERR_NUMERIC, "trainer_classify_step: the loss is %g (not finite); gradients are "
                       "unchanged", L);
    }
    if (out_logits) write_logits(tr, m, out_logits);
    if (out_loss) *out_loss = L;
    l4_tr_head_backward(tr, m);
    l4_tr_backward(tr, tokens, &ps);
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_trainer_classify(lora4j_trainer *tr, const int32_t *tokens, const int32_t *pos,
                                                   const int32_t *seg, int32_t n_segments, float *out_logits) {
    l4_clear_error();
    if (!tr || !tokens || !pos || !seg || !out_logits) {
        return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_classify: NULL trainer, tokens, pos, seg or output");
    }
    int64_t m = 0;
    int32_t st = prepare(tr, tokens, pos, seg, n_segments, &m, "trainer_classify");
    if (st != LORA4J_OK) return st;
    const tr_pass ps = {1, 0, 0};
    l4_tr_forward(tr, tokens, &ps);
    if (!l4_tr_head_input(tr, m)) return l4_fail(LORA4J_ERR_NUMERIC, "trainer_classify: the hidden states are not finite");
    write_logits(tr, m, out_logits);
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_trainer_head(lora4j_trainer *tr, float **out, int64_t *out_n) {
    l4_clear_error();
    if (!tr || !out || !out_n) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_head: NULL argument");
    int32_t st = check_classifier(tr, "trainer_head");
    if (st != LORA4J_OK) return st;
    *out = tr->cls_w;
    *out_n = (int64_t)tr->p.n_labels * tr->E;
    return LORA4J_OK;
}
