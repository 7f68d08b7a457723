package io.lora4j.train.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressBarTest {

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    private final AtomicLong nanos = new AtomicLong();

    private String output() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static StepMetrics step(int step, int total) {
        return StepMetrics.builder(step, total).put("loss", 2.34567).put("lr", 2.5e-4).put("tokens_per_s", 1234.4).build();
    }

    @Test
    void lineShowsStepBarMetricsAndEta() {
        ProgressBar bar = ProgressBar.builder().out(out).interactive(false).every(1).clock(nanos::get).build();
        for (int s = 1; s <= 10; s++) { // 1 s per step, 90 to go
            nanos.addAndGet(1_000_000_000L);
            bar.onStep(step(s, 100));
        }
        String line = bar.line(step(10, 100), nanos.get());
        assertEquals("step  10/100 [==>                 ]  10% | loss 2.346 | lr 2.50e-04 | 1234 tok/s | ETA 1m30s", line);
    }

    @Test
    void plainOutputPrintsEveryNStepsAndTheLast() {
        ProgressBar bar = ProgressBar.builder().out(out).interactive(false).every(4).clock(nanos::get).build();
        for (int s = 1; s <= 10; s++) {
            nanos.addAndGet(1_000_000_000L);
            bar.onStep(step(s, 10));
        }
        bar.onEnd(new TrainingSummary(10, 10, Duration.ofSeconds(10), Optional.empty(), Optional.empty()));
        String[] lines = output().split("\n");
        assertEquals(4, lines.length, output());
        assertTrue(lines[0].startsWith("step  1/10"));
        assertTrue(lines[1].startsWith("step  4/10"));
        assertTrue(lines[2].startsWith("step  8/10"));
        assertTrue(lines[3].startsWith("step 10/10 [====================] 100%"));
        assertTrue(lines[3].endsWith("| 10s"), lines[3]);
        assertFalse(output().contains("\r"));
    }

    @Test
    void terminalOutputRedrawsOneLineAndKeepsMessagesAbove() {
        ProgressBar bar = ProgressBar.builder().out(out).interactive(true).clock(nanos::get).build();
        nanos.addAndGet(1_000_000_000L);
        bar.onStep(step(1, 3));
        nanos.addAndGet(1_000_000_000L);
        bar.onStep(StepMetrics.builder(2, 3).put("loss", 1.5).build());
        bar.onEval(new EvalMetrics(2, 1.25, 500));
        bar.onCheckpoint(new CheckpointInfo(2, Path.of("out/checkpoints/step-2")));
        nanos.addAndGet(1_000_000_000L);
        bar.onStep(step(3, 3));
        bar.onEnd(new TrainingSummary(3, 3, Duration.ofSeconds(3), Optional.empty(), Optional.empty()));
        String text = output();
        assertTrue(text.startsWith("\rstep 1/3"), text);
        String[] lines = text.split("\n");
        assertEquals(3, lines.length, text);
        assertTrue(lines[0].contains("eval at step 2: loss 1.2500, perplexity 3.490 (500 tokens)"), lines[0]);
        assertTrue(lines[1].contains("checkpoint at step 2: out/checkpoints/step-2"), lines[1]);
        assertTrue(lines[2].contains("\rstep 3/3"), lines[2]);
        // The shorter step-2 line overwrote the longer step-1 line completely.
        String afterStep2 = text.substring(text.indexOf("\rstep 2/3"));
        assertTrue(afterStep2.substring(0, afterStep2.indexOf("\r", 1)).endsWith("  "), text);
    }

    @Test
    void durations() {
        assertEquals("0s", ProgressBar.duration(0.2));
        assertEquals("59s", ProgressBar.duration(59.4));
        assertEquals("4m12s", ProgressBar.duration(252));
        assertEquals("2h05m", ProgressBar.duration(7500));
        assertEquals("?", ProgressBar.duration(Double.NaN));
    }
}
