/* Log-probabilities of raw logits: validation and the log-sum-exp normaliser. */
#ifndef LORA4J_SAMPLE_LOGPROBS_H
#define LORA4J_SAMPLE_LOGPROBS_H

#include <stdint.h>

/* LORA4J_ERR_NUMERIC naming the first NaN or +inf logit, or when all n are -inf. */
int32_t l4_check_logits(const float *logits, int32_t n);

/* log(sum_i exp(logits[i])) of checked logits, accumulated in double around the max. */
double l4_log_sum_exp(const float *logits, int32_t n);

#endif
