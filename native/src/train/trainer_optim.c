/* The optimizer step over the flat gradient buffer: scale, global-norm clip, AdamW or SGD per
 * trained tensor (weight decay only where it applies), then zero the gradients. */
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "train/trainer.h"

LORA4J_API lora4j_status_t lora4j_trainer_zero_grad(lora4j_trainer *tr) {
    l4_clear_error();
    if (!tr) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_zero_grad: trainer is NULL");
    if (tr->dev) return l4_trd_zero_grad(tr);
    memset(tr->grad, 0, (size_t)tr->n_train * sizeof(float));
    return LORA4J_OK;
}

/* Sum of the squared gradients, wherever they live. */
static int32_t grad_sumsq(lora4j_trainer *tr, double *out) {
    if (tr->dev) return l4_trd_grad_sumsq(tr, out);
    *out = l4_sum_squares(tr->grad, tr->n_train);
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_trainer_grad_norm(lora4j_trainer *tr, double *out) {
    l4_clear_error();
    if (!tr || !out) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_grad_norm: NULL argument");
    double ss = 0.0;
    int32_t st = grad_sumsq(tr, &ss);
    if (st == LORA4J_OK) *out = sqrt(ss);
    return st;
}

static int32_t check_optim(const lora4j_optim_params *o) {
    const char *bad = NULL;
    if (o->kind != LORA4J_OPTIM_ADAMW && o->kind != LORA4J_OPTIM_SGD) bad = "kind";
    else if (!(o->lr >= 0.0f) || !isfinite(o->lr)) bad = "lr (finite, >= 0)";
    else if (!(o->weight_decay >= 0.0f) || !isfinite(o->weight_decay)) bad = "weight_decay (finite, >= 0)";
    else if (!isfinite(o->max_grad_norm)) bad = "max_grad_norm (finite)";
    else if (!(o->grad_scale > 0.0f) || !isfinite(o->grad_scale)) bad = "grad_scale (finite, > 0)";
    else if (o->kind == LORA4J_OPTIM_ADAMW && !(o->beta1 >= 0.0f && o->beta1 < 1.0f)) bad = "beta1 (in [0, 1))";
    else if (o->kind == LORA4J_OPTIM_ADAMW && !(o->beta2 >= 0.0f && o->beta2 < 1.0f)) bad = "beta2 (in [0, 1))";
    else if (o->kind == LORA4J_OPTIM_ADAMW && (!(o->eps > 0.0f) || !isfinite(o->eps))) bad = "eps (finite, > 0)";
    else if (o->kind == LORA4J_OPTIM_SGD && !(o->momentum >= 0.0f && o->momentum < 1.0f)) bad = "momentum (in [0, 1))";
    if (bad) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_optimizer_step: invalid %s", bad);
    return LORA4J_OK;
}

LORA4J_API lora4j_status_t lora4j_trainer_optimizer_step(lora4j_trainer *tr, const lora4j_optim_params *params,
                                                         double *out_grad_norm) {
    l4_clear_error();
    if (!tr || !params) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "trainer_optimizer_step: NULL argument");
    int32_t st = check_optim(params);
    if (st != LORA4J_OK) return st;
    if (tr->optim_kind >= 0 && tr->optim_kind != params->kind) {
        return l4_fail(LORA4J_ERR_STATE, "trainer_optimizer_step: the optimizer state is %s's; it cannot continue as %s",
                       tr->optim_kind == LORA4J_OPTIM_ADAMW ? "AdamW" : "SGD",
                       params->kind == LORA4J_OPTIM_ADAMW ? "AdamW" : "SGD");
    }
    double ss = 0.0;
    st = grad_sumsq(tr, &ss);
    if (st != LORA4J_OK) return st;
    const double norm = sqrt(ss) * params->grad_scale;
    if (!isfinite(norm)) {
        return l4_fail(LORA4J_ERR_NUMERIC, "trainer_optimizer_step: the gradient norm is %g (not finite); nothing "
                       "was changed", norm);
    }
    if (out_grad_norm) *out_grad_norm = norm;
    /* torch.nn.utils.clip_grad_norm_: multiply by max / (norm + 1e-6) when the norm exceeds max */
    double f = params->grad_scale;
    if (params->max_grad_norm > 0.0f && norm > params->max_grad_norm) f *= params->max_grad_norm / (norm + 1e-6);
    if (tr->dev) {
        /* the device scales, updates, zeroes the gradients and syncs the adapter's host values */
        st = l4_trd_update(tr, params, f, tr->steps + 1);
        if (st != LORA4J_OK) return st;
        if (tr->ad) tr->ad->generation++;
        tr->steps++;
        tr->optim_kind = params->kind;
        return LORA4J_OK;
    }
    if (f != 1.0) {
        const float ff = (float)f;
        for (int64_t i = 0; i < tr->n_train; i++) tr->grad[i] *= ff;
    }
    tr->steps++;
    tr->optim_kind = params->kind;
    for (int i = 0; i < tr->n_params; i++) {
        const tr_param *q = &tr->params[i];
        const float wd = q->decay ? params->weight_decay : 0.0f;
        if (params->kind == LORA4J_OPTIM_ADAMW) {
            l4_adamw_update(q->p, tr->grad + q->off, tr->m + q->off, tr->v + q->off, q->n, params->lr, params->beta1,
                            params->beta2, params->eps, wd, tr->steps);
        } else {
            l4_sgd_update(q->p, tr->grad + q->off, tr->m + q->off, q->n, params->lr, params->momentum, wd);
        }
    }
    memset(tr->grad, 0, (size_t)tr->n_train * sizeof(float));
    if (tr->ad) tr->ad->generation++;
    return LORA4J_OK;
}
