/* Optimizer updates with PyTorch's semantics (torch.optim.AdamW / SGD, single-tensor path):
 * f32 arithmetic on the parameters and moments, bias corrections in double. */
#include <math.h>

#include "train/grad_ops.h"

void l4_adamw_update(float *p, const float *g, float *m, float *v, int64_t n, float lr, float beta1,
                     float beta2, float eps, float weight_decay, int64_t step) {
    const double bc1 = 1.0 - pow(beta1, (double)step), bc2 = 1.0 - pow(beta2, (double)step);
    const float step_size = (float)(lr / bc1), bc2_sqrt = (float)sqrt(bc2);
    const float decay = 1.0f - lr * weight_decay;
    for (int64_t i = 0; i < n; i++) {
        m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
        v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
        const float denom = sqrtf(v[i]) / bc2_sqrt + eps;
        p[i] = p[i] * decay - step_size * m[i] / denom;
    }
}

void l4_sgd_update(float *p, const float *g, float *buf, int64_t n, float lr, float momentum,
                   float weight_decay) {
    for (int64_t i = 0; i < n; i++) {
        const float d = g[i] + weight_decay * p[i];
        buf[i] = momentum * buf[i] + d;
        p[i] -= lr * buf[i];
    }
}

double l4_sum_squares(const float *x, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return s;
}
