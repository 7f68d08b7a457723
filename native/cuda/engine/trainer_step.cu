/* One micro-batch on the GPU trainer: stage the engine's validated batch, forward, the head over
 * the selected rows, the objective checked on the host, then backward accumulating gradients. */
#include <math.h>

#include "engine/trainer.h"

static int32_t put(lcu_trainer *t, void *dst, const void *src, size_t bytes, const char *what) {
    if (bytes == 0) return LORA4J_OK;
    return lcu_check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, t->s), what);
}

static int32_t stage(lcu_trainer *t, const l4b_batch *b) {
    const size_t N = (size_t)t->N, m = (size_t)b->m;
    int32_t st = put(t, t->tokens, b->tokens, N * sizeof(int32_t), "trainer_step: staging tokens");
    if (st == LORA4J_OK) st = put(t, t->seg, b->seg, N * sizeof(int32_t), "trainer_step: staging segments");
    if (st == LORA4J_OK) {
        st = put(t, t->rope_cs, b->rope_cs, N * (size_t)t->n_rot * sizeof(float), "trainer_step: staging rope");
    }
    if (st == LORA4J_OK) st = put(t, t->rows, b->rows, m * sizeof(int32_t), "trainer_step: staging rows");
    if (st == LORA4J_OK) st = put(t, t->tgt, b->tgt, m * sizeof(int32_t), "trainer_step: staging targets");
    if (st == LORA4J_OK && b->wrow) st = put(t, t->wrow, b->wrow, m * sizeof(float), "trainer_step: staging weights");
    return st;
}

int32_t lcu_trainer_step(void *tr, const l4b_batch *b, int32_t use_trainable, uint64_t dropout_key, float *lp,
                         double *objective) {
    lcu_trainer *t = (lcu_trainer *)tr;
    if (b->m < 0 || b->m > t->N || (b->m > 0 && !lp)) {
        return lcu_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_step: %lld head rows of %lld tokens (or no lp buffer)",
                        (long long)b->m, (long long)t->N);
    }
    int32_t st = lcu_check(cudaSetDevice(t->device), "trainer_step: selecting the device");
    if (st == LORA4J_OK) st = stage(t, b);
    if (st != LORA4J_OK) return st;
    const lcu_pass ps = {use_trainable != 0, use_trainable && t->dropout > 0.0f ? dropout_key : 0};
    const int with_grad = b->wrow != NULL;
    lcu_tr_forward(t, &ps);
    if (b->m > 0) lcu_tr_head(t, b->m, with_grad);
    st = lcu_check_launch("trainer_step: forward");
    if (st == LORA4J_OK && b->m > 0) {
        st = lcu_check(cudaMemcpyAsync(lp, t->lp, (size_t)b->m * sizeof(float), cudaMemcpyDeviceToHost, t->s),
                       "trainer_step: log-probs");
    }
    if (st == LORA4J_OK) st = lcu_check(cudaStreamSynchronize(t->s), "trainer_step: forward");
    if (st != LORA4J_OK) return st;
    /* the objective; forward only, the plain sum, which is finite exactly when every lp is */
    double L = 0.0;
    for (int64_t i = 0; i < b->m; i++) L += (with_grad ? (double)b->wrow[i] : 1.0) * lp[i];
    if (!isfinite(L)) {
        return lcu_fail(LORA4J_ERR_NUMERIC, "trainer_step: the objective is %g (not finite); gradients are unchanged",
                        L);
    }
    if (objective) *objective = L;
    if (!with_grad || b->m == 0) return LORA4J_OK;
    lcu_tr_backward(t, &ps);
    st = lcu_check_launch("trainer_step: backward");
    if (st == LORA4J_OK) st = lcu_check(cudaStreamSynchronize(t->s), "trainer_step: backward");
    return st;
}
