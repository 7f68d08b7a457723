package io.lora4j.cli;

import io.lora4j.Model;
import io.lora4j.ModelOptions;
import io.lora4j.train.LoraSession;
import io.lora4j.train.TrainingRun;
import io.lora4j.train.data.Dataset;
import io.lora4j.train.metrics.StepMetrics;
import io.lora4j.train.rl.GrpoTrainer;
import io.lora4j.train.rl.LossType;
import io.lora4j.train.rl.Rewards;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code lora4j rl}: GRPO or RLOO on a JSONL file of prompts with a built-in reward. */
@Command(name = "rl", description = "Reward-based LoRA training (GRPO or RLOO) on {\"prompt\", \"answer\"?} JSONL; "
        + "writes OUTDIR/adapter.gguf, metrics.csv, loss.png, checkpoints/. --batch-size is prompts per step.")
final class RlCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, description = "base GGUF model")
    Path model;

    @Option(names = "--prompts", required = true, description = "prompts (JSONL, {\"prompt\": …} plus fields rewards use)")
    Path prompts;

    @Option(names = {"-o", "--output"}, required = true, description = "output directory")
    Path output;

    @Option(names = "--reward", required = true, description = "exact, contains (against the record's \"answer\") "
            + "or regex:PATTERN (found in the completion); repeatable, rewards add up")
    List<String> rewards;

    @Option(names = "--algorithm", defaultValue = "grpo", description = "grpo or rloo (default grpo)")
    String algorithm;

    @Option(names = "--group-size", defaultValue = "8", description = "completions per prompt (default 8)")
    int groupSize;

    @Option(names = "--beta", description = "KL coefficient (default 0.04 for grpo, 0.05 for rloo)")
    Double beta;

    @Option(names = "--clip", defaultValue = "0.2", description = "clip the ratio to [1-C, 1+C] (default 0.2)")
    double clip;

    @Option(names = "--clip-high", description = "upper clip epsilon, if not --clip (DAPO)")
    Double clipHigh;

    @Option(names = "--iterations", defaultValue = "1", description = "optimizer steps per batch of samples (default 1)")
    int iterations;

    @Option(names = "--loss-type", defaultValue = "grpo", description = "grpo, dr_grpo, bnpo or dapo (default grpo)")
    String lossType;

    @Option(names = "--no-scale-rewards", description = "do not divide advantages by the group's std (Dr. GRPO)")
    boolean noScaleRewards;

    @Option(names = "--max-new-tokens", defaultValue = "128", description = "longest completion (default 128)")
    int maxNewTokens;

    @Option(names = "--temp", defaultValue = "1.0", description = "sampling temperature (default 1; plain sampling)")
    double temp;

    @Option(names = "--stop", description = "stop string ending a completion; repeatable")
    List<String> stop = List.of();

    @Option(names = "--lora", description = "start from this adapter (it stays frozen as part of the KL reference)")
    Path lora;

    @Mixin
    TrainingFlags flags;

    @Override
    public Integer call() {
        Dataset data = Dataset.jsonl(prompts);
        try (Model m = Model.load(model, ModelOptions.builder().threads(flags.threads).build());
             AdapterSet start = AdapterSet.load(m, lora == null ? List.of() : List.of(lora), 1f)) {
            LoraSession session = m.lora(flags.lora());
            if (lora != null) session.from(start.adapters().getFirst());
            GrpoTrainer trainer = switch (algorithm.trim().toLowerCase()) {
                case "grpo" -> session.grpo(data);
                case "rloo" -> session.rloo(data);
                default -> throw new IllegalArgumentException("--algorithm must be grpo or rloo, got " + algorithm);
            };
            for (String r : rewards) trainer.reward(Rewards.parse(r));
            trainer.options(flags.options(output)).groupSize(groupSize).clip(clip, clipHigh == null ? clip : clipHigh)
                    .iterations(iterations).lossType(LossType.parse(lossType)).scaleRewards(!noScaleRewards)
                    .maxNewTokens(maxNewTokens).temperature(temp).stop(stop.toArray(String[]::new));
            if (beta != null) trainer.beta(beta);
            try (TrainingRun run = trainer.train()) {
                List<StepMetrics> h = run.history();
                if (!h.isEmpty()) {
                    System.out.printf("trained %d steps; mean reward %.3f at the first logged step, %.3f at the last; KL %.4f%n",
                            run.steps(), h.getFirst().get(StepMetrics.REWARD_MEAN).orElse(Double.NaN),
                            run.last(StepMetrics.REWARD_MEAN), run.last(StepMetrics.KL));
                }
                System.out.println("wrote " + output.resolve("adapter.gguf") + ", " + output.resolve("metrics.csv") + ", "
                        + output.resolve("loss.png"));
            }
        }
        return 0;
    }
}
