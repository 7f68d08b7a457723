package io.lora4j.train.rl;

import java.util.List;
import java.util.Objects;

/**
 * A named, weighted reward. A run sums {@code weight × score} over its rewards and logs each
 * one's mean score as the metric {@code reward_<name>}.
 */
public record Reward(String name, double weight, BatchRewardFunction function) {
    public Reward {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(function, "function");
        if (!name.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("reward name '" + name + "' must be letters, digits, _ . - (it names a metric)");
        }
        if (!Double.isFinite(weight)) throw new IllegalArgumentException("reward weight must be finite, got " + weight);
    }

    /** A reward computed one completion at a time from the record and the completion's text. */
    public static Reward of(String name, double weight, RewardFunction f) {
        Objects.requireNonNull(f, "reward function");
        return new Reward(name, weight, cs -> {
            double[] out = new double[cs.size()];
            for (int i = 0; i < out.length; i++) {
                Completion c = cs.get(i);
                out[i] = scoreOne(c, () -> f.score(c.prompt(), c.text()));
            }
            return out;
        });
    }

    /** A reward computed one completion at a time from the record and the completion's token ids. */
    public static Reward ofTokens(String name, double weight, TokenRewardFunction f) {
        Objects.requireNonNull(f, "reward function");
        return new Reward(name, weight, cs -> {
            double[] out = new double[cs.size()];
            for (int i = 0; i < out.length; i++) {
                Completion c = cs.get(i);
                out[i] = scoreOne(c, () -> f.score(c.prompt(), c.tokens().clone()));
            }
            return out;
        });
    }

    /** A reward computed over all completions of a step at once. */
    public static Reward ofBatch(String name, double weight, BatchRewardFunction f) {
        return new Reward(name, weight, f);
    }

    /** Runs one score, naming the record in any error. */
    private static double scoreOne(Completion c, java.util.function.DoubleSupplier score) {
        try {
            return score.getAsDouble();
        } catch (RuntimeException e) {
            throw new RewardFailure(c.prompt().location() + ": " + message(e), e);
        }
    }

    static String message(Throwable e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /** Scores {@code completions}, checking there is one finite value per completion. */
    double[] score(List<Completion> completions) {
        double[] v;
        try {
            v = function.score(List.copyOf(completions));
        } catch (RewardFailure e) {
            throw e;
        } catch (RuntimeException e) {
            throw new RewardFailure(message(e), e);
        }
        if (v == null || v.length != completions.size()) {
            throw new RewardFailure("returned " + (v == null ? "null" : v.length + " values") + " for "
                    + completions.size() + " completions", null);
        }
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) {
                throw new RewardFailure(completions.get(i).prompt().location() + ": score " + v[i] + " is not finite", null);
            }
        }
        return v;
    }

    /** A reward function failed; the trainer stops the run with this message. */
    static final class RewardFailure extends RuntimeException {
        RewardFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
