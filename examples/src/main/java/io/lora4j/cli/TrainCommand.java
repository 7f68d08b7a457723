package io.lora4j.cli;

import io.lora4j.Model;
import io.lora4j.ModelOptions;
import io.lora4j.train.ClassificationRun;
import io.lora4j.train.ClassifierHead;
import io.lora4j.train.SftTrainer;
import io.lora4j.train.TrainingRun;
import io.lora4j.train.data.Dataset;
import io.lora4j.train.data.RecordShape;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;

/**
 * {@code lora4j train}: supervised fine-tuning with LoRA (or full fine-tuning) from a JSONL file,
 * or, with {@code --task classify}, sequence classification from {"text","label"} records.
 */
@Command(name = "train", description = "Fine-tune a model on a JSONL dataset ({\"text\"}, {\"prompt\",\"completion\"} "
        + "or {\"messages\"}); writes OUTDIR/adapter.gguf, metrics.csv, loss.png, checkpoints/. With --task classify: "
        + "{\"text\",\"label\"} records, a classification head trained with the adapter (OUTDIR/classifier.gguf).")
final class TrainCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, description = "base GGUF model")
    Path model;

    @Option(names = "--data", required = true, description = "training data (JSONL)")
    Path data;

    @Option(names = {"-o", "--output"}, required = true, description = "output directory")
    Path output;

    @Option(names = "--task", defaultValue = "causal-lm",
            description = "causal-lm (default) or classify ({\"text\",\"label\"} records)")
    String task;

    @Option(names = "--full", description = "full fine-tuning of an f32/f16 model instead of LoRA")
    boolean full;

    @Option(names = "--freeze-layers", defaultValue = "0", description = "with --full: keep the first N layers frozen")
    int freezeLayers;

    @Mixin
    TrainingFlags flags;

    @Override
    public Integer call() {
        boolean classify = switch (task.trim().toLowerCase(Locale.ROOT)) {
            case "causal-lm", "causal_lm" -> false;
            case "classify", "seq-cls", "seq_cls" -> true;
            default -> throw new IllegalArgumentException("--task must be causal-lm or classify, got " + task);
        };
        if (classify && full) throw new IllegalArgumentException("--task classify trains a LoRA adapter; --full is not supported");
        Dataset dataset = classify ? Dataset.jsonl(data, RecordShape.CLASSIFICATION) : Dataset.jsonl(data);
        if (!classify && dataset.shape() == RecordShape.CLASSIFICATION) {
            throw new IllegalArgumentException(data + " holds {\"text\",\"label\"} records: train a classifier with "
                    + "--task classify");
        }
        try (Model m = Model.load(model, ModelOptions.builder().threads(flags.threads).build())) {
            if (classify) return classify(m, dataset);
            SftTrainer trainer = full ? m.fullFineTune(dataset).freezeLayers(freezeLayers) : m.lora(flags.lora()).sft(dataset);
            try (TrainingRun run = trainer.options(flags.options(output)).train()) {
                System.out.printf("trained %d steps; final loss %.4f%n", run.steps(), run.last("loss"));
                System.out.println("wrote " + output.resolve(full ? "model.gguf" : "adapter.gguf") + ", "
                        + output.resolve("metrics.csv") + ", " + output.resolve("loss.png"));
            }
        }
        return 0;
    }

    private int classify(Model m, Dataset dataset) {
        try (ClassificationRun run = m.lora(flags.lora()).classifier(dataset).options(flags.options(output)).train()) {
            System.out.println("labels: " + run.head().labels());
            System.out.printf(Locale.ROOT, "accuracy (training data): %.4f before, %.4f after%n", run.accuracyBefore(),
                    run.accuracyAfter());
            OptionalDouble before = run.evalAccuracyBefore(), after = run.evalAccuracyAfter();
            if (after.isPresent()) {
                System.out.printf(Locale.ROOT, "held-out accuracy: %.4f before, %.4f after%n", before.orElseThrow(),
                        after.getAsDouble());
            }
            System.out.printf(Locale.ROOT, "trained %d steps; final loss %.4f%n", run.training().steps(),
                    run.training().last("loss"));
            System.out.println("wrote " + output.resolve("adapter.gguf") + ", " + output.resolve(ClassifierHead.FILE_NAME)
                    + ", " + output.resolve("metrics.csv") + ", " + output.resolve("loss.png"));
            System.out.println("note: adapter.gguf (llama.cpp's LoRA format) cannot carry the classification head; "
                    + "classify with both files (io.lora4j.train.Classifier), or export adapter and head to PEFT");
        }
        return 0;
    }
}
