package io.lora4j.train.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Cuts examples into fixed-shape {@link Batch}es of {@code batchSize × seqLen}, epoch by epoch.
 *
 * <p>Each epoch visits every example once, in an order that depends only on (seed, epoch) when
 * shuffling, so any batch can be rebuilt from its {@link BatchPosition} and a resumed run sees
 * exactly the batches an uninterrupted one would. Without packing, a row holds one example,
 * padded. With packing, examples are placed in order into the first row of the current batch that
 * still has room (positions restart and segment ids change at each example); an example that fits
 * in no row starts the next batch. An example is never split. The last batch of an epoch may have
 * fewer examples; its empty rows are padding, unless {@code dropLast} drops it.
 */
public final class Batcher {

    private final List<Example> examples;
    private final int batchSize;
    private final int seqLen;
    private final boolean packing;
    private final boolean shuffle;
    private final long seed;
    private final int padId;
    private final boolean dropLast;

    private Batcher(Builder b) {
        this.examples = List.copyOf(b.examples);
        this.batchSize = b.batchSize;
        this.seqLen = b.seqLen;
        this.packing = b.packing;
        this.shuffle = b.shuffle;
        this.seed = b.seed;
        this.padId = b.padId;
        this.dropLast = b.dropLast;
        for (Example e : examples) {
            if (e.length() > seqLen) {
                throw new IllegalArgumentException(e.source() + ": " + e.length()
                        + " tokens do not fit a batch row of " + seqLen + " (encode with maxLength " + seqLen + ")");
            }
            if (e.targetCount() == 0) {
                throw new IllegalArgumentException(e.source() + ": example selects no token for the loss");
            }
        }
        plan(0); // fail now, not mid-training, when the data cannot fill a batch
    }

    public static Builder builder(List<Example> examples) {
        return new Builder(examples);
    }

    public int batchSize() {
        return batchSize;
    }

    public int seqLen() {
        return seqLen;
    }

    public int exampleCount() {
        return examples.size();
    }

    /** How many batches epoch {@code epoch} has (with packing it can vary a little between epochs). */
    public int batchesInEpoch(int epoch) {
        return plan(epoch).size();
    }

    /** The total number of batches in {@code epochs} epochs. */
    public long totalBatches(int epochs) {
        long n = 0;
        for (int e = 0; e < epochs; e++) n += batchesInEpoch(e);
        return n;
    }

    /** Batch {@code position.step()} of epoch {@code position.epoch()}. */
    public Batch batch(BatchPosition position) {
        List<int[][]> plan = plan(position.epoch());
        if (position.step() >= plan.size()) {
            throw new IllegalArgumentException("epoch " + position.epoch() + " has " + plan.size()
                    + " batches, no step " + position.step());
        }
        return materialize(plan.get(position.step()));
    }

    /** All batches of {@code epochs} epochs from the start. */
    public BatchIterator iterator(int epochs) {
        return iterator(epochs, BatchPosition.START);
    }

    /** The batches of {@code epochs} epochs, starting at {@code from} (e.g. a checkpoint's position). */
    public BatchIterator iterator(int epochs, BatchPosition from) {
        if (epochs < 1) throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        return new BatchIterator(this, epochs, Objects.requireNonNull(from, "from"));
    }

    /** The example indices of each row of each batch of one epoch. */
    List<int[][]> plan(int epoch) {
        int n = examples.size();
        int[] order = shuffle ? Shuffle.permutation(n, seed, epoch) : identity(n);
        List<int[][]> batches = packing ? pack(order) : oneExamplePerRow(order);
        if (dropLast && !batches.isEmpty() && batchIsShort(batches.getLast())) {
            batches.removeLast();
        }
        if (batches.isEmpty()) {
            throw new IllegalStateException(n + " examples make no full batch of " + batchSize
                    + " rows in epoch " + epoch + " (dropLast is set)");
        }
        return batches;
    }

    private boolean batchIsShort(int[][] batch) {
        return Arrays.stream(batch).anyMatch(row -> row.length == 0);
    }

    private List<int[][]> oneExamplePerRow(int[] order) {
        List<int[][]> batches = new ArrayList<>();
        for (int start = 0; start < order.length; start += batchSize) {
            int[][] rows = new int[batchSize][];
            for (int r = 0; r < batchSize; r++) {
                rows[r] = start + r < order.length ? new int[] {order[start + r]} : new int[0];
            }
            batches.add(rows);
        }
        return batches;
    }

    private List<int[][]> pack(int[] order) {
        List<int[][]> batches = new ArrayList<>();
        List<List<Integer>> rows = newRows();
        int[] used = new int[batchSize];
        for (int idx : order) {
            int len = examples.get(idx).length();
            int r = firstRowWithRoom(used, len);
            if (r < 0) {
                batches.add(toArrays(rows));
                rows = newRows();
                Arrays.fill(used, 0);
                r = 0;
            }
            rows.get(r).add(idx);
            used[r] += len;
        }
        if (!rows.getFirst().isEmpty()) batches.add(toArrays(rows));
        return batches;
    }

    private int firstRowWithRoom(int[] used, int len) {
        for (int r = 0; r < used.length; r++) if (used[r] + len <= seqLen) return r;
        return -1;
    }

    private List<List<Integer>> newRows() {
        List<List<Integer>> rows = new ArrayList<>(batchSize);
        for (int r = 0; r < batchSize; r++) rows.add(new ArrayList<>());
        return rows;
    }

    private static int[][] toArrays(List<List<Integer>> rows) {
        return rows.stream().map(row -> row.stream().mapToInt(Integer::intValue).toArray()).toArray(int[][]::new);
    }

    private static int[] identity(int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        return p;
    }

    /** Builds the arrays of one planned batch. */
    Batch materialize(int[][] rowExamples) {
        int[][] tokens = new int[batchSize][seqLen];
        boolean[][] mask = new boolean[batchSize][seqLen];
        int[][] positions = new int[batchSize][seqLen];
        int[][] segments = new int[batchSize][seqLen];
        int[][] exampleIds = new int[batchSize][];
        for (int r = 0; r < batchSize; r++) {
            exampleIds[r] = rowExamples[r].clone();
            Arrays.fill(tokens[r], padId);
            Arrays.fill(segments[r], Batch.PAD_SEGMENT);
            int at = 0;
            for (int s = 0; s < rowExamples[r].length; s++) {
                Example e = examples.get(rowExamples[r][s]);
                int len = e.length();
                System.arraycopy(e.tokens(), 0, tokens[r], at, len);
                System.arraycopy(e.lossMask(), 0, mask[r], at, len);
                for (int i = 0; i < len; i++) {
                    positions[r][at + i] = i;
                    segments[r][at + i] = s;
                }
                at += len;
            }
        }
        return new Batch(tokens, mask, positions, segments, exampleIds);
    }

    public static final class Builder {
        private final List<Example> examples;
        private int batchSize;
        private int seqLen;
        private boolean packing;
        private boolean shuffle = true;
        private long seed;
        private int padId;
        private boolean dropLast;

        private Builder(List<Example> examples) {
            this.examples = Objects.requireNonNull(examples, "examples");
        }

        /** Rows per batch (required). */
        public Builder batchSize(int rows) {
            this.batchSize = rows;
            return this;
        }

        /** Tokens per row (required): the training context. */
        public Builder seqLen(int tokens) {
            this.seqLen = tokens;
            return this;
        }

        /** Pack several examples per row (default false). */
        public Builder packing(boolean packing) {
            this.packing = packing;
            return this;
        }

        /** Shuffle each epoch (default true; false keeps dataset order, e.g. for evaluation). */
        public Builder shuffle(boolean shuffle) {
            this.shuffle = shuffle;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** The token id written into padding (default 0; padding is never attended to or trained). */
        public Builder padId(int id) {
            this.padId = id;
            return this;
        }

        /** Drop an epoch's last batch when it is not full (default false). */
        public Builder dropLast(boolean dropLast) {
            this.dropLast = dropLast;
            return this;
        }

        public Batcher build() {
            if (examples.isEmpty()) throw new IllegalArgumentException("no examples to batch");
            if (batchSize < 1) throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
            if (seqLen < 2) throw new IllegalArgumentException("seqLen must be >= 2, got " + seqLen);
            if (padId < 0) throw new IllegalArgumentException("padId must be >= 0, got " + padId);
            return new Batcher(this);
        }
    }
}
