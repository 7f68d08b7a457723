package io.lora4j.train.data;

import java.util.Objects;

/**
 * A fixed-shape batch of {@code rows × seqLen} tokens.
 *
 * <p>A row holds one example, or several when packing. {@code positions} restart at 0 for each
 * example; {@code segmentIds} number the examples of a row 0, 1, … and attention must never cross
 * from one segment to another. Padding has segment {@link #PAD_SEGMENT}, position 0, mask false.
 * {@code mask[r][i]} marks token {@code i} of row {@code r} as a training target (predicted from the
 * tokens before it in its segment). A batch always has at least one target.
 * {@code exampleIds[r][s]} is the index of segment {@code s} of row {@code r} in the list of
 * examples the batch was cut from (e.g. to look up a label); a batch built by hand without them has
 * empty rows there.
 */
public record Batch(int[][] tokens, boolean[][] mask, int[][] positions, int[][] segmentIds, int[][] exampleIds) {

    /** The segment id of padding. */
    public static final int PAD_SEGMENT = -1;

    public Batch {
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(mask, "mask");
        Objects.requireNonNull(positions, "positions");
        Objects.requireNonNull(segmentIds, "segmentIds");
        Objects.requireNonNull(exampleIds, "exampleIds");
        int rows = tokens.length;
        if (rows == 0 || mask.length != rows || positions.length != rows || segmentIds.length != rows
                || exampleIds.length != rows) {
            throw new IllegalArgumentException("batch arrays must have the same, non-zero number of rows");
        }
        int seq = tokens[0].length;
        boolean any = false;
        for (int r = 0; r < rows; r++) {
            if (tokens[r].length != seq || mask[r].length != seq || positions[r].length != seq
                    || segmentIds[r].length != seq || seq == 0) {
                throw new IllegalArgumentException("batch row " + r + " is not " + seq + " long in every array");
            }
            for (boolean m : mask[r]) any |= m;
        }
        if (!any) {
            throw new IllegalArgumentException("batch selects no token for the loss; refusing to train on nothing");
        }
    }

    /** A batch without example ids. */
    public Batch(int[][] tokens, boolean[][] mask, int[][] positions, int[][] segmentIds) {
        this(tokens, mask, positions, segmentIds, new int[tokens.length][0]);
    }

    public int rows() {
        return tokens.length;
    }

    public int seqLen() {
        return tokens[0].length;
    }

    /** How many tokens the loss includes. */
    public long targetTokens() {
        long n = 0;
        for (boolean[] row : mask) for (boolean m : row) if (m) n++;
        return n;
    }

    /** How many tokens are not padding (the tokens the forward pass really processes). */
    public long realTokens() {
        long n = 0;
        for (int[] row : segmentIds) for (int s : row) if (s != PAD_SEGMENT) n++;
        return n;
    }
}
