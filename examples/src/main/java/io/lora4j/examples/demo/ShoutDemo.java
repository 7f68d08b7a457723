package io.lora4j.examples.demo;

import io.lora4j.Model;
import io.lora4j.generate.Generation;
import io.lora4j.generate.Sampling;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.LoraConfig;
import io.lora4j.lora.ScaledAdapter;
import io.lora4j.train.TrainingRun;
import io.lora4j.train.data.Dataset;
import io.lora4j.train.rl.LossType;

import java.nio.file.Path;
import java.util.List;

/**
 * The README demo: LoRA-fine-tune the tiny base model on the shout task, then improve the SFT
 * adapter with GRPO against a programmatic reward, comparing held-out accuracy at each stage.
 */
public final class ShoutDemo {
    private final Model model;
    private final ShoutTask.Split split;

    public ShoutDemo(Model model, ShoutTask.Split split) {
        this.model = model;
        this.split = split;
    }

    /** Share of test phrases answered exactly, greedy decoding, with the given adapters. */
    public double accuracy(List<ScaledAdapter> adapters, boolean show) {
        int right = 0;
        for (int i = 0; i < split.test().size(); i++) {
            String phrase = split.test().get(i);
            int[] prompt = model.tokenizer().encode(ShoutTask.prompt(phrase), true, true);
            Generation g = model.generate(prompt, Sampling.builder().temperature(0).maxTokens(16).stop("\n").build(),
                    null, adapters);
            boolean ok = ShoutTask.correct(phrase, g.text());
            if (ok) right++;
            if (show && i < 3) System.out.printf("    %-28s -> %-22s %s%n", ShoutTask.prompt(phrase), g.text().strip(), ok ? "ok" : "wrong");
        }
        return (double) right / split.test().size();
    }

    /** Fine-tunes a fresh adapter on the training phrases; the run writes into {@code dir}. */
    public TrainingRun fineTune(Path dir, int epochs) {
        LoraConfig cfg = LoraConfig.builder().rank(8).alpha(16).seed(1).build();
        return model.lora(cfg).sft(Dataset.of("shout", ShoutTask.records(split.train()))).epochs(epochs).batchSize(8)
                .contextLength(64).learningRate(2e-3).cosine().warmupRatio(0.05).seed(1).outputDir(dir).train();
    }

    /**
     * GRPO from the SFT adapter (frozen, it is the KL reference) on the training phrases. Reward:
     * 1 for the exact answer on the first line, plus 0.2 for the right format (one line of
     * capitals). Dr. GRPO's settings (no std scaling, sum over tokens / max length) and 32 prompts
     * × 8 completions per step: with fewer samples per step the reward signal drowns in noise.
     */
    public TrainingRun reinforce(Adapter sft, Path dir, int steps) {
        LoraConfig cfg = LoraConfig.builder().rank(8).alpha(16).seed(2).build();
        return model.lora(cfg).from(sft).grpo(Dataset.of("shout prompts", ShoutTask.records(split.train())))
                .reward("exact", 1, (record, completion) -> firstLine(completion).equals(record.fields().get("answer")) ? 1 : 0)
                .reward("format", 0.2, (record, completion) -> completion.strip().matches("[A-Z]+( [A-Z]+)*") ? 1 : 0)
                .groupSize(8).promptsPerStep(32).maxNewTokens(16).stop("\n").beta(0.04)
                .lossType(LossType.DR_GRPO).scaleRewards(false).learningRate(4e-3).constant().warmupSteps(5)
                .steps(steps).seed(3).outputDir(dir).train();
    }

    private static String firstLine(String completion) {
        return completion.strip().split("\n", 2)[0].strip();
    }

    public static List<ScaledAdapter> on(Adapter adapter) {
        return List.of(ScaledAdapter.of(adapter));
    }
}
