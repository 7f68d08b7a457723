package io.lora4j.cli;

import io.lora4j.Model;
import io.lora4j.examples.demo.ShoutDemo;
import io.lora4j.examples.demo.ShoutTask;
import io.lora4j.examples.demo.TinyModelMaker;
import io.lora4j.generate.Sampling;
import io.lora4j.train.TrainingRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** The README's demo: fine-tune the bundled tiny model with LoRA and show the before/after. */
@Command(name = "demo", description = "Fine-tune the bundled tiny model on a task it cannot do, and compare.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "models/tiny/tiny-base.gguf", description = "the tiny base model")
    Path model;

    @Option(names = "--out", defaultValue = "runs/demo", description = "where the run's files go")
    Path out;

    @Option(names = "--epochs", defaultValue = "20", description = "fine-tuning epochs")
    int epochs;

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
            try (TrainingRun run = demo.fineTune(out, epochs)) {
                System.out.println("\nwith the LoRA adapter, the same held-out phrases:");
                double after = demo.accuracy(ShoutDemo.on(run.adapter()), true);
                System.out.printf("  accuracy after fine-tuning: %.0f%% (before: %.0f%%)%n%n", 100 * after, 100 * before);
                System.out.println("adapter: " + out.resolve("adapter.gguf") + " (loads in llama.cpp with --lora)");
                System.out.println("metrics: " + out.resolve("metrics.csv") + ", plot: " + out.resolve("loss.png"));
            }
        }
        return 0;
    }
}
