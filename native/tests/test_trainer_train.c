/* Training behaviour: AdamW and SGD memorise a tiny task, resuming from saved optimizer state
 * continues exactly, clipping/scaling/decay do what they say, NaN never touches the gradients or
 * the parameters, every bad input is an error, the memory plan adds up, and a fully fine-tuned
 * model written with save_model scores like the trainer. */
#include "lora_fixture.h"
#include "train/trainer.h"

#define N_ROWS 2
#define N_SEQ 16
#define N (N_ROWS * N_SEQ)

static const int k_segments[] = {9, 5, 0};

static lora4j_train_params train_params(int full) {
    lora4j_train_params p = lora4j_train_default_params();
    p.n_rows = N_ROWS;
    p.n_seq = N_SEQ;
    p.n_threads = 2;
    p.full = full;
    return p;
}

static double step_loss(lora4j_trainer *tr, const lf_batch *b) {
    double L = NAN;
    CHECK_OK(lora4j_trainer_step(tr, b->tokens, b->pos, b->seg, b->weights, NULL, &L));
    return L; /* weights are -1/count: L is the mean cross-entropy */
}

/* Loss after n optimizer steps on one batch (first loss in *first). */
static double train(lora4j_trainer *tr, const lf_batch *b, const lora4j_optim_params *op, int n, double *first) {
    double loss = 0;
    for (int s = 0; s < n; s++) {
        loss = step_loss(tr, b);
        if (s == 0 && first) *first = loss;
        CHECK_OK(lora4j_trainer_optimizer_step(tr, op, NULL));
    }
    return step_loss(tr, b);
}

static void test_memorise(lora4j_model *m) {
    lf_batch b = lf_batch_make(N_ROWS, N_SEQ, k_segments, 64, 5);
    for (int kind = 0; kind < 2; kind++) {
        lora4j_adapter *ad = lf_adapter(m, 8, 16, LORA4J_TARGET_ALL);
        lora4j_train_params tp = train_params(0);
        lora4j_trainer *tr = NULL;
        CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &tp, &tr));
        if (!tr) return;
        lora4j_optim_params op = lora4j_optim_default_params();
        op.kind = kind;
        op.lr = kind == LORA4J_OPTIM_ADAMW ? 1e-2f : 0.5f;
        op.momentum = 0.9f;
        op.max_grad_norm = 1.0f;
        double first = 0, last = train(tr, &b, &op, 300, &first);
        printf("  %s, 300 steps: loss %.3f -> %.4f (x%.0f lower)\n", kind ? "SGD  " : "AdamW", first, last,
               first / last);
        /* the frozen random head bounds how sure the model can get: about 0.3 is the floor here */
        CHECK(last < first / (kind == LORA4J_OPTIM_ADAMW ? 12 : 9));
        CHECK(lora4j_trainer_steps(tr) == 300);
        lora4j_trainer_free(tr);
        lora4j_adapter_free(ad);
    }
    /* full fine-tuning trains the head too, so it can go much further */
    lora4j_train_params fp = train_params(1);
    lora4j_trainer *tr = NULL;
    CHECK_OK(lora4j_trainer_new(m, NULL, NULL, NULL, 0, &fp, &tr));
    if (tr) {
        lora4j_optim_params op = lora4j_optim_default_params();
        op.lr = 1e-2f;
        double first = 0, last = train(tr, &b, &op, 150, &first);
        printf("  full FT AdamW, 150 steps: loss %.3f -> %.4f (x%.0f lower)\n", first, last, first / last);
        CHECK(last < first / 100);
    }
    lora4j_trainer_free(tr);
    lf_batch_free(&b);
}

static void test_resume(lora4j_model *m) {
    lora4j_lora_params lp = lora4j_lora_default_params();
    lp.rank = 4;
    lp.dropout = 0.1f; /* the micro-step counter (mask seed) must be restored too */
    lora4j_adapter *ad = NULL, *snap = NULL, *other = NULL;
    CHECK_OK(lora4j_adapter_new(m, &lp, &ad));
    lf_batch b[2] = {lf_batch_make(N_ROWS, N_SEQ, k_segments, 64, 7), lf_batch_make(N_ROWS, N_SEQ, k_segments, 64, 8)};
    lora4j_train_params tp = train_params(0);
    lora4j_optim_params op = lora4j_optim_default_params();
    op.lr = 5e-3f;
    op.weight_decay = 0.01f;
    op.grad_scale = 0.5f; /* two micro-batches per step */
    lora4j_trainer *tr = NULL, *again = NULL;
    CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &tp, &tr));
    if (!tr) return;
    double want[6], got[6];
    const char *state = tmp_path("state.gguf");
    for (int s = 0; s < 10; s++) {
        if (s == 4) {
            CHECK_OK(lora4j_trainer_save_state(tr, state));
            CHECK_OK(lora4j_adapter_clone(ad, &snap));
        }
        double l0 = step_loss(tr, &b[0]), l1 = step_loss(tr, &b[1]);
        if (s >= 4) want[s - 4] = l0 + l1;
        CHECK_OK(lora4j_trainer_optimizer_step(tr, &op, NULL));
    }
    if (!snap) return;
    CHECK_OK(lora4j_trainer_new(m, snap, NULL, NULL, 0, &tp, &again));
    CHECK_OK(lora4j_trainer_load_state(again, state));
    CHECK(lora4j_trainer_steps(again) == 4);
    for (int s = 4; s < 10 && again; s++) {
        got[s - 4] = step_loss(again, &b[0]) + step_loss(again, &b[1]);
        CHECK_OK(lora4j_trainer_optimizer_step(again, &op, NULL));
    }
    CHECK(memcmp(want, got, sizeof want) == 0);
    CHECK(memcmp(ad->data, snap->data, (size_t)ad->n_data * sizeof(float)) == 0);
    printf("  resume at step 4: 6 more steps reproduce the losses exactly (%.4f ... %.4f)\n", got[0], got[5]);

    /* state from another parameter set, another kind of file, another optimizer */
    lp.rank = 2;
    CHECK_OK(lora4j_adapter_new(m, &lp, &other));
    lora4j_trainer *wrong = NULL, *full = NULL;
    CHECK_OK(lora4j_trainer_new(m, other, NULL, NULL, 0, &tp, &wrong));
    lora4j_train_params fp = train_params(1);
    CHECK_OK(lora4j_trainer_new(m, NULL, NULL, NULL, 0, &fp, &full));
    if (wrong) CHECK_FAIL(lora4j_trainer_load_state(wrong, state), LORA4J_ERR_INVALID_ARGUMENT, "different set");
    if (full) CHECK_FAIL(lora4j_trainer_load_state(full, state), LORA4J_ERR_INVALID_ARGUMENT, "different set");
    CHECK_OK(lora4j_adapter_save(ad, tmp_path("adapter.gguf")));
    CHECK_FAIL(lora4j_trainer_load_state(tr, tmp_path("adapter.gguf")), LORA4J_ERR_FORMAT, "not an optimizer state");
    lora4j_optim_params sgd = op;
    sgd.kind = LORA4J_OPTIM_SGD;
    CHECK_FAIL(lora4j_trainer_optimizer_step(again, &sgd, NULL), LORA4J_ERR_STATE, "AdamW");
    lora4j_trainer_free(wrong);
    lora4j_trainer_free(full);
    lora4j_trainer_free(again);
    lora4j_trainer_free(tr);
    lora4j_adapter_free(other);
    lora4j_adapter_free(snap);
    lora4j_adapter_free(ad);
    lf_batch_free(&b[0]);
    lf_batch_free(&b[1]);
}

/* grad_scale, clipping to max_grad_norm, and weight decay on A/B but not on bias deltas. */
static void test_optimizer_rules(void) {
    fx_model q = lf_tiny();
    q.arch = "qwen2";
    q.qkv_bias = 1;
    lora4j_model *m = lf_load(&q, "qwen.gguf");
    if (!m) return;
    lora4j_lora_params lp = lora4j_lora_default_params();
    lp.rank = 4;
    lp.bias = LORA4J_LORA_BIAS_LORA_ONLY;
    lora4j_adapter *ad = NULL;
    CHECK_OK(lora4j_adapter_new(m, &lp, &ad));
    lora4j_train_params tp = train_params(0);
    lora4j_trainer *tr = NULL;
    CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &tp, &tr));
    if (!tr) return;
    lf_randomize(ad, 3, 0.2f);
    lf_batch b = lf_batch_make(N_ROWS, N_SEQ, k_segments, 64, 9);
    float *before = malloc((size_t)ad->n_data * sizeof(float));

    /* SGD without momentum, lr 1: the update is the scaled, clipped gradient itself */
    lora4j_optim_params op = lora4j_optim_default_params();
    op.kind = LORA4J_OPTIM_SGD;
    op.lr = 1.0f;
    op.grad_scale = 0.25f;
    op.max_grad_norm = 1e-3f;
    step_loss(tr, &b);
    double raw = 0, reported = 0;
    CHECK_OK(lora4j_trainer_grad_norm(tr, &raw));
    memcpy(before, ad->data, (size_t)ad->n_data * sizeof(float));
    CHECK_OK(lora4j_trainer_optimizer_step(tr, &op, &reported));
    double moved = 0;
    for (int64_t i = 0; i < ad->n_data; i++) moved += ((double)ad->data[i] - before[i]) * ((double)ad->data[i] - before[i]);
    printf("  clip: raw norm %.4f, scaled %.4f, update norm %.6f (max 0.001)\n", raw, reported, sqrt(moved));
    CHECK(fabs(reported - 0.25 * raw) < 1e-6 * raw && raw > 0.01);
    CHECK(fabs(sqrt(moved) - 1e-3) < 1e-5);
    double after = -1;
    CHECK_OK(lora4j_trainer_grad_norm(tr, &after));
    CHECK(after == 0); /* zeroed */
    lora4j_trainer_free(tr);
    tr = NULL;

    /* AdamW with zero gradients: only decoupled decay moves A/B; bias deltas are not decayed */
    CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &tp, &tr));
    memcpy(before, ad->data, (size_t)ad->n_data * sizeof(float));
    op = lora4j_optim_default_params();
    op.lr = 0.1f;
    op.weight_decay = 0.5f;
    CHECK_OK(lora4j_trainer_optimizer_step(tr, &op, NULL));
    int ok_ab = 1, ok_bias = 1;
    for (int64_t i = 0; i < ad->n_pairs; i++) {
        const lora4j_lora_pair *e = &ad->pairs[i];
        for (int64_t k = 0; k < e->rank * e->n_in; k++) {
            const float was = before[e->a - ad->data + k];
            ok_ab &= fabs(e->a[k] - was * (1.0f - 0.05f)) <= 1e-6f * fabsf(was) + 1e-9f;
        }
        for (int64_t k = 0; e->bias_delta && k < e->n_out; k++) ok_bias &= e->bias_delta[k] == before[e->bias_delta - ad->data + k];
    }
    CHECK(ok_ab && ok_bias);
    free(before);
    lf_batch_free(&b);
    lora4j_trainer_free(tr);
    lora4j_adapter_free(ad);
    lora4j_model_free(m);
}

static void test_numeric(lora4j_model *m) {
    lora4j_adapter *ad = lf_adapter(m, 4, 8, LORA4J_TARGET_ALL);
    lora4j_train_params tp = train_params(0);
    lora4j_trainer *tr = NULL;
    CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &tp, &tr));
    if (!tr) return;
    lf_randomize(ad, 4, 0.2f);
    lf_batch b = lf_batch_make(N_ROWS, N_SEQ, k_segments, 64, 10);
    step_loss(tr, &b);
    float *g = malloc((size_t)tr->n_train * sizeof(float)), *p = malloc((size_t)tr->n_train * sizeof(float));
    memcpy(g, tr->grad, (size_t)tr->n_train * sizeof(float));
    const float keep = ad->pairs[3].a[0];
    ad->pairs[3].a[0] = NAN;
    double L = 0;
    float lp[N];
    CHECK_FAIL(lora4j_trainer_step(tr, b.tokens, b.pos, b.seg, b.weights, lp, &L), LORA4J_ERR_NUMERIC,
               "gradients are unchanged");
    CHECK(memcmp(g, tr->grad, (size_t)tr->n_train * sizeof(float)) == 0);
    CHECK(isnan(lp[1]) && lp[0] == 0.0f);
    ad->pairs[3].a[0] = keep;

    /* a non-finite gradient: the optimizer refuses and changes nothing */
    tr->grad[5] = INFINITY;
    memcpy(g, tr->grad, (size_t)tr->n_train * sizeof(float));
    memcpy(p, ad->data, (size_t)tr->n_train * sizeof(float));
    lora4j_optim_params op = lora4j_optim_default_params();
    CHECK_FAIL(lora4j_trainer_optimizer_step(tr, &op, NULL), LORA4J_ERR_NUMERIC, "nothing was changed");
    CHECK(memcmp(g, tr->grad, (size_t)tr->n_train * sizeof(float)) == 0);
    CHECK(memcmp(p, ad->data, (size_t)tr->n_train * sizeof(float)) == 0 && lora4j_trainer_steps(tr) == 0);
    CHECK_OK(lora4j_trainer_zero_grad(tr));

    /* all weights zero: a valid step that changes no gradient */
    memset(b.weights, 0, sizeof(float) * N);
    CHECK_OK(lora4j_trainer_step(tr, b.tokens, b.pos, b.seg, b.weights, NULL, &L));
    double norm = -1;
    CHECK_OK(lora4j_trainer_grad_norm(tr, &norm));
    CHECK(L == 0 && norm == 0);
    free(g);
    free(p);
    lora4j_trainer_free(tr);
    lora4j_adapter_free(ad);

    /* full fine-tuning: a NaN in the trained head (which accumulates its gradient as it goes) */
    lora4j_train_params fp = train_params(1);
    CHECK_OK(lora4j_trainer_new(m, NULL, NULL, NULL, 0, &fp, &tr));
    if (tr) {
        lf_batch ok = lf_batch_make(N_ROWS, N_SEQ, k_segments, 64, 13);
        CHECK_OK(lora4j_trainer_step(tr, ok.tokens, ok.pos, ok.seg, ok.weights, NULL, NULL));
        g = malloc((size_t)tr->n_train * sizeof(float));
        memcpy(g, tr->grad, (size_t)tr->n_train * sizeof(float));
        tr_param *head = NULL;
        for (int i = 0; i < tr->n_params; i++) {
            if (strcmp(tr->params[i].name, "output.weight") == 0) head = &tr->params[i];
        }
        CHECK(head != NULL);
        if (head) {
            head->p[100] = NAN;
            CHECK_FAIL(lora4j_trainer_step(tr, ok.tokens, ok.pos, ok.seg, ok.weights, NULL, NULL),
                       LORA4J_ERR_NUMERIC, "not finite");
            CHECK(memcmp(g, tr->grad, (size_t)tr->n_train * sizeof(float)) == 0);
        }
        free(g);
        lf_batch_free(&ok);
    }
    lora4j_trainer_free(tr);
    lf_batch_free(&b);
}

static void test_bad_inputs(lora4j_model *m) {
    lora4j_adapter *ad = lf_adapter(m, 4, 8, LORA4J_TARGET_ALL);
    lora4j_train_params tp = train_params(0);
    lora4j_trainer *tr = NULL;
    CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &tp, &tr));
    if (!tr) return;
    lf_batch b = lf_batch_make(N_ROWS, N_SEQ, k_segments, 64, 11);
    float lp[N];
#define STEP_FAILS(edit, undo, needle)                                                              \
    do {                                                                                            \
        edit;                                                                                       \
        CHECK_FAIL(lora4j_trainer_step(tr, b.tokens, b.pos, b.seg, b.weights, NULL, NULL),          \
                   LORA4J_ERR_INVALID_ARGUMENT, needle);                                            \
        CHECK_FAIL(lora4j_trainer_logprobs(tr, b.tokens, b.pos, b.seg, 1, lp), LORA4J_ERR_INVALID_ARGUMENT, \
                   needle);                                                                         \
        undo;                                                                                       \
    } while (0)
    STEP_FAILS(b.tokens[3] = 64, b.tokens[3] = 1, "token 3 (row 0, column 3) has id 64, out of range [0, 64)");
    STEP_FAILS(b.tokens[20] = -1, b.tokens[20] = 1, "token 20 (row 1, column 4) has id -1");
    STEP_FAILS(b.seg[2] = -2, b.seg[2] = 0, "segment id -2");
    STEP_FAILS(b.pos[4] = 5, b.pos[4] = 4, "token 4 of segment 0 is at position 5, expected 4");
    STEP_FAILS(b.pos[9] = -1, b.pos[9] = 0, "negative position");
    /* segment 0 again after segment 1 in row 0 (positions restarting, as a new segment) */
    const float keep12 = b.weights[12];
    STEP_FAILS((b.seg[12] = 0, b.seg[13] = 0, b.pos[12] = 0, b.pos[13] = 1, b.weights[12] = 0),
               (b.seg[12] = 1, b.seg[13] = 1, b.pos[12] = 3, b.pos[13] = 4, b.weights[12] = keep12),
               "segment 0 in two separate runs");
#undef STEP_FAILS
    /* weights: only on predicted tokens, finite */
    const float keep9 = b.weights[9];
    b.weights[9] = -0.1f; /* token 9 starts segment 1 */
    CHECK_FAIL(lora4j_trainer_step(tr, b.tokens, b.pos, b.seg, b.weights, NULL, NULL), LORA4J_ERR_INVALID_ARGUMENT,
               "token 9 starts a segment");
    b.weights[9] = keep9;
    b.weights[15] = 1.0f; /* padding */
    CHECK_FAIL(lora4j_trainer_step(tr, b.tokens, b.pos, b.seg, b.weights, NULL, NULL), LORA4J_ERR_INVALID_ARGUMENT,
               "token 15 is padding");
    b.weights[15] = 0.0f;
    b.weights[16] = 0.5f; /* first token of row 1 */
    CHECK_FAIL(lora4j_trainer_step(tr, b.tokens, b.pos, b.seg, b.weights, NULL, NULL), LORA4J_ERR_INVALID_ARGUMENT,
               "token 16 starts a segment");
    b.weights[16] = 0.0f;
    const float keep2 = b.weights[2];
    b.weights[2] = NAN;
    CHECK_FAIL(lora4j_trainer_step(tr, b.tokens, b.pos, b.seg, b.weights, NULL, NULL), LORA4J_ERR_INVALID_ARGUMENT,
               "weight 2 is nan");
    b.weights[2] = keep2;
    CHECK_FAIL(lora4j_trainer_step(tr, b.tokens, b.pos, b.seg, NULL, NULL, NULL), LORA4J_ERR_INVALID_ARGUMENT, "NULL");
    CHECK_FAIL(lora4j_trainer_logprobs(tr, b.tokens, b.pos, b.seg, 1, NULL), LORA4J_ERR_INVALID_ARGUMENT, "NULL");
    double norm = -1;
    CHECK_OK(lora4j_trainer_grad_norm(tr, &norm));
    CHECK(norm == 0); /* no failed call accumulated anything */
    CHECK_OK(lora4j_trainer_step(tr, b.tokens, b.pos, b.seg, b.weights, NULL, NULL));

    /* optimizer parameters */
    lora4j_optim_params op = lora4j_optim_default_params();
    op.lr = NAN;
    CHECK_FAIL(lora4j_trainer_optimizer_step(tr, &op, NULL), LORA4J_ERR_INVALID_ARGUMENT, "invalid lr");
    op = lora4j_optim_default_params();
    op.beta2 = 1.0f;
    CHECK_FAIL(lora4j_trainer_optimizer_step(tr, &op, NULL), LORA4J_ERR_INVALID_ARGUMENT, "invalid beta2");
    op = lora4j_optim_default_params();
    op.kind = 9;
    CHECK_FAIL(lora4j_trainer_optimizer_step(tr, &op, NULL), LORA4J_ERR_INVALID_ARGUMENT, "invalid kind");
    op = lora4j_optim_default_params();
    op.grad_scale = 0;
    CHECK_FAIL(lora4j_trainer_optimizer_step(tr, &op, NULL), LORA4J_ERR_INVALID_ARGUMENT, "invalid grad_scale");
    CHECK(lora4j_trainer_steps(tr) == 0);
    CHECK_FAIL(lora4j_trainer_save_model(tr, tmp_path("x.gguf")), LORA4J_ERR_STATE, "save the adapter");

    /* trainer setup */
    lora4j_trainer *bad = NULL;
    lora4j_train_params fp = train_params(1);
    CHECK_FAIL(lora4j_trainer_new(m, ad, NULL, NULL, 0, &fp, &bad), LORA4J_ERR_INVALID_ARGUMENT, "pass no trainable");
    CHECK_FAIL(lora4j_trainer_new(m, NULL, NULL, NULL, 0, &tp, &bad), LORA4J_ERR_INVALID_ARGUMENT, "no trainable adapter");
    const lora4j_adapter *self[1] = {ad};
    float one = 1;
    CHECK_FAIL(lora4j_trainer_new(m, ad, self, &one, 1, &tp, &bad), LORA4J_ERR_INVALID_ARGUMENT, "is the trainable one");
    lora4j_train_params zp = tp;
    zp.n_rows = 0;
    CHECK_FAIL(lora4j_trainer_new(m, ad, NULL, NULL, 0, &zp, &bad), LORA4J_ERR_INVALID_ARGUMENT, "n_rows 0");
    fp.freeze_layers = 3;
    CHECK_FAIL(lora4j_trainer_new(m, NULL, NULL, NULL, 0, &fp, &bad), LORA4J_ERR_INVALID_ARGUMENT, "freeze_layers 3");
    fx_model q8 = lf_tiny();
    q8.wtype = LORA4J_TYPE_Q8_0;
    q8.n_ff = 64; /* rows of whole q8_0 blocks */
    lora4j_model *mq = lf_load(&q8, "q8.gguf");
    fp.freeze_layers = 0;
    if (mq) {
        CHECK_FAIL(lora4j_trainer_new(mq, NULL, NULL, NULL, 0, &fp, &bad), LORA4J_ERR_UNSUPPORTED,
                   "'token_embd.weight' is q8_0");
        /* LoRA on the quantized base is fine */
        lora4j_adapter *aq = lf_adapter(mq, 4, 8, LORA4J_TARGET_ALL);
        CHECK_OK(lora4j_trainer_new(mq, aq, NULL, NULL, 0, &tp, &bad));
        if (bad) CHECK_OK(lora4j_trainer_step(bad, b.tokens, b.pos, b.seg, b.weights, NULL, NULL));
        lora4j_trainer_free(bad);
        lora4j_adapter_free(aq);
        lora4j_model_free(mq);
    }
    lf_batch_free(&b);
    lora4j_trainer_free(tr);
    lora4j_adapter_free(ad);
}

static void test_plan(lora4j_model *m) {
    lora4j_adapter *ad = lf_adapter(m, 4, 8, LORA4J_TARGET_ALL);
    lora4j_train_params tp = train_params(0);
    lora4j_memory_plan p0, p1, pf;
    CHECK_OK(lora4j_trainer_plan(m, ad, &tp, &p0));
    tp.checkpointing = 1;
    CHECK_OK(lora4j_trainer_plan(m, ad, &tp, &p1));
    lora4j_train_params fp = train_params(1);
    CHECK_OK(lora4j_trainer_plan(m, NULL, &fp, &pf));
    lora4j_adapter_info info;
    lora4j_adapter_get_info(ad, &info);
    /* the tiny model's f32 tensors, as the file holds them */
    int64_t file = 0;
    const lora4j_gguf *g = lora4j_model_gguf(m);
    for (int64_t i = 0; i < lora4j_gguf_n_tensors(g); i++) {
        lora4j_tensor_info ti;
        lora4j_gguf_tensor_info(g, i, &ti);
        file += (int64_t)ti.n_bytes;
    }
    printf("  plan (LoRA r4, 2x16): weights %lld, trainable %lld, optimizer %lld, activations %lld (%lld with "
           "checkpointing)\n", (long long)p0.weights, (long long)p0.trainable, (long long)p0.optimizer,
           (long long)p0.activations, (long long)p1.activations);
    CHECK(p0.weights == file && p0.trainable == 8 * info.n_params && p0.optimizer == 8 * info.n_params);
    CHECK(p1.activations < p0.activations && p1.activations > 0);
    CHECK(p0.total == p0.weights + p0.trainable + p0.optimizer + p0.activations);
    CHECK(pf.trainable == 8 * (file / 4) && pf.optimizer == pf.trainable);
    lora4j_trainer *tr = NULL;
    CHECK_OK(lora4j_trainer_new(m, ad, NULL, NULL, 0, &tp, &tr));
    if (tr) CHECK(tr->arena_bytes == p1.activations);
    lora4j_trainer_free(tr);
    lora4j_adapter_free(ad);
}

static void test_save_model(lora4j_model *m) {
    lora4j_train_params fp = train_params(1);
    fp.freeze_layers = 1;
    lora4j_trainer *tr = NULL;
    CHECK_OK(lora4j_trainer_new(m, NULL, NULL, NULL, 0, &fp, &tr));
    if (!tr) return;
    lf_batch b = lf_batch_make(N_ROWS, N_SEQ, k_segments, 64, 12);
    lora4j_optim_params op = lora4j_optim_default_params();
    op.lr = 1e-2f;
    double first = 0, last = train(tr, &b, &op, 5, &first);
    CHECK(last < first);
    const char *path = tmp_path("trained.gguf");
    CHECK_OK(lora4j_trainer_save_model(tr, path));
    lora4j_model *t = NULL;
    CHECK_OK(lora4j_model_load(path, lora4j_model_default_params(), &t));
    if (t) {
        /* the saved model scores like the trainer: its full-FT forward over the new weights */
        lora4j_train_params lp2 = train_params(1);
        lora4j_trainer *check = NULL;
        CHECK_OK(lora4j_trainer_new(t, NULL, NULL, NULL, 0, &lp2, &check));
        float a[N], c[N];
        CHECK_OK(lora4j_trainer_logprobs(tr, b.tokens, b.pos, b.seg, 0, a));
        if (check) CHECK_OK(lora4j_trainer_logprobs(check, b.tokens, b.pos, b.seg, 0, c));
        CHECK(memcmp(a, c, sizeof a) == 0);
        /* the frozen layer and the metadata are the base's */
        const lora4j_gguf *g0 = lora4j_model_gguf(m), *g1 = lora4j_model_gguf(t);
        CHECK(lora4j_gguf_n_kv(g0) == lora4j_gguf_n_kv(g1) && lora4j_gguf_n_tensors(g0) == lora4j_gguf_n_tensors(g1));
        lora4j_tensor_info x, y;
        lora4j_gguf_tensor_info(g0, lora4j_gguf_find_tensor(g0, "blk.0.attn_q.weight"), &x);
        lora4j_gguf_tensor_info(g1, lora4j_gguf_find_tensor(g1, "blk.0.attn_q.weight"), &y);
        CHECK(x.n_bytes == y.n_bytes && memcmp(x.data, y.data, x.n_bytes) == 0);
        lora4j_gguf_tensor_info(g0, lora4j_gguf_find_tensor(g0, "blk.1.attn_q.weight"), &x);
        lora4j_gguf_tensor_info(g1, lora4j_gguf_find_tensor(g1, "blk.1.attn_q.weight"), &y);
        CHECK(x.n_bytes == y.n_bytes && memcmp(x.data, y.data, x.n_bytes) != 0);
        lora4j_trainer_free(check);
    }
    lora4j_model_free(t);
    lf_batch_free(&b);
    lora4j_trainer_free(tr);
}

int main(void) {
    tmpdir_make();
    fx_model tiny = lf_tiny();
    lora4j_model *m = lf_load(&tiny, "tiny.gguf");
    if (m) {
        test_memorise(m);
        test_resume(m);
        test_numeric(m);
        test_bad_inputs(m);
        test_plan(m);
        test_save_model(m);
    }
    test_optimizer_rules();
    lora4j_model_free(m);
    tmpdir_remove();
    return test_summary("test_trainer_train");
}
