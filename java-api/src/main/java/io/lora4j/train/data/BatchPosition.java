package io.lora4j.train.data;

/**
 * Where a {@link BatchIterator} stands: the next batch is batch {@code step} (0-based) of epoch
 * {@code epoch} (0-based). Store it in a checkpoint and resume with {@link Batcher#iterator(int, BatchPosition)}.
 */
public record BatchPosition(int epoch, int step) {

    public static final BatchPosition START = new BatchPosition(0, 0);

    public BatchPosition {
        if (epoch < 0 || step < 0) {
            throw new IllegalArgumentException("batch position must not be negative: epoch " + epoch + ", step " + step);
        }
    }
}
