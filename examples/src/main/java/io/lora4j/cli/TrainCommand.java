package io.lora4j.cli;

import io.lora4j.Model;
import io.lora4j.ModelOptions;
import io.lora4j.train.SftTrainer;
import io.lora4j.train.TrainingRun;
import io.lora4j.train.data.Dataset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code lora4j train}: supervised fine-tuning with LoRA (or full fine-tuning) from a JSONL file. */
@Command(name = "train", description = "Fine-tune a model on a JSONL dataset ({\"text\"}, {\"prompt\",\"completion\"} "
        + "or {\"messages\"}); writes OUTDIR/adapter.gguf, metrics.csv, loss.png, checkpoints/.")
final class TrainCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, description = "base GGUF model")
    Path model;

    @Option(names = "--data", required = true, description = "training data (JSONL)")
    Path data;

    @Option(names = {"-o", "--output"}, required = true, description = "output directory")
    Path output;

    @Option(names = "--full", description = "full fine-tuning of an f32/f16 model instead of LoRA")
    boolean full;

    @Option(names = "--freeze-layers", defaultValue = "0", description = "with --full: keep the first N layers frozen")
    int freezeLayers;

    @Mixin
    TrainingFlags flags;

    @Override
    public Integer call() {
        Dataset dataset = Dataset.jsonl(data);
        try (Model m = Model.load(model, ModelOptions.builder().threads(flags.threads).build())) {
            SftTrainer trainer = full ? m.fullFineTune(dataset).freezeLayers(freezeLayers) : m.lora(flags.lora()).sft(dataset);
            try (TrainingRun run = trainer.options(flags.options(output)).train()) {
                System.out.printf("trained %d steps; final loss %.4f%n", run.steps(), run.last("loss"));
                System.out.println("wrote " + output.resolve(full ? "model.gguf" : "adapter.gguf") + ", "
                        + output.resolve("metrics.csv") + ", " + output.resolve("loss.png"));
            }
        }
        return 0;
    }
}
