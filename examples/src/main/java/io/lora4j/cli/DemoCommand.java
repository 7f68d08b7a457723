package io.lora4j.cli;

import io.lora4j.Model;
import io.lora4j.examples.demo.ShoutDemo;
import io.lora4j.examples.demo.ShoutTask;
import io.lora4j.examples.demo.TinyModelMaker;
import io.lora4j.generate.Sampling;
import io.lora4j.train.TrainingRun;
import io.lora4j.train.metrics.StepMetrics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** The README's demo: fine-tune the bundled tiny model with LoRA, then GRPO, and show the before/after. */
@Command(name = "demo", description = "Fine-tune the bundled tiny model on a task it cannot do, improve it with RL, and compare.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "models/tiny/tiny-base.gguf", description = "the tiny base model")
    Path model;

    @Option(names = "--out", defaultValue = "runs/demo", description = "where the runs' files go (sft/, rl/)")
    Path out;

    @Option(names = "--epochs", defaultValue = "6", description = "fine-tuning epochs")
    int epochs;

    @Option(names = "--rl-steps", defaultValue = "80", description = "GRPO steps after fine-tuning (0: none)")
    int rlSteps;

    @Override
    public Integer call() throws Exception {
        if (!Files.exists(model)) {
            System.out.println("the tiny base model is missing; pretraining it (see scripts/make-tiny-model)");
            TinyModelMaker.make(model, 6000, 2, 7);
        }
        ShoutTask.Split split = ShoutTask.split(2024, 400, 60);
        try (Model m = Model.load(model)) {
            ShoutDemo demo = new ShoutDemo(m, split);
            String sample = m.generate("the cat", Sampling.builder().temperature(0.7).maxTokens(40).seed(3)
                    .stop("\n").build()).text();
            System.out.println("the tiny base model writes: \"the cat" + sample + "\"");
            System.out.printf("task: answer \"%s\" with \"%s\" (never seen in pretraining)%n",
                    ShoutTask.prompt("red fox"), ShoutTask.answer("red fox").strip());
            System.out.println("base model, held-out phrases:");
            double before = demo.accuracy(List.of(), true);
            System.out.printf("  accuracy before fine-tuning: %.0f%% of %d%n%n", 100 * before, split.test().size());
            Path sftDir = out.resolve("sft");
            try (TrainingRun sft = demo.fineTune(sftDir, epochs)) {
                System.out.println("\nwith the LoRA adapter, the same held-out phrases:");
                double afterSft = demo.accuracy(ShoutDemo.on(sft.adapter()), true);
                System.out.printf("  accuracy after fine-tuning: %.0f%% (before: %.0f%%)%n%n", 100 * afterSft, 100 * before);
                System.out.println("adapter: " + sftDir.resolve("adapter.gguf") + " (loads in llama.cpp with --lora)");
                if (rlSteps == 0) return 0;
                Path rlDir = out.resolve("rl");
                System.out.println("\nGRPO from the fine-tuned adapter (frozen: it is the KL reference); reward = exact "
                        + "answer + 0.2 for the format; 32 prompts x 8 completions per step");
                try (TrainingRun rl = demo.reinforce(sft.adapter(), rlDir, rlSteps)) {
                    List<StepMetrics> h = rl.history();
                    double first = mean(h.subList(0, Math.min(5, h.size())));
                    double last = mean(h.subList(Math.max(0, h.size() - 5), h.size()));
                    System.out.printf("%n  mean reward: %.3f over the first 5 steps, %.3f over the last 5 (max 1.2)%n", first, last);
                    System.out.printf("  KL to the reference (the fine-tuned model) at the last step: %.4f nats/token%n",
                            rl.last(StepMetrics.KL));
                    System.out.println("with the RL adapter, the same held-out phrases:");
                    double afterRl = demo.accuracy(ShoutDemo.on(rl.adapter()), true);
                    System.out.printf("  accuracy after RL: %.0f%% (after fine-tuning: %.0f%%, before: %.0f%%)%n%n",
                            100 * afterRl, 100 * afterSft, 100 * before);
                    System.out.println("adapter: " + rlDir.resolve("adapter.gguf") + " (fine-tuning and RL in one adapter)");
                    System.out.println("metrics: " + rlDir.resolve("metrics.csv") + ", plot: " + rlDir.resolve("loss.png"));
                }
            }
        }
        return 0;
    }

    private static double mean(List<StepMetrics> steps) {
        return steps.stream().mapToDouble(m -> m.get(StepMetrics.REWARD_MEAN).orElse(0)).average().orElse(Double.NaN);
    }
}
