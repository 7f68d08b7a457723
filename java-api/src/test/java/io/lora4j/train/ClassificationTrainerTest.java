package io.lora4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lora4j.Model;
import io.lora4j.lora.LoraConfig;
import io.lora4j.lora.peft.PeftConfig;
import io.lora4j.lora.peft.PeftExport;
import io.lora4j.lora.peft.SafetensorsFile;
import io.lora4j.lora.peft.SafetensorsTensor;
import io.lora4j.tools.SyntheticModel;
import io.lora4j.train.data.Dataset;
import io.lora4j.train.data.DatasetFormatException;
import io.lora4j.train.metrics.MetricsTable;
import io.lora4j.train.metrics.StepMetrics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Classification end to end on a frozen random model: the label is the text's first word, which
 * only a trained adapter can carry to the last token, so accuracy must rise well above chance.
 */
class ClassificationTrainerTest {
    static final String[] CLASSES = {"red", "green", "blue"};
    static final String[] FILLER = {"the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far", "up", "hill"};

    @TempDir
    static Path dir;
    static Model model;
    static Path trained;
    static ClassificationRun run;

    @BeforeAll
    static void train() {
        Path file = dir.resolve("base.gguf");
        SyntheticModel.builder().embeddingLength(64).blockCount(2).heads(4, 2).feedForwardLength(128)
                .vocabSize(400).contextLength(64).seed(5).write(file);
        model = Model.load(file);
        trained = dir.resolve("trained");
        run = model.lora(lora()).classifier(firstWord(96, 1)).epochs(6).batchSize(8).learningRate(5e-3).constant()
                .evalSplit(0.25).seed(3).outputDir(trained).progress(false).train();
    }

    @AfterAll
    static void close() {
        run.close();
        model.close();
    }

    static LoraConfig lora() {
        return LoraConfig.builder().rank(8).alpha(16).seed(3).build();
    }

    /** "{first word} w w w…": label = the first word. */
    static Dataset firstWord(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String label = CLASSES[rng.nextInt(CLASSES.length)];
            StringBuilder text = new StringBuilder(label);
            int words = 2 + rng.nextInt(5);
            for (int w = 0; w < words; w++) text.append(' ').append(FILLER[rng.nextInt(FILLER.length)]);
            rows.add(Map.of("text", text.toString(), "label", label));
        }
        return Dataset.of("first-word", rows);
    }

    @Test
    void accuracyRisesWellAboveChance() {
        double chance = 1.0 / CLASSES.length;
        assertTrue(run.accuracyBefore() < 0.6, "untrained: " + run.accuracyBefore());
        assertTrue(run.accuracyAfter() > 0.9, "trained: " + run.accuracyAfter());
        double held = run.evalAccuracyAfter().orElseThrow();
        assertTrue(held > chance + 0.4, "held-out: " + held);
        assertEquals(List.of("blue", "green", "red"), run.head().labels().names(), "labels sorted");
        List<StepMetrics> h = run.training().history();
        assertTrue(h.getLast().get(StepMetrics.LOSS).orElseThrow() < h.getFirst().get(StepMetrics.LOSS).orElseThrow() / 3);
        MetricsTable csv = MetricsTable.read(trained.resolve("metrics.csv"));
        assertEquals(run.training().steps(), csv.rows().size());
        assertTrue(Files.isRegularFile(trained.resolve("adapter.gguf")));
        assertTrue(Files.isRegularFile(trained.resolve(ClassifierHead.FILE_NAME)));
        assertTrue(Files.isRegularFile(trained.resolve("checkpoints/step-" + run.training().steps()).resolve(ClassifierHead.FILE_NAME)));
        assertTrue(Double.isFinite(run.training().last(StepMetrics.ACCURACY)));
        assertEquals(held, run.training().last(StepMetrics.EVAL_ACCURACY));
    }

    @Test
    void savedClassifierPredictsLikeTheRun() {
        Dataset fresh = firstWord(30, 77);
        List<String> texts = fresh.records().stream().map(r -> r.text()).toList();
        try (Classifier live = run.classifier(); Classifier loaded = Classifier.load(model, trained)) {
            List<Prediction> a = live.predict(texts), b = loaded.predict(texts);
            assertEquals(a, b);
            double acc = loaded.evaluate(fresh);
            assertTrue(acc > 0.7, "fresh accuracy " + acc);
            Prediction one = loaded.predict(texts.get(4));
            assertEquals(a.get(4), one, "alone or packed with others, the same answer");
            assertEquals(1.0, one.probabilities().values().stream().mapToDouble(Double::doubleValue).sum(), 1e-9);
            assertEquals(List.of("blue", "green", "red"), List.copyOf(one.probabilities().keySet()));
        }
    }

    @Test
    void sameSeedSameLossesAndResumeRestoresTheHead() throws Exception {
        Dataset data = firstWord(40, 5);
        Path part = dir.resolve("part");
        List<Double> full;
        try (ClassificationRun r = small(data, dir.resolve("full")).train()) {
            full = losses(r);
        }
        try (ClassificationRun r = small(data, part).saveEvery(3).train()) {
            assertEquals(full, losses(r), "same seed, same losses");
        }
        try (ClassificationRun r = small(data, part).resume(part.resolve("checkpoints/step-3")).train()) {
            assertEquals(full.subList(3, full.size()), losses(r), "resumed losses");
        }
        Dataset other = Dataset.of("two", List.of(Map.of("text", "red a b", "label", "x"), Map.of("text", "blue c", "label", "y")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> small(other, part).resume(part.resolve("checkpoints/step-3")).train());
        assertTrue(e.getMessage().contains("labels"), e.getMessage());
    }

    private static ClassificationTrainer small(Dataset data, Path out) {
        return model.lora(lora()).classifier(data).maxSteps(6).batchSize(4).learningRate(3e-3).seed(11)
                .outputDir(out).progress(false);
    }

    private static List<Double> losses(ClassificationRun r) {
        return r.training().history().stream().map(m -> m.get(StepMetrics.LOSS).orElseThrow()).toList();
    }

    @Test
    void integerLabelsAreClassIndices() {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < 12; i++) rows.add(Map.of("text", "item " + i, "label", (long) (i % 11) * (i % 2 == 0 ? 1 : -1)));
        ClassLabels labels = ClassLabels.of(Dataset.of("ints", rows));
        assertEquals(List.of("-9", "-7", "-5", "-3", "-1", "0", "2", "4", "6", "8", "10"), labels.names());
        List<Map<String, Object>> mixed = List.of(Map.of("text", "a b", "label", 1), Map.of("text", "c d", "label", "1"));
        DatasetFormatException m = assertThrows(DatasetFormatException.class, () -> ClassLabels.of(Dataset.of("mixed", mixed)));
        assertTrue(m.getMessage().contains("mixed:2") && m.getMessage().contains("all integers"), m.getMessage());
    }

    @Test
    void badDataIsAClearError() {
        List<Map<String, Object>> one = List.of(Map.of("text", "a b", "label", "x"), Map.of("text", "c d", "label", "x"));
        IllegalArgumentException single = assertThrows(IllegalArgumentException.class,
                () -> model.lora(lora()).classifier(Dataset.of("one", one)));
        assertTrue(single.getMessage().contains("at least two different labels"), single.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Dataset.of("empty", List.of()));
        Dataset text = Dataset.of("lm", List.of(Map.of("text", "just text")));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> model.lora(lora()).classifier(text))
                .getMessage().contains("{\"text\",\"label\"}"));
        assertThrows(IllegalArgumentException.class, () -> model.lora(lora()).sft(firstWord(4, 1)));
        try (Classifier c = Classifier.load(model, trained)) {
            Dataset unknown = Dataset.of("unknown", List.of(Map.of("text", "red a", "label", "purple")));
            DatasetFormatException u = assertThrows(DatasetFormatException.class, () -> c.evaluate(unknown));
            assertTrue(u.getMessage().contains("unknown:1") && u.getMessage().contains("purple"), u.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> ClassifierHead.load(trained.resolve("adapter.gguf")));
    }

    @Test
    void peftExportCarriesTheHeadAsScore() throws Exception {
        Path peft = dir.resolve("peft");
        run.head().exportPeft(model, run.adapter(), peft);
        try (SafetensorsFile f = SafetensorsFile.open(peft.resolve(PeftExport.WEIGHTS_FILE))) {
            SafetensorsTensor score = f.tensor(PeftExport.SCORE_TENSOR).orElseThrow();
            assertArrayEquals(new long[] {3, 64}, score.shape());
            assertArrayEquals(run.head().weights(), f.floats(score));
            assertEquals("[\"blue\",\"green\",\"red\"]", f.metadata().get("labels"));
        }
        JsonNode config = new ObjectMapper().readTree(peft.resolve(PeftConfig.FILE_NAME).toFile());
        assertEquals("SEQ_CLS", config.get("task_type").asText());
        assertEquals("score", config.get("modules_to_save").get(0).asText());
    }
}
