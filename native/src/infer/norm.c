/* RMSNorm over rows, and the elementwise adds of residuals and biases. */
#include "infer/kernels.h"
#include "infer/ops.h"

void l4_rmsnorm(const float *x, const float *w, float *out, int64_t n, int64_t dim, float eps) {
    for (int64_t i = 0; i < n; i++) l4_rmsnorm_row(x + i * dim, w, out + i * dim, dim, eps);
}

void l4_add_bias(float *x, const float *b, int64_t n, int64_t dim) {
    for (int64_t i = 0; i < n; i++) l4_add(x + i * dim, b, dim);
}

void l4_add(float *x, const float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] += y[i];
}
