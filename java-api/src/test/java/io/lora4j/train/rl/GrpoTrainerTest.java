package io.lora4j.train.rl;

import io.lora4j.Model;
import io.lora4j.generate.InferenceContext;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.ScaledAdapter;
import io.lora4j.train.Checkpoint;
import io.lora4j.train.TrainingException;
import io.lora4j.train.TrainingRun;
import io.lora4j.train.metrics.MetricsTable;
import io.lora4j.train.metrics.StepMetrics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GrpoTrainerTest {
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

    private static GrpoTrainer grpo() {
        return model.lora(RlFixtures.lora()).grpo(RlFixtures.prompts()).reward(Rewards.contains()).groupSize(8)
                .promptsPerStep(4).maxNewTokens(6).learningRate(5e-3).constant().seed(3).progress(false);
    }

    private static List<Double> series(TrainingRun run, String metric) {
        return run.history().stream().map(m -> m.get(metric).orElseThrow()).toList();
    }

    @Test
    void meanRewardRisesAndTheFirstStepHasNoKlAndRatioOne() throws Exception {
        Path out = dir.resolve("grpo");
        try (TrainingRun run = grpo().beta(0.04).steps(15).outputDir(out).train()) {
            StepMetrics first = run.history().getFirst();
            assertEquals(0.0, first.get(StepMetrics.KL).orElseThrow(), "step 1 of a fresh adapter: policy = reference");
            assertEquals(1.0, first.get("ratio").orElseThrow());
            assertEquals(0.0, first.get(StepMetrics.CLIP_FRAC).orElseThrow());
            List<Double> reward = series(run, StepMetrics.REWARD_MEAN);
            double before = RlFixtures.mean(reward.subList(0, 3)), after = RlFixtures.mean(reward.subList(12, 15));
            assertTrue(after > before + 0.4, "mean reward " + before + " -> " + after + ": " + reward);
            assertTrue(run.last(StepMetrics.KL) > 0, "the policy moved away from the reference");
        }
        MetricsTable csv = MetricsTable.read(out.resolve("metrics.csv"));
        assertEquals(List.of("step", "reward_mean", "reward_std", "reward_contains", "kl", "clip_frac", "ratio",
                "completion_len", "nll_sampled", "loss", "lr", "grad_norm", "sample_s", "update_s"), csv.columns());
        assertEquals(15, csv.rows().size());
        assertTrue(Files.size(out.resolve("loss.png")) > 1000);
        assertTrue(Files.isRegularFile(out.resolve("adapter.gguf")));
    }

    @Test
    void rlooRaisesTheRewardToo() {
        try (TrainingRun run = model.lora(RlFixtures.lora()).rloo(RlFixtures.prompts()).reward(Rewards.contains())
                .groupSize(8).promptsPerStep(4).maxNewTokens(6).learningRate(5e-3).constant().seed(3).progress(false)
                .steps(15).train()) {
            assertEquals(0.0, run.history().getFirst().get(StepMetrics.KL).orElseThrow());
            List<Double> reward = series(run, StepMetrics.REWARD_MEAN);
            double before = RlFixtures.mean(reward.subList(0, 3)), after = RlFixtures.mean(reward.subList(12, 15));
            assertTrue(after > before + 0.3, "mean reward " + before + " -> " + after + ": " + reward);
        }
    }

    @Test
    void aThrowingRewardStopsTheRunWithItsMessageAndKeepsTheCheckpoint() {
        Path out = dir.resolve("throws");
        AtomicInteger calls = new AtomicInteger();
        TrainingException e = assertThrows(TrainingException.class, () -> grpo().reward("judge", 1, (r, c) -> {
            if (calls.incrementAndGet() > 2 * 32) throw new IllegalStateException("judge is down");
            return 0;
        }).steps(6).saveEvery(2).outputDir(out).train());
        assertTrue(e.getMessage().contains("judge is down") && e.getMessage().contains("'judge'")
                && e.getMessage().contains("step 3"), e.getMessage());
        assertTrue(e.getMessage().contains("step-2"), e.getMessage());
        Checkpoint kept = Checkpoint.load(out.resolve("checkpoints/step-2"), model);
        assertEquals(2, kept.step());
        assertTrue(Files.isRegularFile(kept.adapterFile()));
    }

    @Test
    void resumedRunRepeatsTheUninterruptedOne() throws Exception {
        Path out = dir.resolve("resume");
        List<Double> full, klFull;
        try (TrainingRun run = grpo().steps(4).saveEvery(2).outputDir(out).train()) {
            full = series(run, StepMetrics.REWARD_MEAN);
            klFull = series(run, StepMetrics.KL);
        }
        try (TrainingRun run = grpo().steps(4).outputDir(out).resume(out.resolve("checkpoints/step-2")).train()) {
            assertEquals(full.subList(2, 4), series(run, StepMetrics.REWARD_MEAN));
            assertEquals(klFull.subList(2, 4), series(run, StepMetrics.KL));
        }
        assertEquals(4, MetricsTable.read(out.resolve("metrics.csv")).rows().size());
        // A DPO run cannot continue a GRPO checkpoint.
        assertThrows(IllegalArgumentException.class, () -> model.lora(RlFixtures.lora())
                .dpo(DpoTrainerTest.pairs()).resume(out.resolve("checkpoints/step-2")).progress(false).train());
    }

    @Test
    void fromAnAdapterTheReferenceIsThatAdapterAndTheResultHoldsBoth() {
        try (Adapter start = RlFixtures.randomAdapter(model, RlFixtures.lora(), 7, 0.05)) {
            Path out = dir.resolve("from");
            try (TrainingRun run = model.lora(RlFixtures.lora()).from(start).grpo(RlFixtures.prompts())
                    .reward(Rewards.contains()).groupSize(4).promptsPerStep(2).maxNewTokens(6).learningRate(5e-3)
                    .seed(3).steps(3).saveEvery(1).outputDir(out).progress(false).train()) {
                assertEquals(0.0, run.history().getFirst().get(StepMetrics.KL).orElseThrow(),
                        "the starting adapter is part of the reference");
                assertTrue(run.last(StepMetrics.KL) > 0);
                assertEquals(start.info().rank() + RlFixtures.lora().rank(), run.adapter().info().rank());
                int[] prompt = model.tokenizer().encode("the cat sees the", true, true);
                try (InferenceContext a = new InferenceContext(model, 16, 1, 1, true);
                     InferenceContext b = new InferenceContext(model, 16, 1, 1, true)) {
                    a.setAdapters(List.of(ScaledAdapter.of(start)));
                    b.setAdapters(List.of(ScaledAdapter.of(run.adapter())));
                    float[] la = a.decode(0, prompt), lb = b.decode(0, prompt);
                    double diff = 0;
                    for (int i = 0; i < la.length; i++) diff = Math.max(diff, Math.abs(la[i] - lb[i]));
                    assertTrue(diff > 1e-3, "the result moved from the starting adapter");
                }
            }
            Checkpoint c = Checkpoint.load(out.resolve("checkpoints/step-1"), model);
            assertTrue(c.state().path("reference").asText().contains("starting adapter"), c.state().toString());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> grpo().steps(2)
                    .resume(c.directory()).train());
            assertTrue(e.getMessage().contains("same reference"), e.getMessage());
        }
    }
}
