#include "sample/logprobs.h"

#include <math.h>

#include "core/error.h"

int32_t l4_check_logits(const float *logits, int32_t n) {
    /* Branch-free flags so the common (clean) case vectorizes; find the index only on failure.
     * !(x < inf) holds exactly for NaN and +inf. */
    int bad = 0, any_finite = 0;
    for (int32_t i = 0; i < n; i++) {
        bad |= !(logits[i] < INFINITY);
        any_finite |= logits[i] > -INFINITY;
    }
    if (bad) {
        for (int32_t i = 0; i < n; i++) {
            if (!(logits[i] < INFINITY)) {
                return l4_fail(LORA4J_ERR_NUMERIC, "logit %d is %s", (int)i,
                               isnan(logits[i]) ? "NaN" : "+inf");
            }
        }
    }
    if (!any_finite) return l4_fail(LORA4J_ERR_NUMERIC, "all %d logits are -inf", (int)n);
    return LORA4J_OK;
}

double l4_log_sum_exp(const float *logits, int32_t n) {
    float max = logits[0];
    for (int32_t i = 1; i < n; i++) max = logits[i] > max ? logits[i] : max;
    double sum = 0.0;
    for (int32_t i = 0; i < n; i++) sum += expf(logits[i] - max);
    return (double)max + log(sum);
}

LORA4J_API lora4j_status_t lora4j_log_softmax(const float *logits, int32_t n, float *out) {
    l4_clear_error();
    if (!logits || !out) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "log_softmax: NULL %s",
                                        !logits ? "logits" : "out");
    if (n <= 0) return l4_fail(LORA4J_ERR_INVALID_ARGUMENT, "log_softmax: n = %d, must be > 0", (int)n);
    int32_t st = l4_check_logits(logits, n);
    if (st != LORA4J_OK) return l4_fail_context(st, "log_softmax");
    double lse = l4_log_sum_exp(logits, n);
    for (int32_t i = 0; i < n; i++) out[i] = (float)((double)logits[i] - lse);
    return LORA4J_OK;
}
