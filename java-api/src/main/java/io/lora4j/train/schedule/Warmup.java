package io.lora4j.train.schedule;

/**
 * How many steps the learning rate ramps up from 0: a fixed count, or a ratio of the run's
 * steps. As in Hugging Face's {@code TrainingArguments}, a positive step count wins over the
 * ratio, and a ratio gives {@code ceil(totalSteps × ratio)} steps.
 */
public record Warmup(int steps, double ratio) {

    public Warmup {
        if (steps < 0) throw new IllegalArgumentException("warmup steps must be >= 0, got " + steps);
        if (!(ratio >= 0 && ratio <= 1)) throw new IllegalArgumentException("warmup ratio must be in [0, 1], got " + ratio);
    }

    public static Warmup none() {
        return new Warmup(0, 0);
    }

    public static Warmup steps(int steps) {
        return new Warmup(steps, 0);
    }

    public static Warmup ratio(double ratio) {
        return new Warmup(0, ratio);
    }

    /** The number of warmup steps in a run of {@code totalSteps} steps. */
    public int stepsFor(int totalSteps) {
        return steps > 0 ? steps : (int) Math.ceil(totalSteps * ratio);
    }
}
