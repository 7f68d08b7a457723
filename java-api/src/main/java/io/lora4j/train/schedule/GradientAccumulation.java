package io.lora4j.train.schedule;

import io.lora4j.train.data.Batch;
import io.lora4j.train.data.BatchIterator;
import io.lora4j.train.data.BatchPosition;
import io.lora4j.train.data.Batcher;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Groups micro-batches into optimizer steps. A step takes up to {@code microBatches} consecutive
 * batches of one epoch; an epoch's last step may take fewer (it is still a step), and no step spans
 * two epochs, so steps start at batch positions that are multiples of {@code microBatches} and a
 * run resumed from a step boundary regroups exactly as before. The gradient of a step should be the
 * mean over all targets of its batches ({@link #targetTokens}), not a mean of per-batch means,
 * so that accumulation does not change what is optimised (the fix transformers made in 2024).
 */
public record GradientAccumulation(int microBatches) {

    public GradientAccumulation {
        if (microBatches < 1) {
            throw new IllegalArgumentException("gradient accumulation must be >= 1 batch, got " + microBatches);
        }
    }

    /** Optimizer steps in an epoch of {@code batches} batches. */
    public int stepsInEpoch(int batches) {
        return (batches + microBatches - 1) / microBatches;
    }

    /** Optimizer steps in {@code epochs} epochs of {@code batcher}. */
    public int totalSteps(Batcher batcher, int epochs) {
        long steps = 0;
        for (int e = 0; e < epochs; e++) steps += stepsInEpoch(batcher.batchesInEpoch(e));
        return Math.toIntExact(steps);
    }

    /** Whether a step begins at {@code position}, i.e. whether a checkpoint there can be resumed. */
    public boolean isStepBoundary(BatchPosition position) {
        return position.step() % microBatches == 0;
    }

    /** The optimizer steps completed before the batch at {@code position} (a step boundary). */
    public int stepsBefore(Batcher batcher, BatchPosition position) {
        if (!isStepBoundary(position)) {
            throw new IllegalArgumentException(position + " is inside an optimizer step of " + microBatches + " batches");
        }
        long steps = position.step() / microBatches;
        for (int e = 0; e < position.epoch(); e++) steps += stepsInEpoch(batcher.batchesInEpoch(e));
        return Math.toIntExact(steps);
    }

    /** The batches of the next optimizer step. */
    public List<Batch> nextStep(BatchIterator batches) {
        if (!batches.hasNext()) throw new NoSuchElementException("no batches left");
        int epoch = batches.position().epoch();
        List<Batch> step = new ArrayList<>(microBatches);
        while (step.size() < microBatches && batches.hasNext() && batches.position().epoch() == epoch) {
            step.add(batches.next());
        }
        return step;
    }

    /** The loss targets of a step's batches together: the normaliser of the step's mean loss. */
    public static long targetTokens(List<Batch> step) {
        long n = 0;
        for (Batch b : step) n += b.targetTokens();
        return n;
    }
}
