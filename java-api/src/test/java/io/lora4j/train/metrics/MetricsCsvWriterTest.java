package io.lora4j.train.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsCsvWriterTest {

    private static final List<String> COLUMNS = List.of("step", "loss", "lr", "tokens_per_s", "eval_loss");

    @TempDir
    Path dir;

    private static StepMetrics step(int step, double loss) {
        return StepMetrics.builder(step, 100).put("loss", loss).put("lr", 2.5e-4).put("tokens_per_s", 1234.5).build();
    }

    @Test
    void writesHeaderAndOneFlushedRowPerStep() throws IOException {
        Path file = dir.resolve("out/metrics.csv");
        try (MetricsCsvWriter w = MetricsCsvWriter.create(file, COLUMNS)) {
            w.onStep(step(1, 2.75));
            // Flushed: readable while the writer is still open.
            assertEquals(List.of("step,loss,lr,tokens_per_s,eval_loss", "1,2.75,0.00025,1234.5,"),
                    Files.readAllLines(file));
            w.onStep(StepMetrics.builder(2, 100).put("loss", 2.5).put("eval_loss", 2.625).build());
            w.write(Map.of("step", 3, "loss", Double.NaN, "lr", 1e-9));
        }
        assertEquals(List.of("step,loss,lr,tokens_per_s,eval_loss", "1,2.75,0.00025,1234.5,", "2,2.5,,,2.625",
                "3,NaN,1.0E-9,,"), Files.readAllLines(file));
    }

    @Test
    void valuesReadBackExactly() {
        Path file = dir.resolve("m.csv");
        double[] values = {0.1 + 0.2, 1.0 / 3, 123456.789, 5e-5, 2.0, -7.25e-12};
        try (MetricsCsvWriter w = MetricsCsvWriter.create(file, List.of("step", "v"))) {
            for (int i = 0; i < values.length; i++) w.write(Map.of("step", i + 1, "v", values[i]));
        }
        assertArrayEquals(values, MetricsTable.read(file).series("step", "v").y());
        assertEquals("2", MetricsTable.read(file).rows().get(4).get(1));
    }

    @Test
    void unknownColumnsAndBadValuesAreErrors() {
        try (MetricsCsvWriter w = MetricsCsvWriter.create(dir.resolve("m.csv"), COLUMNS)) {
            var e = assertThrows(IllegalArgumentException.class, () -> w.write(Map.of("los", 1.0)));
            assertTrue(e.getMessage().contains("'los' is not a column"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> w.write(Map.of("loss", List.of(1))));
            assertThrows(IllegalArgumentException.class, () -> w.write(Map.of("loss", "a\nb")));
        }
        assertThrows(IllegalArgumentException.class, () -> MetricsCsvWriter.create(dir.resolve("x.csv"), List.of("a", "a")));
        assertThrows(IllegalArgumentException.class, () -> MetricsCsvWriter.create(dir.resolve("x.csv"), List.of("a,b")));
        assertThrows(IllegalArgumentException.class, () -> MetricsCsvWriter.create(dir.resolve("x.csv"), List.of()));
    }

    @Test
    void stringCellsAreQuotedWhenNeeded() {
        Path file = dir.resolve("m.csv");
        try (MetricsCsvWriter w = MetricsCsvWriter.create(file, List.of("step", "note"))) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("step", 1);
            row.put("note", "a, \"b\"");
            w.write(row);
        }
        assertEquals(List.of("1", "a, \"b\""), MetricsTable.read(file).rows().getFirst());
    }

    @Test
    void resumeAppendsKeepsHeaderAndDropsStepsAfterTheCheckpoint() throws IOException {
        Path file = dir.resolve("metrics.csv");
        try (MetricsCsvWriter w = MetricsCsvWriter.create(file, COLUMNS)) {
            for (int s = 1; s <= 5; s++) w.onStep(step(s, 3.0 - 0.25 * s));
        }
        // A crash in the middle of writing step 6's row.
        Files.writeString(file, "6,1.5,0.0002", java.nio.file.StandardOpenOption.APPEND);
        // The checkpoint was at step 3: steps 4 and 5 will be logged again.
        try (MetricsCsvWriter w = MetricsCsvWriter.resume(file, COLUMNS, 3)) {
            w.onStep(step(4, 2.0));
        }
        List<String> lines = Files.readAllLines(file);
        assertEquals(5, lines.size(), lines.toString());
        assertEquals("step,loss,lr,tokens_per_s,eval_loss", lines.getFirst());
        assertEquals(List.of("1", "2", "3", "4"), lines.subList(1, 5).stream().map(l -> l.split(",")[0]).toList());
        assertTrue(lines.get(4).startsWith("4,2,"), lines.get(4));
    }

    @Test
    void resumeWithAnotherHeaderIsAnError() {
        Path file = dir.resolve("metrics.csv");
        MetricsCsvWriter.create(file, COLUMNS).close();
        var e = assertThrows(IllegalStateException.class,
                () -> MetricsCsvWriter.resume(file, List.of("step", "reward_mean", "kl"), 0));
        assertTrue(e.getMessage().contains("has columns [step, loss, lr, tokens_per_s, eval_loss]"), e.getMessage());
    }

    @Test
    void resumeWithoutAFileStartsOne() throws IOException {
        Path file = dir.resolve("fresh.csv");
        try (MetricsCsvWriter w = MetricsCsvWriter.resume(file, COLUMNS, 10)) {
            w.onStep(step(11, 1.0));
        }
        assertEquals(2, Files.readAllLines(file).size());
    }
}
