package io.lora4j.train.metrics;

import java.time.Duration;
import java.util.Optional;

/**
 * How a run ended.
 *
 * @param steps the optimizer steps completed (counting those before a resume)
 * @param totalSteps the steps the run planned
 * @param elapsed the wall time of this process's part of the run
 * @param lastStep the metrics of the final step, if any step ran
 * @param lastEval the final evaluation, if any
 */
public record TrainingSummary(int steps, int totalSteps, Duration elapsed, Optional<StepMetrics> lastStep,
        Optional<EvalMetrics> lastEval) {

    public boolean completed() {
        return steps >= totalSteps;
    }
}
