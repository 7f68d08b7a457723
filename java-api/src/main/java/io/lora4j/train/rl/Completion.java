package io.lora4j.train.rl;

import io.lora4j.generate.FinishReason;
import io.lora4j.train.data.DataRecord;

/**
 * One sampled completion, as reward functions see it.
 *
 * @param prompt the dataset record it answers (every JSON field, e.g. a reference {@code "answer"})
 * @param promptTokens the prompt's token ids as the model saw them
 * @param tokens the completion's token ids, the end-of-generation token included when it ended so
 * @param text the completion's text (without a stop string, when one ended it)
 * @param finish why sampling stopped
 */
public record Completion(DataRecord prompt, int[] promptTokens, int[] tokens, String text, FinishReason finish) {}
