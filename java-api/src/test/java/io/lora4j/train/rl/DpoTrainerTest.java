package io.lora4j.train.rl;

import io.lora4j.Model;
import io.lora4j.lora.Adapter;
import io.lora4j.train.TrainingRun;
import io.lora4j.train.data.Dataset;
import io.lora4j.train.metrics.MetricsTable;
import io.lora4j.train.metrics.StepMetrics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DpoTrainerTest {
    @TempDir
    static Path dir;
    static Model model;

    @BeforeAll
    static void load() {
        model = Model.load(TinyModel.path());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** Prefer red things to blue ones. */
    static Dataset pairs() {
        List<Map<String, Object>> rows = new ArrayList<>();
        String[] things = {"box", "cup", "hat", "map"};
        for (String a : RlFixtures.ANIMALS) {
            for (String t : things) {
                rows.add(Map.of("prompt", "the " + a + " sees the", "chosen", " red " + t + ".", "rejected", " blue " + t + "."));
            }
        }
        return Dataset.of("pairs", rows);
    }

    private static List<Double> series(TrainingRun run, String metric) {
        return run.history().stream().map(m -> m.get(metric).orElseThrow()).toList();
    }

    @Test
    void firstStepLogsLn2AndPreferenceAccuracyRises() {
        Path out = dir.resolve("dpo");
        try (TrainingRun run = model.lora(RlFixtures.lora()).dpo(pairs()).beta(0.1).batchSize(8).learningRate(5e-3)
                .constant().epochs(2).seed(2).outputDir(out).progress(false).train()) {
            StepMetrics first = run.history().getFirst();
            assertEquals(Math.log(2), first.get(StepMetrics.LOSS).orElseThrow(), 1e-6);
            assertEquals(0.0, first.get("accuracy").orElseThrow());
            assertEquals(0.0, first.get("margin").orElseThrow(), 1e-6);
            assertEquals(8, run.steps());
            List<Double> acc = series(run, "accuracy");
            assertTrue(RlFixtures.mean(acc.subList(5, 8)) > 0.9, "accuracy " + acc);
            assertTrue(run.last("margin") > 0 && run.last(StepMetrics.LOSS) < 0.5, "loss " + series(run, StepMetrics.LOSS));
        }
        MetricsTable csv = MetricsTable.read(out.resolve("metrics.csv"));
        assertEquals(List.of("step", "loss", "accuracy", "margin", "chosen_reward", "rejected_reward", "lr", "grad_norm",
                "tokens_per_s"), csv.columns());
    }

    @Test
    void ipoAndLabelSmoothingTrainAndAStartingAdapterIsTheReference() {
        try (TrainingRun run = model.lora(RlFixtures.lora()).dpo(pairs()).ipo().beta(0.5).batchSize(8).learningRate(5e-3)
                .constant().steps(6).seed(2).progress(false).train()) {
            assertEquals(1.0, run.history().getFirst().get(StepMetrics.LOSS).orElseThrow(), 1e-6, "(0 - 1/(2β))²");
            assertTrue(run.last(StepMetrics.LOSS) < 0.5, "IPO loss " + series(run, StepMetrics.LOSS));
        }
        try (Adapter start = RlFixtures.randomAdapter(model, RlFixtures.lora(), 9, 0.05);
             TrainingRun run = model.lora(RlFixtures.lora()).from(start).dpo(pairs()).labelSmoothing(0.1).batchSize(8)
                     .learningRate(5e-3).steps(4).seed(2).progress(false).train()) {
            assertEquals(Math.log(2), run.history().getFirst().get(StepMetrics.LOSS).orElseThrow(), 1e-6);
            assertTrue(run.last("margin") > 0);
        }
    }

    @Test
    void eachTrainerRefusesRecordsOfTheWrongShape() {
        assertThrows(IllegalArgumentException.class, () -> model.lora(RlFixtures.lora()).dpo(RlFixtures.prompts()));
        Dataset text = Dataset.of("text", List.of(Map.of("text", "the cat sees the red box.")));
        assertThrows(IllegalArgumentException.class, () -> model.lora(RlFixtures.lora()).grpo(text));
        assertThrows(IllegalStateException.class, () -> model.lora(RlFixtures.lora()).grpo(RlFixtures.prompts()).train(),
                "no reward function");
    }
}
