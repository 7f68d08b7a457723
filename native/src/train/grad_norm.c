/* RMSNorm backward. With r = 1/sqrt(mean(x^2) + eps) and out = x r w:
 * dx_j = r w_j dout_j - x_j r^3 / dim * sum_i dout_i w_i x_i, dw_j = sum_rows dout_j x_j r. */
#include <math.h>

#include "train/grad_ops.h"

void l4_rmsnorm_backward(const float *x, const float *w, const float *dout, float *dx, float *dw,
                         int64_t n, int64_t dim, float eps) {
    for (int64_t t = 0; t < n; t++) {
        const float *xt = x + t * dim, *dt = dout + t * dim;
        float *dxt = dx + t * dim;
        double ss = 0.0, dot = 0.0;
        for (int64_t j = 0; j < dim; j++) {
            ss += (double)xt[j] * xt[j];
            dot += (double)dt[j] * w[j] * xt[j];
        }
        const double r = 1.0 / sqrt(ss / (double)dim + eps);
        const float rf = (float)r, c = (float)(dot * r * r * r / (double)dim);
        for (int64_t j = 0; j < dim; j++) dxt[j] += rf * w[j] * dt[j] - c * xt[j];
        if (dw)
            for (int64_t j = 0; j < dim; j++) dw[j] += dt[j] * xt[j] * rf;
    }
}
