package io.lora4j.train.data;

import java.util.Objects;

/**
 * One tokenized training sequence.
 *
 * <p>{@code lossMask[i]} says whether token {@code i} is a training target, i.e. whether the loss
 * includes predicting it from tokens {@code 0..i-1}. {@code lossMask[0]} is therefore always false.
 * The arrays are shared, not copied: do not modify them.
 *
 * @param source where the example came from ({@code file:line}), for error messages
 */
public record Example(int[] tokens, boolean[] lossMask, String source) {

    public Example {
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(lossMask, "lossMask");
        Objects.requireNonNull(source, "source");
        if (tokens.length == 0) {
            throw new IllegalArgumentException(source + ": example has no tokens");
        }
        if (tokens.length != lossMask.length) {
            throw new IllegalArgumentException(source + ": " + tokens.length + " tokens but "
                    + lossMask.length + " mask entries");
        }
        if (lossMask[0]) {
            throw new IllegalArgumentException(source + ": the first token cannot be a training target");
        }
    }

    /** An example without a known origin. */
    public Example(int[] tokens, boolean[] lossMask) {
        this(tokens, lossMask, "example");
    }

    public int length() {
        return tokens.length;
    }

    /** How many tokens the loss includes. */
    public int targetCount() {
        int n = 0;
        for (boolean m : lossMask) if (m) n++;
        return n;
    }
}
