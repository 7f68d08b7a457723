package io.lora4j.cli;

import io.lora4j.Model;
import io.lora4j.ModelOptions;
import io.lora4j.train.LoraSession;
import io.lora4j.train.TrainingRun;
import io.lora4j.train.data.Dataset;
import io.lora4j.train.metrics.StepMetrics;
import io.lora4j.train.rl.DpoLoss;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code lora4j dpo}: direct preference optimisation on {"prompt","chosen","rejected"} JSONL. */
@Command(name = "dpo", description = "Preference training (DPO) of a LoRA adapter on {\"prompt\",\"chosen\",\"rejected\"} "
        + "JSONL; writes OUTDIR/adapter.gguf, metrics.csv, loss.png, checkpoints/.")
final class DpoCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, description = "base GGUF model")
    Path model;

    @Option(names = "--data", required = true, description = "preference pairs (JSONL)")
    Path data;

    @Option(names = {"-o", "--output"}, required = true, description = "output directory")
    Path output;

    @Option(names = "--beta", defaultValue = "0.1", description = "how far the policy may move from the reference (default 0.1)")
    double beta;

    @Option(names = "--loss", defaultValue = "sigmoid", description = "sigmoid or ipo (default sigmoid)")
    String loss;

    @Option(names = "--label-smoothing", defaultValue = "0", description = "probability a label is flipped (cDPO), in [0, 0.5)")
    double labelSmoothing;

    @Option(names = "--lora", description = "start from this adapter (it stays frozen as part of the reference)")
    Path lora;

    @Mixin
    TrainingFlags flags;

    @Override
    public Integer call() {
        Dataset pairs = Dataset.jsonl(data);
        DpoLoss.Type type = switch (loss.trim().toLowerCase()) {
            case "sigmoid" -> DpoLoss.Type.SIGMOID;
            case "ipo" -> DpoLoss.Type.IPO;
            default -> throw new IllegalArgumentException("--loss must be sigmoid or ipo, got " + loss);
        };
        try (Model m = Model.load(model, ModelOptions.builder().threads(flags.threads).build());
             AdapterSet start = AdapterSet.load(m, lora == null ? List.of() : List.of(lora), 1f)) {
            LoraSession session = m.lora(flags.lora());
            if (lora != null) session.from(start.adapters().getFirst());
            try (TrainingRun run = session.dpo(pairs).options(flags.options(output)).beta(beta).lossType(type)
                    .labelSmoothing(labelSmoothing).train()) {
                System.out.printf("trained %d steps; final loss %.4f, accuracy %.3f, margin %.4f%n", run.steps(),
                        run.last(StepMetrics.LOSS), run.last("accuracy"), run.last("margin"));
                System.out.println("wrote " + output.resolve("adapter.gguf") + ", " + output.resolve("metrics.csv") + ", "
                        + output.resolve("loss.png"));
            }
        }
        return 0;
    }
}
