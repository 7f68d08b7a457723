/* Sequence classification: the head and adapter gradients against central finite differences of
 * the mean cross-entropy (LoRA, and full fine-tuning), checkpointing changes no gradient, the
 * logits are the LM head's reading of the same last hidden state when the head holds LM rows, a
 * separable task (does token 7 occur?) trains to high held-out accuracy, the head's moments travel
 * with the optimizer state, and every bad input is an error. */
#include "lora_fixture.h"
#include "train/trainer.h"

#define N_ROWS 2
#define N_SEQ 16
#define N (N_ROWS * N_SEQ)
#define N_LABELS 3

static const int k_segments[] = {7, 6, 0}; /* two packed examples and 3 padding tokens per row */

static lora4j_train_params cls_params(int full, int n_labels) {
    lora4j_train_params p = lora4j_train_default_params();
    p.n_rows = N_ROWS;
    p.n_seq = N_SEQ;
    p.n_threads = 2;
    p.full = full;
    p.n_labels = n_labels;
    return p;
}

/* Mean cross-entropy of the segments' logits [m][n_labels] against labels, in double. */
static double cross_entropy(const float *logits, const int32_t *labels, int m, int n_labels) {
    double L = 0;
    for (int i = 0; i < m; i++) {
        const float *row = logits + i * n_labels;
        double mx = row[0], s = 0;
        for (int c = 1; c < n_labels; c++) mx = fmax(mx, row[c]);
        for (int c = 0; c < n_labels; c++) s += exp(row[c] - mx);
        L += mx + log(s) - row[labels[i]];
    }
    return L / m;
}

static double loss_of(lora4j_trainer *tr, const lf_batch *b, const int32_t *labels, int m) {
    float logits[N * N_LABELS];
    CHECK_OK(lora4j_trainer_classify(tr, b->tokens, b->pos, b->seg, m, logits));
    return cross_entropy(logits, labels, m, tr->p.n_labels);
}

/* Every tensor's largest-gradient element and two random ones against central differences;
 * returns the worst relative gap (floor 1e-3 of the largest gradient), *n the count. */
static double fd_check(lora4j_trainer *tr, const lf_batch *b, const int32_t *labels, int m, int *n, int *saw_head) {
    CHECK_OK(lora4j_trainer_zero_grad(tr));
    CHECK_OK(lora4j_trainer_classify_step(tr, b->tokens, b->pos, b->seg, labels, m, NULL, NULL));
    double gmax = 0, worst = 0;
    for (int64_t i = 0; i < tr->n_train; i++) gmax = fmax(gmax, fabs(tr->grad[i]));
    uint32_t s = 5;
    *n = 0;
    *saw_head = 0;
    for (int i = 0; i < tr->n_params; i++) {
        const tr_param *q = &tr->params[i];
        *saw_head |= strcmp(q->name, "cls.weight") == 0;
        int64_t ks[3] = {0, (int64_t)(fx_rand(&s) % (uint32_t)q->n), (int64_t)(fx_rand(&s) % (uint32_t)q->n)};
        for (int64_t k = 1; k < q->n; k++) {
            if (fabs(tr->grad[q->off + k]) > fabs(tr->grad[q->off + ks[0]])) ks[0] = k;
        }
        for (int j = 0; j < 3; j++) {
            const int64_t k = ks[j];
            const float keep = q->p[k], h = 1e-2f;
            q->p[k] = keep + h;
            const double lp = loss_of(tr, b, labels, m);
            q->p[k] = keep - h;
            const double lm = loss_of(tr, b, labels, m);
            q->p[k] = keep;
            const double fd = (lp - lm) / ((double)(keep + h) - (double)(keep - h)), g = tr->grad[q->off + k];
            const double rel = fabs(fd - g) / (fabs(g) + 1e-3 * gmax);
            if (rel > 0.05) fprintf(stderr, "  %s[%lld]: analytic %.6e, finite difference %.6e\n", q->name, (long long)k, g, fd);
            worst = fmax(worst, rel);
            (*n)++;
        }
    }
    return worst;
}

static void test_fd(lora4j_model *m, int full) {
    lora4j_adapter *ad = full ? NULL : lf_adapter(m, 4, 8, LORA4J_TARGET_ALL);
    if (ad) lf_randomize(ad, 13, 0.25f);
    lora4j_train_params tp = cls_params(full, N_LABELS);
    lora4j_trainer *tr = NULL;
    CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &tp, &tr));
    if (tr) {
        /* a larger head than its N(0, 0.02) start, so the adapter's gradients are not tiny */
        float *w = NULL;
        int64_t nw = 0;
        CHECK_OK(lora4j_trainer_head(tr, &w, &nw));
        CHECK(nw == (int64_t)N_LABELS * tr->E);
        for (int64_t i = 0; i < nw; i++) w[i] *= 25.0f;
        lf_batch b = lf_batch_make(N_ROWS, N_SEQ, k_segments, 64, 23);
        const int32_t labels[4] = {2, 0, 1, 2};
        int n = 0, saw_head = 0, saw_lm_head = 0;
        const double worst = fd_check(tr, &b, labels, 4, &n, &saw_head);
        for (int i = 0; i < tr->n_params; i++) saw_lm_head |= strcmp(tr->params[i].name, "output.weight") == 0;
        printf("  %s classifier: %3d gradients (head included: %s) vs finite differences, worst relative gap %.2e\n",
               full ? "full-FT" : "LoRA   ", n, saw_head ? "yes" : "no", worst);
        CHECK(saw_head && !saw_lm_head && worst < 0.02 && n >= 3 * tr->n_params);
        /* the step's logits and loss are the forward's */
        float a[4 * N_LABELS], c[4 * N_LABELS];
        double L = 0;
        CHECK_OK(lora4j_trainer_classify_step(tr, b.tokens, b.pos, b.seg, labels, 4, a, &L));
        CHECK_OK(lora4j_trainer_classify(tr, b.tokens, b.pos, b.seg, 4, c));
        CHECK(memcmp(a, c, sizeof a) == 0 && fabs(L - cross_entropy(a, labels, 4, N_LABELS)) < 1e-5);
        /* checkpointing recomputes the layers in backward: the same gradients */
        lora4j_train_params cp = tp;
        cp.checkpointing = 1;
        lora4j_trainer *ck = NULL;
        CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &cp, &ck));
        if (ck) {
            memcpy(ck->cls_w, w, (size_t)nw * sizeof(float));
            CHECK_OK(lora4j_trainer_zero_grad(tr));
            CHECK_OK(lora4j_trainer_classify_step(tr, b.tokens, b.pos, b.seg, labels, 4, NULL, NULL));
            CHECK_OK(lora4j_trainer_classify_step(ck, b.tokens, b.pos, b.seg, labels, 4, NULL, NULL));
            CHECK(ck->n_train == tr->n_train && memcmp(ck->grad, tr->grad, (size_t)tr->n_train * sizeof(float)) == 0);
        }
        lora4j_trainer_free(ck);
        lf_batch_free(&b);
    }
    lora4j_trainer_free(tr);
    lora4j_adapter_free(ad);
}

/* A head holding the LM head's rows of tokens ta and tb: the logit difference is the LM's
 * log-prob difference of ta and tb following each segment, which the LM trainer reports for a
 * batch whose segments are extended by that token. */
static void test_reads_last_token(lora4j_model *m) {
    lora4j_adapter *ad = lf_adapter(m, 4, 8, LORA4J_TARGET_ALL);
    if (!ad) return;
    lf_randomize(ad, 17, 0.25f);
    lora4j_train_params lm_p = cls_params(0, 0), cls_p = cls_params(0, 2);
    lora4j_trainer *lm = NULL, *cls = NULL;
    CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &lm_p, &lm));
    CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &cls_p, &cls));
    if (!lm || !cls) return;
    const int32_t ta = 5, tb = 40;
    float *w = NULL;
    int64_t nw = 0;
    CHECK_OK(lora4j_trainer_head(cls, &w, &nw));
    const float *out = lm->output.data;
    memcpy(w, out + ta * lm->E, (size_t)lm->E * sizeof(float));
    memcpy(w + lm->E, out + tb * lm->E, (size_t)lm->E * sizeof(float));

    static const int short_segs[] = {6, 5, 0}, long_segs[] = {7, 6, 0};
    lf_batch b = lf_batch_make(N_ROWS, N_SEQ, short_segs, 64, 29);
    lf_batch e = lf_batch_make(N_ROWS, N_SEQ, long_segs, 64, 29);
    float logits[4 * 2], lp_a[N], lp_b[N];
    CHECK_OK(lora4j_trainer_classify(cls, b.tokens, b.pos, b.seg, 4, logits));
    /* e: the same segments, each followed by one more token (ta, then tb) */
    int ends[4], k = 0;
    for (int r = 0; r < N_ROWS; r++) {
        int src = r * N_SEQ, dst = r * N_SEQ;
        for (int s = 0; short_segs[s]; s++) {
            for (int p = 0; p < short_segs[s]; p++) e.tokens[dst++] = b.tokens[src++];
            ends[k++] = dst++;
        }
    }
    for (int i = 0; i < 4; i++) e.tokens[ends[i]] = ta;
    CHECK_OK(lora4j_trainer_logprobs(lm, e.tokens, e.pos, e.seg, 1, lp_a));
    for (int i = 0; i < 4; i++) e.tokens[ends[i]] = tb;
    CHECK_OK(lora4j_trainer_logprobs(lm, e.tokens, e.pos, e.seg, 1, lp_b));
    double worst = 0;
    for (int i = 0; i < 4; i++) {
        const double want = (double)lp_a[ends[i]] - lp_b[ends[i]], got = (double)logits[2 * i] - logits[2 * i + 1];
        worst = fmax(worst, fabs(want - got));
    }
    printf("  classifier logit gaps vs the LM head's log-prob gaps after each segment: worst %.2e\n", worst);
    CHECK(worst < 1e-4);
    lf_batch_free(&b);
    lf_batch_free(&e);
    lora4j_trainer_free(lm);
    lora4j_trainer_free(cls);
    lora4j_adapter_free(ad);
}

/* Rows of 4 x 12 tokens, each two packed segments of 6 random tokens (never 7); label 1 when
 * token 7 was put at a random place of the segment, which happens half the time. */
#define T_ROWS 4
#define T_SEQ 12
#define T_SEGS (2 * T_ROWS)

typedef struct task_batch {
    int32_t tokens[T_ROWS * T_SEQ], pos[T_ROWS * T_SEQ], seg[T_ROWS * T_SEQ], labels[T_SEGS];
} task_batch;

static void task_make(task_batch *b, uint32_t *s) {
    for (int g = 0; g < T_SEGS; g++) {
        b->labels[g] = (int32_t)(fx_rand(s) % 2);
        const int where = (int)(fx_rand(s) % 6);
        for (int p = 0; p < 6; p++) {
            const int i = g * 6 + p;
            int32_t t = (int32_t)(fx_rand(s) % 63);
            b->tokens[i] = t >= 7 ? t + 1 : t;
            if (b->labels[g] && p == where) b->tokens[i] = 7;
            b->pos[i] = p;
            b->seg[i] = g % 2;
        }
    }
}

static void test_learns(lora4j_model *m) {
    lora4j_adapter *ad = lf_adapter(m, 8, 16, LORA4J_TARGET_ALL);
    lora4j_train_params tp = lora4j_train_default_params();
    tp.n_rows = T_ROWS;
    tp.n_seq = T_SEQ;
    tp.n_threads = 2;
    tp.n_labels = 2;
    lora4j_trainer *tr = NULL;
    CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &tp, &tr));
    if (!tr) return;
    lora4j_optim_params op = lora4j_optim_default_params();
    op.lr = 1e-2f;
    uint32_t s = 77;
    task_batch b;
    double first = 0, loss = 0;
    for (int step = 0; step < 150; step++) {
        task_make(&b, &s);
        CHECK_OK(lora4j_trainer_classify_step(tr, b.tokens, b.pos, b.seg, b.labels, T_SEGS, NULL, &loss));
        if (step == 0) first = loss;
        CHECK_OK(lora4j_trainer_optimizer_step(tr, &op, NULL));
    }
    int right = 0, total = 0;
    for (int k = 0; k < 16; k++) {
        task_make(&b, &s);
        float logits[T_SEGS * 2];
        CHECK_OK(lora4j_trainer_classify(tr, b.tokens, b.pos, b.seg, T_SEGS, logits));
        for (int g = 0; g < T_SEGS; g++, total++) right += (logits[2 * g + 1] > logits[2 * g]) == (b.labels[g] == 1);
    }
    printf("  'does token 7 occur?', 150 steps: loss %.3f -> %.3f, held-out accuracy %d/%d\n", first, loss, right,
           total);
    CHECK(right >= total * 9 / 10);
    lora4j_trainer_free(tr);
    lora4j_adapter_free(ad);
}

/* Same seed, same head; the head's moments are saved and restored with the optimizer state and
 * tie the state to the label count. */
static void test_state(lora4j_model *m) {
    lora4j_adapter *ad = lf_adapter(m, 4, 8, LORA4J_TARGET_ATTN_Q);
    lora4j_train_params tp = cls_params(0, N_LABELS), other = cls_params(0, 2);
    lora4j_trainer *a = NULL, *b = NULL, *c = NULL;
    CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &tp, &a));
    CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &tp, &b));
    CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &other, &c));
    if (!a || !b || !c) return;
    CHECK(memcmp(a->cls_w, b->cls_w, (size_t)N_LABELS * a->E * sizeof(float)) == 0);
    double sd = 0;
    for (int64_t i = 0; i < N_LABELS * a->E; i++) sd += (double)a->cls_w[i] * a->cls_w[i];
    sd = sqrt(sd / (N_LABELS * a->E));
    CHECK(sd > 0.015 && sd < 0.025);
    lf_batch bt = lf_batch_make(N_ROWS, N_SEQ, k_segments, 64, 31);
    const int32_t labels[4] = {0, 1, 2, 1};
    lora4j_optim_params op = lora4j_optim_default_params();
    CHECK_OK(lora4j_trainer_classify_step(a, bt.tokens, bt.pos, bt.seg, labels, 4, NULL, NULL));
    CHECK_OK(lora4j_trainer_optimizer_step(a, &op, NULL));
    char path[512];
    snprintf(path, sizeof path, "%s", tmp_path("cls_state.gguf"));
    CHECK_OK(lora4j_trainer_save_state(a, path));
    lora4j_gguf *g = NULL;
    CHECK_OK(lora4j_gguf_open(path, &g));
    CHECK(g && lora4j_gguf_find_tensor(g, "cls.weight.m") >= 0 && lora4j_gguf_find_tensor(g, "cls.weight.v") >= 0);
    lora4j_gguf_close(g);
    CHECK_OK(lora4j_trainer_load_state(b, path));
    const tr_param *ha = &a->params[a->n_params - 1], *hb = &b->params[b->n_params - 1];
    CHECK(memcmp(a->m + ha->off, b->m + hb->off, (size_t)ha->n * sizeof(float)) == 0);
    CHECK(memcmp(a->v + ha->off, b->v + hb->off, (size_t)ha->n * sizeof(float)) == 0 && b->steps == 1);
    CHECK_FAIL(lora4j_trainer_load_state(c, path), LORA4J_ERR_INVALID_ARGUMENT, "different set of trained parameters");
    lf_batch_free(&bt);
    lora4j_trainer_free(a);
    lora4j_trainer_free(b);
    lora4j_trainer_free(c);
    lora4j_adapter_free(ad);
}

static void test_errors(lora4j_model *m) {
    lora4j_adapter *ad = lf_adapter(m, 2, 4, LORA4J_TARGET_ATTN_Q);
    lora4j_train_params one = cls_params(0, 1), neg = cls_params(0, -2), tp = cls_params(0, N_LABELS),
                        lm_p = cls_params(0, 0);
    lora4j_trainer *tr = NULL, *lm = NULL;
    CHECK_FAIL(lora4j_trainer_new(m, ad, NULL, NULL, 0, &one, &tr), LORA4J_ERR_INVALID_ARGUMENT, "n_labels 1");
    CHECK_FAIL(lora4j_trainer_new(m, ad, NULL, NULL, 0, &neg, &tr), LORA4J_ERR_INVALID_ARGUMENT, "n_labels -2");
    lora4j_memory_plan plan_lm, plan_cls;
    CHECK_OK(lora4j_trainer_plan(m, ad, &lm_p, &plan_lm));
    CHECK_OK(lora4j_trainer_plan(m, ad, &tp, &plan_cls));
    CHECK(plan_cls.trainable - plan_lm.trainable == 2 * (int64_t)N_LABELS * 32 * (int64_t)sizeof(float));
    CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &tp, &tr));
    CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &lm_p, &lm));
    if (!tr || !lm) return;
    lf_batch b = lf_batch_make(N_ROWS, N_SEQ, k_segments, 64, 37);
    int32_t labels[4] = {0, 1, 2, 0};
    float logits[4 * N_LABELS], lp[N];
    float *w = NULL;
    int64_t nw = 0;
    CHECK_FAIL(lora4j_trainer_classify_step(tr, b.tokens, b.pos, b.seg, labels, 3, NULL, NULL),
               LORA4J_ERR_INVALID_ARGUMENT, "holds 4 segments but n_segments is 3");
    labels[2] = 3;
    CHECK_FAIL(lora4j_trainer_classify_step(tr, b.tokens, b.pos, b.seg, labels, 4, NULL, NULL),
               LORA4J_ERR_INVALID_ARGUMENT, "label 2 is 3");
    labels[2] = -1;
    CHECK_FAIL(lora4j_trainer_classify_step(tr, b.tokens, b.pos, b.seg, labels, 4, NULL, NULL),
               LORA4J_ERR_INVALID_ARGUMENT, "label 2 is -1");
    CHECK_FAIL(lora4j_trainer_classify_step(tr, b.tokens, b.pos, b.seg, NULL, 4, NULL, NULL),
               LORA4J_ERR_INVALID_ARGUMENT, "NULL");
    b.tokens[3] = 64;
    CHECK_FAIL(lora4j_trainer_classify(tr, b.tokens, b.pos, b.seg, 4, logits), LORA4J_ERR_INVALID_ARGUMENT,
               "out of range");
    b.tokens[3] = 1;
    CHECK(tr->micro_steps == 0); /* nothing ran */
    double norm = -1;
    CHECK_OK(lora4j_trainer_grad_norm(tr, &norm));
    CHECK(norm == 0);
    for (int i = 0; i < N; i++) b.seg[i] = -1;
    CHECK_FAIL(lora4j_trainer_classify(tr, b.tokens, b.pos, b.seg, 0, logits), LORA4J_ERR_INVALID_ARGUMENT,
               "no segment");
    /* the LM entry points and the classifier's refuse each other's trainer */
    CHECK_FAIL(lora4j_trainer_step(tr, b.tokens, b.pos, b.seg, b.weights, NULL, NULL), LORA4J_ERR_STATE,
               "no language-model head");
    CHECK_FAIL(lora4j_trainer_logprobs(tr, b.tokens, b.pos, b.seg, 1, lp), LORA4J_ERR_STATE, "no language-model head");
    CHECK_FAIL(lora4j_trainer_classify(lm, b.tokens, b.pos, b.seg, 0, logits), LORA4J_ERR_STATE, "causal LM");
    CHECK_FAIL(lora4j_trainer_head(lm, &w, &nw), LORA4J_ERR_STATE, "causal LM");
    CHECK_FAIL(lora4j_trainer_head(tr, NULL, &nw), LORA4J_ERR_INVALID_ARGUMENT, "NULL");
    /* a non-finite head is an error and leaves the gradients alone */
    lf_batch ok = lf_batch_make(N_ROWS, N_SEQ, k_segments, 64, 41);
    labels[2] = 1;
    CHECK_OK(lora4j_trainer_head(tr, &w, &nw));
    w[5] = NAN;
    CHECK_FAIL(lora4j_trainer_classify_step(tr, ok.tokens, ok.pos, ok.seg, labels, 4, NULL, NULL), LORA4J_ERR_NUMERIC,
               "not finite");
    CHECK_OK(lora4j_trainer_grad_norm(tr, &norm));
    CHECK(norm == 0);
    lf_batch_free(&ok);
    lf_batch_free(&b);
    lora4j_trainer_free(tr);
    lora4j_trainer_free(lm);
    lora4j_adapter_free(ad);
}

int main(void) {
    tmpdir_make();
    fx_model tiny = lf_tiny();
    lora4j_model *m = lf_load(&tiny, "tiny.gguf");
    if (m) {
        test_fd(m, 0);
        test_fd(m, 1);
        test_reads_last_token(m);
        test_learns(m);
        test_state(m);
        test_errors(m);
    }
    lora4j_model_free(m);
    tmpdir_remove();
    return test_summary("test_trainer_classify");
}
