package io.lora4j.train.schedule;

import java.util.Locale;

/** The shape of the learning-rate curve after warmup. */
public enum SchedulerType {
    /** The peak rate throughout. */
    CONSTANT,
    /** Linear decay from the peak rate to 0 at the last step. */
    LINEAR,
    /** Half a cosine from the peak rate to 0 at the last step. */
    COSINE;

    /** Parses {@code constant}, {@code linear} or {@code cosine} (any case), as the CLI spells them. */
    public static SchedulerType parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown scheduler '" + name + "' (expected constant, linear or cosine)");
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
