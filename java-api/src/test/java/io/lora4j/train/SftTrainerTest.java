package io.lora4j.train;

import io.lora4j.Model;
import io.lora4j.generate.InferenceContext;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.LoraConfig;
import io.lora4j.lora.LoraTarget;
import io.lora4j.lora.ScaledAdapter;
import io.lora4j.tools.SyntheticModel;
import io.lora4j.train.data.Dataset;
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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SftTrainerTest {
    @TempDir
    static Path dir;
    static Model model;

    @BeforeAll
    static void load() {
        Path file = dir.resolve("base.gguf");
        SyntheticModel.builder().embeddingLength(64).blockCount(2).heads(4, 2).feedForwardLength(128)
                .vocabSize(400).contextLength(64).seed(5).write(file);
        model = Model.load(file);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static Dataset data() {
        List<Map<String, Object>> rows = new ArrayList<>();
        String[] words = {"alpha", "beta", "gamma", "delta", "omega", "sigma"};
        for (int i = 0; i < 24; i++) {
            String w = words[i % words.length];
            rows.add(Map.of("prompt", "say " + w + " " + i % 4 + ":", "completion", " " + w.toUpperCase()));
        }
        return Dataset.of("memorise", rows);
    }

    private static LoraConfig lora() {
        return LoraConfig.builder().rank(4).alpha(8).seed(3).build();
    }

    @Test
    void loraTrainingLowersTheLossAndChangesOutputs() {
        try (TrainingRun run = model.lora(lora()).sft(data()).epochs(12).batchSize(4).learningRate(1e-2)
                .constant().seed(1).progress(false).train()) {
            List<StepMetrics> h = run.history();
            double first = h.getFirst().get(StepMetrics.LOSS).orElseThrow();
            double last = run.last(StepMetrics.LOSS);
            assertTrue(last < first * 0.6, "loss " + first + " -> " + last);
            int[] prompt = model.tokenizer().encode("say alpha 0:", true, true);
            try (InferenceContext base = new InferenceContext(model, 32, 1, 1, true);
                 InferenceContext tuned = new InferenceContext(model, 32, 1, 1, true)) {
                tuned.setAdapters(List.of(ScaledAdapter.of(run.adapter())));
                float[] a = base.decode(0, prompt);
                float[] b = tuned.decode(0, prompt);
                assertTrue(maxDiff(a, b) > 1e-3, "the adapter changes the logits");
            }
        }
    }

    @Test
    void sameSeedSameLossesAndResumeIsExact() throws Exception {
        Path full = dir.resolve("full");
        Path part = dir.resolve("part");
        List<Double> uninterrupted;
        try (TrainingRun run = trainer(full).maxSteps(10).train()) {
            uninterrupted = losses(run.history());
        }
        try (TrainingRun run = trainer(dir.resolve("again")).maxSteps(10).train()) {
            assertEquals(uninterrupted, losses(run.history()), "same seed, same losses");
        }
        try (TrainingRun run = trainer(part).maxSteps(10).saveEvery(4).train()) {
            assertEquals(uninterrupted, losses(run.history()));
        }
        Path step4 = part.resolve("checkpoints/step-4");
        assertTrue(Files.isRegularFile(step4.resolve("adapter.gguf")));
        Path resumed = dir.resolve("resumed");
        copyTree(part, resumed);
        try (TrainingRun run = trainer(resumed).maxSteps(10).resume(resumed.resolve("checkpoints/step-4")).train()) {
            assertEquals(uninterrupted.subList(4, 10), losses(run.history()), "resumed losses");
        }
        MetricsTable csv = MetricsTable.read(resumed.resolve("metrics.csv"));
        assertEquals(10, csv.rows().size(), "metrics.csv continued, one row per step");
        assertTrue(Files.size(resumed.resolve("loss.png")) > 1000);
    }

    private SftTrainer trainer(Path out) {
        return model.lora(lora()).sft(data()).batchSize(4).learningRate(2e-3).cosine().warmupSteps(2).seed(9)
                .outputDir(out).progress(false);
    }

    private static List<Double> losses(List<StepMetrics> h) {
        return h.stream().map(m -> m.get(StepMetrics.LOSS).orElseThrow()).toList();
    }

    @Test
    void evalSplitReportsEvalLoss() {
        try (TrainingRun run = model.lora(lora()).sft(data()).maxSteps(3).batchSize(2).evalSplit(0.25).progress(false)
                .train()) {
            assertTrue(Double.isFinite(run.last(StepMetrics.EVAL_LOSS)));
        }
    }

    @Test
    void nonFiniteLossStopsWithAClearErrorAndKeepsTheCheckpoint() {
        Path file = dir.resolve("overflow.gguf");
        // Weights this large overflow f32 activations: the loss is not finite from the first step.
        SyntheticModel.builder().embeddingLength(64).blockCount(2).heads(4, 2).feedForwardLength(128).vocabSize(400)
                .weightScale(1e25f).seed(5).write(file);
        try (Model bad = Model.load(file)) {
            TrainingException e = assertThrows(TrainingException.class, () -> bad.lora(lora()).sft(data()).maxSteps(3)
                    .batchSize(4).outputDir(dir.resolve("nan")).progress(false).train());
            assertTrue(e.getMessage().contains("diverged at step 1"), e.getMessage());
            assertTrue(e.getMessage().contains("no checkpoint"), e.getMessage());
        }
    }

    @Test
    void badConfigurationsAreClearErrors() {
        assertThrows(IllegalArgumentException.class, () -> LoraConfig.builder().rank(0).build());
        assertThrows(IllegalArgumentException.class, () -> LoraTarget.parse("q,nope"));
        assertThrows(io.lora4j.Lora4jException.class, () -> Adapter.create(model, LoraConfig.builder().rank(1000).build()));
        assertThrows(IllegalArgumentException.class, () -> Dataset.of("empty", List.of()));
        Path other = dir.resolve("other.gguf");
        SyntheticModel.builder().embeddingLength(32).blockCount(1).write(other);
        try (TrainingRun run = trainer(dir.resolve("ck")).maxSteps(2).saveEvery(1).train();
             Model m2 = Model.load(other)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Checkpoint.load(dir.resolve("ck/checkpoints/step-1"), m2));
            assertTrue(e.getMessage().contains("another model"), e.getMessage());
        }
    }

    @Test
    void fullFineTuningTrainsTheWeights() throws Exception {
        Path out = dir.resolve("fullft");
        List<Map<String, Object>> text = List.of(Map.of("text", "the cat sat on the mat"), Map.of("text", "a dog ran"));
        try (TrainingRun run = model.fullFineTune(Dataset.of("t", text)).freezeLayers(1).maxSteps(20).batchSize(2)
                .learningRate(1e-3).constant().outputDir(out).progress(false).train()) {
            assertTrue(run.last(StepMetrics.LOSS) < run.history().getFirst().get(StepMetrics.LOSS).orElseThrow(),
                    losses(run.history()).toString());
        }
        try (Model tuned = Model.load(out.resolve("model.gguf"))) {
            assertEquals(model.hparams(), tuned.hparams());
            assertEquals(model.metadata().get("tokenizer.ggml.tokens"), tuned.metadata().get("tokenizer.ggml.tokens"));
        }
    }

    private static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (var walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else Files.copy(p, target);
            }
        }
    }

    @Test
    void adapterSavedByTrainingLoadsWithIdenticalOutputs() {
        Path out = dir.resolve("saved");
        try (TrainingRun run = model.lora(lora()).sft(data()).maxSteps(5).batchSize(4).learningRate(3e-3)
                .outputDir(out).progress(false).train();
             Adapter loaded = Adapter.load(model, out.resolve("adapter.gguf"));
             InferenceContext a = new InferenceContext(model, 32, 1, 1, true);
             InferenceContext b = new InferenceContext(model, 32, 1, 1, true)) {
            a.setAdapters(List.of(ScaledAdapter.of(run.adapter())));
            b.setAdapters(List.of(ScaledAdapter.of(loaded)));
            int[] prompt = model.tokenizer().encode("say beta 1:", true, true);
            assertArrayEquals(a.decode(0, prompt), b.decode(0, prompt));
        }
    }
}
