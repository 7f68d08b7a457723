package io.lora4j.train.metrics;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;

/**
 * What one optimizer step measured, by metric name (the CSV column names: {@code loss}, {@code lr},
 * {@code tokens_per_s}, {@code eval_loss}; for RL {@code reward_mean}, {@code kl}, …), in the order
 * the trainer put them.
 *
 * @param step the 1-based number of the step just taken
 * @param totalSteps the run's planned number of steps
 */
public record StepMetrics(int step, int totalSteps, Map<String, Double> values) {

    public static final String LOSS = "loss";
    public static final String LR = "lr";
    public static final String TOKENS_PER_S = "tokens_per_s";
    public static final String EVAL_LOSS = "eval_loss";
    public static final String ACCURACY = "accuracy";
    public static final String EVAL_ACCURACY = "eval_accuracy";
    public static final String REWARD_MEAN = "reward_mean";
    public static final String REWARD_STD = "reward_std";
    public static final String KL = "kl";
    public static final String CLIP_FRAC = "clip_frac";
    public static final String COMPLETION_LEN = "completion_len";

    public StepMetrics {
        if (step < 1 || totalSteps < step) {
            throw new IllegalArgumentException("step " + step + " of " + totalSteps + " is not a valid step");
        }
        Map<String, Double> copy = new LinkedHashMap<>();
        values.forEach((k, v) -> copy.put(Objects.requireNonNull(k, "metric name"),
                Objects.requireNonNull(v, () -> "metric " + k + " is null")));
        values = Collections.unmodifiableMap(copy);
    }

    /** The value of {@code name}, if this step measured it. */
    public OptionalDouble get(String name) {
        Double v = values.get(name);
        return v == null ? OptionalDouble.empty() : OptionalDouble.of(v);
    }

    public static Builder builder(int step, int totalSteps) {
        return new Builder(step, totalSteps);
    }

    public static final class Builder {
        private final int step;
        private final int totalSteps;
        private final Map<String, Double> values = new LinkedHashMap<>();

        private Builder(int step, int totalSteps) {
            this.step = step;
            this.totalSteps = totalSteps;
        }

        public Builder put(String name, double value) {
            values.put(name, value);
            return this;
        }

        public StepMetrics build() {
            return new StepMetrics(step, totalSteps, values);
        }
    }
}
