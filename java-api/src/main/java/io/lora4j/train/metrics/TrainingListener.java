package io.lora4j.train.metrics;

import java.util.List;

/**
 * Hooks for applications that watch a training run. Calls come from the training thread, in
 * order; a listener that throws stops the run. All methods do nothing by default.
 */
public interface TrainingListener {

    /** After each optimizer step (or each logged step, when logging is thinned). */
    default void onStep(StepMetrics metrics) {}

    /** After each evaluation on held-out data. */
    default void onEval(EvalMetrics metrics) {}

    /** After a checkpoint has been written completely. */
    default void onCheckpoint(CheckpointInfo checkpoint) {}

    /** Once, when the run ends, normally or not. */
    default void onEnd(TrainingSummary summary) {}

    /** One listener that calls each of {@code listeners} in order. */
    static TrainingListener all(List<? extends TrainingListener> listeners) {
        List<TrainingListener> copy = List.copyOf(listeners);
        return new TrainingListener() {
            @Override
            public void onStep(StepMetrics metrics) {
                for (TrainingListener l : copy) l.onStep(metrics);
            }

            @Override
            public void onEval(EvalMetrics metrics) {
                for (TrainingListener l : copy) l.onEval(metrics);
            }

            @Override
            public void onCheckpoint(CheckpointInfo checkpoint) {
                for (TrainingListener l : copy) l.onCheckpoint(checkpoint);
            }

            @Override
            public void onEnd(TrainingSummary summary) {
                for (TrainingListener l : copy) l.onEnd(summary);
            }
        };
    }
}
