package io.lora4j.train;

import io.lora4j.lora.Adapter;
import io.lora4j.train.metrics.StepMetrics;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The result of a training run; it owns the trained adapter unless the caller passed it in. */
public final class TrainingRun implements AutoCloseable {
    private final Adapter adapter;
    private final boolean ownsAdapter;
    private final List<StepMetrics> history;
    private final int steps;
    private final Path outputDir;
    private final Checkpoint lastCheckpoint;

    public TrainingRun(Adapter adapter, boolean ownsAdapter, List<StepMetrics> history, int steps, Path outputDir,
                Checkpoint lastCheckpoint) {
        this.adapter = adapter;
        this.ownsAdapter = ownsAdapter;
        this.history = history;
        this.steps = steps;
        this.outputDir = outputDir;
        this.lastCheckpoint = lastCheckpoint;
    }

    /** The trained adapter (absent for full fine-tuning, whose result is {@code model.gguf}). */
    public Adapter adapter() {
        if (adapter == null) throw new IllegalStateException("full fine-tuning trains no adapter; see outputDir()/model.gguf");
        return adapter;
    }

    /** Metrics of every optimizer step this process ran. */
    public List<StepMetrics> history() {
        return history;
    }

    public int steps() {
        return steps;
    }

    /** The last step's value of a metric (e.g. "loss"). */
    public double last(String metric) {
        for (int i = history.size() - 1; i >= 0; i--) {
            var v = history.get(i).get(metric);
            if (v.isPresent()) return v.getAsDouble();
        }
        return Double.NaN;
    }

    public Optional<Path> outputDir() {
        return Optional.ofNullable(outputDir);
    }

    public Optional<Checkpoint> lastCheckpoint() {
        return Optional.ofNullable(lastCheckpoint);
    }

    @Override
    public void close() {
        if (ownsAdapter) adapter.close();
    }
}
