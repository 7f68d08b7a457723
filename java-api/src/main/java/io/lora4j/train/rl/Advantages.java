package io.lora4j.train.rl;

/**
 * Advantages from rewards laid out group after group ({@code groupSize} completions per prompt).
 * The formulas are TRL's.
 */
public final class Advantages {
    /** Added to the group's standard deviation before dividing (TRL's value). */
    static final double STD_EPS = 1e-4;

    private Advantages() {}

    /**
     * GRPO: reward minus its group's mean, divided by the group's standard deviation (unbiased,
     * as torch.std) plus {@value #STD_EPS} when {@code scale}.
     */
    public static double[] group(double[] rewards, int groupSize, boolean scale) {
        double[] a = new double[check(rewards, groupSize)];
        for (int g = 0; g < rewards.length; g += groupSize) {
            double mean = mean(rewards, g, groupSize);
            double std = scale ? std(rewards, g, groupSize) : 0;
            for (int i = g; i < g + groupSize; i++) {
                a[i] = scale ? (rewards[i] - mean) / (std + STD_EPS) : rewards[i] - mean;
            }
        }
        return a;
    }

    /** RLOO: reward minus the mean of the other rewards of its group (needs groups of at least 2). */
    public static double[] leaveOneOut(double[] rewards, int groupSize) {
        if (groupSize < 2) throw new IllegalArgumentException("RLOO needs at least 2 completions per prompt, got " + groupSize);
        double[] a = new double[check(rewards, groupSize)];
        for (int g = 0; g < rewards.length; g += groupSize) {
            double sum = mean(rewards, g, groupSize) * groupSize;
            for (int i = g; i < g + groupSize; i++) a[i] = rewards[i] - (sum - rewards[i]) / (groupSize - 1);
        }
        return a;
    }

    /** The mean over groups of each group's standard deviation (TRL's {@code reward_std}). */
    public static double meanGroupStd(double[] rewards, int groupSize) {
        check(rewards, groupSize);
        double s = 0;
        for (int g = 0; g < rewards.length; g += groupSize) s += std(rewards, g, groupSize);
        return s / (rewards.length / groupSize);
    }

    static double mean(double[] v, int from, int n) {
        double s = 0;
        for (int i = from; i < from + n; i++) s += v[i];
        return s / n;
    }

    /** Unbiased standard deviation; 0 for a single value. */
    static double std(double[] v, int from, int n) {
        if (n < 2) return 0;
        double m = mean(v, from, n);
        double s = 0;
        for (int i = from; i < from + n; i++) s += (v[i] - m) * (v[i] - m);
        return Math.sqrt(s / (n - 1));
    }

    private static int check(double[] rewards, int groupSize) {
        if (groupSize < 1 || rewards.length % groupSize != 0) {
            throw new IllegalArgumentException(rewards.length + " rewards are not whole groups of " + groupSize);
        }
        return rewards.length;
    }
}
