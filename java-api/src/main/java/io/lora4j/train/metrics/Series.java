package io.lora4j.train.metrics;

import java.util.Objects;

/**
 * A named curve for {@link LossPlot}: points {@code (x[i], y[i])} in x order. Non-finite y values
 * break the line. The arrays are shared, not copied.
 */
public record Series(String name, double[] x, double[] y) {

    public Series {
        Objects.requireNonNull(name, "name");
        if (x.length != y.length) {
            throw new IllegalArgumentException("series '" + name + "' has " + x.length + " x values and " + y.length + " y values");
        }
    }

    public int size() {
        return x.length;
    }
}
