#include "sample/logprobs.h"

#include <math.h>

#include "core/error.h"
#include "sample/candidates.h"

int32_t l4_check_logits(const float *logits, int32_t n) {
    int32_t n_masked = 0;
    for (int32_t i = 0; i < n; i++) {
        float x = logits[i];
        if (isnan(x) || x == INFINITY) {
            return l4_fail(LORA4J_ERR_NUMERIC, "logit %d is %s", (int)i, isnan(x) ? "NaN" : "+inf");
        }
        n_masked += x == -INFINITY;
    }
    if (n_masked == n) return l4_fail(LORA4J_ERR_NUMERIC, "all %d logits are -inf", (int)n);
    return LORA4J_OK;
}

double l4_log_sum_exp(const float *logits, int32_t n) {
    float max = logits[0];
    for (int32_t i = 1; i < n; i++) max = logits[i] > max ? logits[i] : max;
    double sum = 0.0;
    for (int32_t i = 0; i < n; i++) sum += expf(logits[i] - max);
    return (double)max + log(sum);
}

/* The heap lives in the caller's output arrays: ids[] and, until the end, raw logits in
 * logprobs[]. Its root is the worst of the best-so-far, so most tokens cost one comparison. */
static l4_cand heap_at(const int32_t *ids, const float *vals, int32_t i) {
    return (l4_cand){vals[i], ids[i]};
}

static void heap_set(int32_t *ids, float *vals, int32_t i, l4_cand c) {
    ids[i] = c.id;
    vals[i] = c.logit;
}

static void sift_down(int32_t *ids, float *vals, int32_t n, int32_t i) {
    l4_cand x = heap_at(ids, vals, i);
    for (;;) {
        int32_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n &&
            l4_cand_better(heap_at(ids, vals, child), heap_at(ids, vals, child + 1))) {
            child++;
        }
        if (!l4_cand_better(x, heap_at(ids, vals, child))) break;
        heap_set(ids, vals, i, heap_at(ids, vals, child));
        i = child;
    }
    heap_set(ids, vals, i, x);
}

void l4_top_logprobs(const float *logits, int32_t n, double lse, int32_t *ids, float *logprobs,
                     int32_t m) {
    if (m <= 0) return;
    for (int32_t i = 0; i < m; i++) heap_set(ids, logprobs, i, (l4_cand){logits[i], i});
    for (int32_t i = m / 2 - 1; i >= 0; i--) sift_down(ids, logprobs, m, i);
    for (int32_t i = m; i < n; i++) {
        l4_cand x = {logits[i], i};
        if (l4_cand_better(x, heap_at(ids, logprobs, 0))) {
            heap_set(ids, logprobs, 0, x);
            sift_down(ids, logprobs, m, 0);
        }
    }
    /* Heap sort: moving the worst to the back each time leaves the best first. */
    for (int32_t end = m - 1; end > 0; end--) {
        l4_cand worst = heap_at(ids, logprobs, 0);
        heap_set(ids, logprobs, 0, heap_at(ids, logprobs, end));
        heap_set(ids, logprobs, end, worst);
        sift_down(ids, logprobs, end, 0);
    }
    for (int32_t i = 0; i < m; i++) logprobs[i] = (float)((double)logprobs[i] - lse);
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
