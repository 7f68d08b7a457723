package io.lora4j.train.schedule;

import java.util.Objects;

/**
 * Hugging Face's schedules ({@code get_constant_schedule_with_warmup},
 * {@code get_linear_schedule_with_warmup}, {@code get_cosine_schedule_with_warmup} with half a
 * cycle): during the {@code w} warmup steps the rate is {@code peak × step / max(1, w)} (so the
 * first update of a warmed-up run uses 0, as in transformers); afterwards constant stays at the
 * peak, linear falls as {@code (total − step) / max(1, total − w)} and cosine as
 * {@code ½(1 + cos(π · (step − w) / max(1, total − w)))}, both reaching 0 at {@code step = total}.
 */
public record LrSchedule(SchedulerType type, double peakLr, Warmup warmup) implements LearningRateSchedule {

    public LrSchedule {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(warmup, "warmup");
        if (!(peakLr > 0) || !Double.isFinite(peakLr)) {
            throw new IllegalArgumentException("learning rate must be positive and finite, got " + peakLr);
        }
    }

    public static LrSchedule constant(double lr) {
        return new LrSchedule(SchedulerType.CONSTANT, lr, Warmup.none());
    }

    public static LrSchedule linear(double lr) {
        return new LrSchedule(SchedulerType.LINEAR, lr, Warmup.none());
    }

    public static LrSchedule cosine(double lr) {
        return new LrSchedule(SchedulerType.COSINE, lr, Warmup.none());
    }

    public LrSchedule withWarmup(Warmup warmup) {
        return new LrSchedule(type, peakLr, warmup);
    }

    @Override
    public double lr(int step, int totalSteps) {
        return peakLr * multiplier(step, totalSteps);
    }

    /** The factor applied to the peak rate at {@code step}. */
    public double multiplier(int step, int totalSteps) {
        if (totalSteps < 1) throw new IllegalArgumentException("total steps must be >= 1, got " + totalSteps);
        if (step < 0 || step > totalSteps) {
            throw new IllegalArgumentException("step " + step + " is outside the run's 0.." + totalSteps);
        }
        int w = warmup.stepsFor(totalSteps);
        if (step < w) {
            return (double) step / Math.max(1, w);
        }
        double remaining = Math.max(1, totalSteps - w);
        return switch (type) {
            case CONSTANT -> 1.0;
            case LINEAR -> Math.max(0.0, (totalSteps - step) / remaining);
            case COSINE -> Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * (step - w) / remaining)));
        };
    }

    @Override
    public String toString() {
        return type + " " + peakLr + (warmup.steps() > 0 ? ", warmup " + warmup.steps() + " steps"
                : warmup.ratio() > 0 ? ", warmup ratio " + warmup.ratio() : "");
    }
}
