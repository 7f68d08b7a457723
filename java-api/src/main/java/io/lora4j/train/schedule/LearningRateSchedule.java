package io.lora4j.train.schedule;

/** The learning rate of each optimizer step. */
@FunctionalInterface
public interface LearningRateSchedule {

    /**
     * The learning rate for the update made after {@code step} completed updates ({@code step} is
     * 0-based: the first update uses {@code lr(0, total)}), in a run of {@code totalSteps} updates.
     */
    double lr(int step, int totalSteps);
}
