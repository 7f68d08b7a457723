package io.lora4j.train.rl;

import io.lora4j.train.data.DataRecord;

/** Scores a completion from its token ids (the end-of-generation token included when sampled). */
@FunctionalInterface
public interface TokenRewardFunction {
    double score(DataRecord prompt, int[] completionTokens);
}
