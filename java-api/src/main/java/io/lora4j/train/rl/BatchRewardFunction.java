package io.lora4j.train.rl;

import java.util.List;

/**
 * Scores every completion of a step at once (e.g. one call to a test harness or a scoring
 * service); returns one finite value per completion, in order. Throwing stops the run.
 */
@FunctionalInterface
public interface BatchRewardFunction {
    double[] score(List<Completion> completions);
}
