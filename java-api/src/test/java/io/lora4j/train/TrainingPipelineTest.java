package io.lora4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lora4j.train.data.Batch;
import io.lora4j.train.data.BatchIterator;
import io.lora4j.train.data.BatchPosition;
import io.lora4j.train.data.Batcher;
import io.lora4j.train.data.CharEncoder;
import io.lora4j.train.data.Dataset;
import io.lora4j.train.data.DatasetSplit;
import io.lora4j.train.data.Example;
import io.lora4j.train.data.ExampleEncoder;
import io.lora4j.train.metrics.CheckpointInfo;
import io.lora4j.train.metrics.LossPlot;
import io.lora4j.train.metrics.MetricsCsvWriter;
import io.lora4j.train.metrics.MetricsTable;
import io.lora4j.train.metrics.ProgressBar;
import io.lora4j.train.metrics.StepMetrics;
import io.lora4j.train.metrics.TrainingListener;
import io.lora4j.train.schedule.GradientAccumulation;
import io.lora4j.train.schedule.LrSchedule;
import io.lora4j.train.schedule.Warmup;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data, schedule and metrics pieces together, driven the way a trainer drives them, with a
 * stand-in loss computed from the batches: an interrupted and resumed run must log exactly what an
 * uninterrupted one logs.
 */
class TrainingPipelineTest {

    private static final int EPOCHS = 6;
    private static final List<String> COLUMNS = List.of("step", "loss", "lr", "targets", "eval_loss");

    @TempDir
    Path dir;

    private Batcher train;
    private Batcher eval;
    private final GradientAccumulation accumulation = new GradientAccumulation(2);
    private final LrSchedule schedule = LrSchedule.cosine(2e-4).withWarmup(Warmup.ratio(0.1));
    private int totalSteps;

    @BeforeEach
    void setUp() throws Exception {
        Path file = Path.of(getClass().getResource("/train/arithmetic-chat.jsonl").toURI());
        DatasetSplit split = Dataset.jsonl(file).split(0.25, 7);
        assertEquals(12, split.train().size());
        assertEquals(4, split.eval().size());
        ExampleEncoder encoder = ExampleEncoder.builder(new CharEncoder())
                .chatRenderer(CharEncoder.chatRenderer(false)).maxLength(160).build();
        train = Batcher.builder(encoder.encodeAll(split.train())).batchSize(1).seqLen(160).packing(true).seed(42).build();
        eval = Batcher.builder(encoder.encodeAll(split.eval())).batchSize(2).seqLen(160).shuffle(false).build();
        totalSteps = accumulation.totalSteps(train, EPOCHS);
    }

    /** A deterministic stand-in for the model's loss: depends on every target token and its position. */
    private static double fakeLoss(List<Batch> batches) {
        double sum = 0;
        long n = 0;
        for (Batch b : batches) {
            for (int r = 0; r < b.rows(); r++) {
                for (int i = 0; i < b.seqLen(); i++) {
                    if (b.mask()[r][i]) {
                        sum += (b.tokens()[r][i] % 97) * (1 + b.positions()[r][i] % 7) + b.segmentIds()[r][i];
                        n++;
                    }
                }
            }
        }
        return sum / n / 100;
    }

    /**
     * Trains from {@code from} (after {@code stepsDone} steps) until {@code stopAfter} steps are done,
     * checkpointing every 3 steps; returns the last checkpoint's position and step.
     */
    private Object[] run(Path csv, BatchPosition from, int stepsDone, int stopAfter, TrainingListener extra) {
        MetricsCsvWriter writer = stepsDone == 0 ? MetricsCsvWriter.create(csv, COLUMNS)
                : MetricsCsvWriter.resume(csv, COLUMNS, stepsDone);
        TrainingListener listeners = TrainingListener.all(List.of(writer, extra));
        BatchIterator batches = train.iterator(EPOCHS, from);
        Object[] checkpoint = {from, stepsDone};
        int step = stepsDone;
        while (batches.hasNext() && step < stopAfter) {
            double lr = schedule.lr(step, totalSteps);
            List<Batch> group = accumulation.nextStep(batches);
            step++;
            StepMetrics.Builder m = StepMetrics.builder(step, totalSteps)
                    .put("loss", fakeLoss(group) * (1 + lr))
                    .put("lr", lr)
                    .put("targets", GradientAccumulation.targetTokens(group));
            if (step % 4 == 0) {
                List<Batch> all = new ArrayList<>();
                eval.iterator(1).forEachRemaining(all::add);
                m.put("eval_loss", fakeLoss(all));
            }
            listeners.onStep(m.build());
            if (step % 3 == 0) {
                checkpoint = new Object[] {batches.position(), step};
                listeners.onCheckpoint(new CheckpointInfo(step, dir.resolve("checkpoints/step-" + step)));
            }
        }
        writer.close();
        return checkpoint;
    }

    @Test
    void resumedRunLogsExactlyWhatAnUninterruptedRunLogs() throws Exception {
        Path whole = dir.resolve("whole/metrics.csv");
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        ProgressBar bar = ProgressBar.builder().out(new PrintStream(progress, true, StandardCharsets.UTF_8))
                .interactive(false).every(5).build();
        run(whole, BatchPosition.START, 0, Integer.MAX_VALUE, bar);

        Path interrupted = dir.resolve("interrupted/metrics.csv");
        // Dies after logging step 8; the last checkpoint is step 6.
        Object[] checkpoint = run(interrupted, BatchPosition.START, 0, 8, new TrainingListener() {});
        assertEquals(6, checkpoint[1]);
        BatchPosition position = (BatchPosition) checkpoint[0];
        assertEquals(6, accumulation.stepsBefore(train, position));
        run(interrupted, position, 6, Integer.MAX_VALUE, new TrainingListener() {});

        List<String> expected = Files.readAllLines(whole);
        assertTrue(totalSteps > 12, "enough steps to resume in the middle: " + totalSteps);
        assertEquals(totalSteps + 1, expected.size());
        assertEquals(expected, Files.readAllLines(interrupted));

        String log = progress.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("step " + totalSteps + "/" + totalSteps), log);
        assertTrue(log.contains("checkpoint at step 3"), log);

        Path png = Path.of("target", "train-plots", "pipeline.png");
        LossPlot.forMetrics(MetricsTable.read(whole), "stand-in loss, " + EPOCHS + " epochs").write(png);
        assertTrue(Files.size(png) > 5_000);
    }
}
