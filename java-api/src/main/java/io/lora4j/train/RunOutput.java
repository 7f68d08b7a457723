package io.lora4j.train;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lora4j.Lora4jException;
import io.lora4j.Model;
import io.lora4j.lora.Adapter;
import io.lora4j.train.data.BatchPosition;
import io.lora4j.train.metrics.CheckpointInfo;
import io.lora4j.train.metrics.EvalMetrics;
import io.lora4j.train.metrics.LossPlot;
import io.lora4j.train.metrics.MetricsCsvWriter;
import io.lora4j.train.metrics.MetricsTable;
import io.lora4j.train.metrics.ProgressBar;
import io.lora4j.train.metrics.StepMetrics;
import io.lora4j.train.metrics.TrainingListener;
import io.lora4j.train.metrics.TrainingSummary;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Everything a run reports: listeners (progress bar, the application's), {@code metrics.csv},
 * the plot, checkpoints, and the history kept for the result. Shared by every trainer (SFT here,
 * RL and DPO in {@code io.lora4j.train.rl}); not meant for applications.
 */
public final class RunOutput implements AutoCloseable {
    private final TrainingOptions options;
    private final Model model;
    private final int totalSteps;
    private final List<TrainingListener> listeners = new ArrayList<>();
    private final MetricsCsvWriter csv;
    private final List<StepMetrics> history = new ArrayList<>();
    private final long start = System.nanoTime();
    private final ObjectNode checkpointExtra = JsonNodeFactory.instance.objectNode();
    private EvalMetrics lastEval;

    RunOutput(TrainingOptions options, Model model, int totalSteps, List<String> columns, int resumedStep) {
        this(options, model, totalSteps, columns, resumedStep, List.of());
    }

    /** @param shown the metrics the progress bar shows (empty: loss, lr, tokens/s) */
    public RunOutput(TrainingOptions options, Model model, int totalSteps, List<String> columns, int resumedStep,
                     List<String> shown) {
        this.options = options;
        this.model = model;
        this.totalSteps = totalSteps;
        if (options.progress()) {
            listeners.add(shown.isEmpty() ? ProgressBar.create()
                    : ProgressBar.builder().show(shown.toArray(String[]::new)).build());
        }
        listeners.addAll(options.listeners());
        if (options.outputDir() != null) {
            try {
                Files.createDirectories(options.outputDir());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create " + options.outputDir() + ": " + e.getMessage(), e);
            }
            List<String> cols = new ArrayList<>();
            cols.add(MetricsCsvWriter.STEP);
            cols.addAll(columns);
            Path file = options.outputDir().resolve("metrics.csv");
            csv = resumedStep > 0 ? MetricsCsvWriter.resume(file, cols, resumedStep) : MetricsCsvWriter.create(file, cols);
        } else {
            csv = null;
        }
    }

    /** Fields stored in every checkpoint's trainer_state.json (the run's settings, for the record). */
    public ObjectNode checkpointExtra() {
        return checkpointExtra;
    }

    public void announce(String kind, MemoryPlan plan, int trainExamples, int evalExamples, int steps) {
        if (!options.progress()) return;
        System.out.printf("%s: %d training examples%s, %d optimizer steps%n", kind, trainExamples,
                evalExamples > 0 ? ", " + evalExamples + " held out" : "", steps);
        System.out.println("memory: " + plan);
    }

    public void step(StepMetrics m, boolean log) {
        history.add(m);
        if (!log) return;
        if (csv != null) csv.onStep(m);
        for (TrainingListener l : listeners) l.onStep(m);
    }

    void eval(EvalMetrics e) {
        lastEval = e;
        for (TrainingListener l : listeners) l.onEval(e);
    }

    /** Writes checkpoints/step-N (when the run has an output directory). */
    public Checkpoint checkpoint(int step, BatchPosition next, Adapter adapter, NativeTrainer trainer) {
        return checkpoint(step, next, adapter, trainer, dir -> {});
    }

    /** A checkpoint with further files, written into its directory by {@code extraFiles}. */
    public Checkpoint checkpoint(int step, BatchPosition next, Adapter adapter, NativeTrainer trainer,
                          Consumer<Path> extraFiles) {
        if (options.outputDir() == null) return null;
        Checkpoint c = Checkpoint.save(options.outputDir().resolve("checkpoints"), step, next.epoch(), next.step(),
                model, adapter, trainer, checkpointExtra, extraFiles);
        for (TrainingListener l : listeners) l.onCheckpoint(new CheckpointInfo(step, c.directory()));
        return c;
    }

    /** The error a run stops with when the engine reports a non-finite loss or gradient. */
    public RuntimeException numericFailure(Lora4jException e, int step, Checkpoint last) {
        if (!NativeTrainer.isNumericError(e)) return e;
        return stopped("training diverged at step " + step + " (" + e.getMessage() + ")",
                "Lower the learning rate or check the data.", e, last);
    }

    /** The error a run stops with: what happened, which checkpoint is the last good one, advice. */
    public TrainingException stopped(String what, String advice, Throwable cause, Checkpoint last) {
        String kept = last == null ? "no checkpoint was written yet" : "the last good checkpoint is " + last.directory();
        return new TrainingException(what + "; " + kept + "." + (advice.isEmpty() ? "" : " " + advice), cause);
    }

    public void end(int steps) {
        TrainingSummary s = new TrainingSummary(steps, totalSteps, Duration.ofNanos(System.nanoTime() - start),
                history.isEmpty() ? Optional.empty() : Optional.of(history.getLast()), Optional.ofNullable(lastEval));
        for (TrainingListener l : listeners) l.onEnd(s);
        if (csv != null) {
            csv.close();
            Path dir = options.outputDir();
            LossPlot.forMetrics(MetricsTable.read(dir.resolve("metrics.csv")), "lora4j " + dir.getFileName())
                    .write(dir.resolve("loss.png"));
        }
    }

    public List<StepMetrics> history() {
        return List.copyOf(history);
    }

    @Override
    public void close() {
        if (csv != null) csv.close();
    }
}
