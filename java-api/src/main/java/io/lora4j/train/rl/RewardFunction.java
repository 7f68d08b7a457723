package io.lora4j.train.rl;

import io.lora4j.train.data.DataRecord;

/**
 * Scores one completion: higher is better. The prompt side is the whole dataset record, so a
 * reference answer or any other field is at hand. Throwing stops the run with the message.
 */
@FunctionalInterface
public interface RewardFunction {
    double score(DataRecord prompt, String completion);
}
