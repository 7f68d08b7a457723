package io.lora4j.bench;

import java.util.Arrays;

/** min / median / max of repeated measurements. */
public record Stats(double min, double median, double max) {
    public static Stats of(double[] samples) {
        double[] s = samples.clone();
        Arrays.sort(s);
        int n = s.length;
        double median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        return new Stats(s[0], median, s[n - 1]);
    }

    @Override
    public String toString() {
        return String.format("%8.1f %8.1f %8.1f", min, median, max);
    }
}
