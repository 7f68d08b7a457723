package io.lora4j.train.data;

import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/** The batches of a {@link Batcher}, epoch after epoch, resumable from any {@link #position()}. */
public final class BatchIterator implements Iterator<Batch> {

    private final Batcher batcher;
    private final int epochs;
    private int epoch;
    private int step;
    private List<int[][]> plan;

    BatchIterator(Batcher batcher, int epochs, BatchPosition from) {
        this.batcher = batcher;
        this.epochs = epochs;
        this.epoch = from.epoch();
        this.step = from.step();
        if (epoch < epochs) {
            plan = batcher.plan(epoch);
            if (step > plan.size()) {
                throw new IllegalArgumentException("cannot resume at step " + step + " of epoch " + epoch
                        + ": the epoch has " + plan.size() + " batches");
            }
        } else if (epoch > epochs || step > 0) {
            throw new IllegalArgumentException("cannot resume at " + from + ": only " + epochs + " epochs");
        }
        settle();
    }

    /** Moves past finished epochs so that (epoch, step) names the next batch. */
    private void settle() {
        while (epoch < epochs && step == plan.size()) {
            epoch++;
            step = 0;
            plan = epoch < epochs ? batcher.plan(epoch) : null;
        }
    }

    @Override
    public boolean hasNext() {
        return epoch < epochs;
    }

    @Override
    public Batch next() {
        if (!hasNext()) throw new NoSuchElementException("all " + epochs + " epochs done");
        Batch b = batcher.materialize(plan.get(step));
        step++;
        settle();
        return b;
    }

    /** The position of the batch {@link #next()} returns (epoch = epoch count when done). */
    public BatchPosition position() {
        return new BatchPosition(epoch, step);
    }

    /** How many batches the current epoch has (0 when done). */
    public int batchesInEpoch() {
        return plan == null ? 0 : plan.size();
    }
}
