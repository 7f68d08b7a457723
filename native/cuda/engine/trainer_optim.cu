/* The GPU trainer's gradients and optimizer: zeroing, the squared norm (the engine clips), the
 * AdamW/SGD update of the f32 masters with the host adapter synced after it, and the moments in
 * the CPU trainer's flat layout (pair by pair, a then b) for saved optimizer states. */
#include "engine/trainer.h"

static int64_t n_values(const lcu_trainer *t) { return t->ad->n_values; }

int32_t lcu_trainer_zero_grad(void *tr) {
    lcu_trainer *t = (lcu_trainer *)tr;
    int32_t st = lcu_check(cudaSetDevice(t->device), "trainer_zero_grad");
    if (st != LORA4J_OK) return st;
    return lcu_check(cudaMemset(t->grad, 0, (size_t)n_values(t) * sizeof(float)), "trainer_zero_grad");
}

int32_t lcu_trainer_grad_sumsq(void *tr, double *out) {
    lcu_trainer *t = (lcu_trainer *)tr;
    *out = 0.0;
    int32_t st = lcu_check(cudaSetDevice(t->device), "trainer_grad_sumsq");
    if (st == LORA4J_OK) st = lcu_check(cudaMemsetAsync(t->sumsq, 0, sizeof(double), t->s), "trainer_grad_sumsq");
    if (st != LORA4J_OK) return st;
    lcu_sum_squares(t->s, t->grad, n_values(t), t->sumsq);
    st = lcu_check_launch("trainer_grad_sumsq");
    if (st == LORA4J_OK) {
        st = lcu_check(cudaMemcpyAsync(out, t->sumsq, sizeof(double), cudaMemcpyDeviceToHost, t->s), "trainer_grad_sumsq");
    }
    if (st == LORA4J_OK) st = lcu_check(cudaStreamSynchronize(t->s), "trainer_grad_sumsq");
    return st;
}

int32_t lcu_trainer_update(void *tr, const lora4j_optim_params *o, float f, int64_t step) {
    lcu_trainer *t = (lcu_trainer *)tr;
    int32_t st = lcu_check(cudaSetDevice(t->device), "trainer_update");
    if (st != LORA4J_OK) return st;
    const int64_t n = n_values(t);
    if (o->kind == LORA4J_OPTIM_ADAMW) {
        lcu_adamw(t->s, t->ad->values, t->grad, t->mom1, t->mom2, n, o->lr, o->beta1, o->beta2, o->eps, o->weight_decay,
                  step, f);
    } else {
        lcu_sgd(t->s, t->ad->values, t->grad, t->mom1, n, o->lr, o->momentum, o->weight_decay, f);
    }
    st = lcu_check_launch("trainer_update");
    if (st == LORA4J_OK) {
        st = lcu_check(cudaMemsetAsync(t->grad, 0, (size_t)n * sizeof(float), t->s), "trainer_update: zeroing gradients");
    }
    if (st == LORA4J_OK) st = lcu_check(cudaStreamSynchronize(t->s), "trainer_update");
    if (st == LORA4J_OK) st = lcu_dadapter_download(t->ad, &t->host);
    return st;
}

int32_t lcu_trainer_moments(void *tr, float *m, float *v, int64_t n, int32_t upload) {
    lcu_trainer *t = (lcu_trainer *)tr;
    if (n != n_values(t)) {
        return lcu_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_moments: %lld values, the trainer has %lld", (long long)n,
                        (long long)n_values(t));
    }
    int32_t st = lcu_check(cudaSetDevice(t->device), "trainer_moments");
    const size_t bytes = (size_t)n * sizeof(float);
    const cudaMemcpyKind k = upload ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost;
    if (st == LORA4J_OK) st = lcu_check(cudaMemcpy(upload ? (void *)t->mom1 : m, upload ? (void *)m : t->mom1, bytes, k),
                                        "trainer_moments: first moment");
    if (st == LORA4J_OK) st = lcu_check(cudaMemcpy(upload ? (void *)t->mom2 : v, upload ? (void *)v : t->mom2, bytes, k),
                                        "trainer_moments: second moment");
    return st;
}
