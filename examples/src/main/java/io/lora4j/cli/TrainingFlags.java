package io.lora4j.cli;

import io.lora4j.lora.LoraConfig;
import io.lora4j.lora.LoraTarget;
import io.lora4j.train.OptimizerConfig;
import io.lora4j.train.TrainingOptions;
import io.lora4j.train.schedule.SchedulerType;
import io.lora4j.train.schedule.Warmup;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * The LoRA, optimizer and run flags shared by {@code train}, {@code rl} and {@code dpo}. Every
 * flag can also come from {@code --config FILE} (lines {@code lora-r = 16}, the flag without dashes).
 */
final class TrainingFlags {
    @Option(names = "--lora-r", defaultValue = "8", description = "LoRA rank (default 8)")
    int rank;

    @Option(names = "--lora-alpha", defaultValue = "16", description = "LoRA alpha (default 16)")
    double alpha;

    @Option(names = "--lora-dropout", defaultValue = "0", description = "dropout on the LoRA input (default 0)")
    double dropout;

    @Option(names = "--lora-targets", defaultValue = "q,k,v,o,gate,up,down",
            description = "projections to adapt: q,k,v,o,gate,up,down (or q_proj…, all)")
    String targets;

    @Option(names = "--lora-layers", description = "adapt layers FROM:TO (TO exclusive), e.g. 4:8")
    String layers;

    @Option(names = "--rslora", description = "scale by alpha/sqrt(r) instead of alpha/r")
    boolean rslora;

    @Option(names = "--lora-init", defaultValue = "peft", description = "peft (Kaiming A, zero B) or gaussian")
    String init;

    @Option(names = "--lora-bias", defaultValue = "none", description = "none, lora_only or all")
    String bias;

    @Option(names = "--epochs", defaultValue = "1", description = "passes over the data (default 1)")
    int epochs;

    @Option(names = "--max-steps", defaultValue = "0", description = "stop after N optimizer steps (overrides --epochs)")
    int maxSteps;

    @Option(names = "--batch-size", defaultValue = "4", description = "sequences per micro-batch (default 4)")
    int batchSize;

    @Option(names = "--grad-accum", defaultValue = "1", description = "micro-batches per optimizer step (default 1)")
    int gradAccum;

    @Option(names = "--lr", defaultValue = "2e-4", description = "peak learning rate (default 2e-4)")
    double lr;

    @Option(names = "--scheduler", defaultValue = "linear", description = "constant, linear or cosine (default linear)")
    String scheduler;

    @Option(names = "--warmup-ratio", defaultValue = "0", description = "warmup as a fraction of the steps (default 0)")
    double warmupRatio;

    @Option(names = "--warmup-steps", defaultValue = "0", description = "warmup steps (overrides --warmup-ratio)")
    int warmupSteps;

    @Option(names = "--optimizer", defaultValue = "adamw", description = "adamw or sgd")
    String optimizer;

    @Option(names = "--momentum", defaultValue = "0.9", description = "SGD momentum (default 0.9)")
    double momentum;

    @Option(names = "--weight-decay", defaultValue = "0", description = "decoupled weight decay (default 0)")
    double weightDecay;

    @Option(names = "--max-grad-norm", defaultValue = "1.0", description = "clip the gradient norm; 0 = off (default 1)")
    double maxGradNorm;

    @Option(names = "--ctx", defaultValue = "0", description = "tokens per sequence (default min(model context, 512))")
    int ctx;

    @Option(names = "--truncate", description = "cut examples longer than --ctx instead of failing")
    boolean truncate;

    @Option(names = "--no-packing", description = "one example per row (default: pack several, kept apart)")
    boolean noPacking;

    @Option(names = "--seed", defaultValue = "42", description = "seed for data order, init and dropout")
    long seed;

    @Option(names = "--eval-split", defaultValue = "0", description = "fraction of records held out for eval loss")
    double evalSplit;

    @Option(names = "--eval-every", defaultValue = "0", description = "evaluate every N steps (0: at the end)")
    int evalEvery;

    @Option(names = "--log-every", defaultValue = "1", description = "one metrics row every N steps (default 1)")
    int logEvery;

    @Option(names = "--save-every", defaultValue = "0", description = "checkpoint every N steps (and at the end)")
    int saveEvery;

    @Option(names = "--resume", description = "continue from a checkpoint directory (OUTDIR/checkpoints/step-N)")
    Path resume;

    @Option(names = "--checkpointing", description = "recompute activations per layer to bound memory")
    boolean checkpointing;

    @Option(names = {"-t", "--threads"}, defaultValue = "0", description = "threads (0 = all cores)")
    int threads;

    @Mixin
    DeviceOption device;

    @Option(names = "--config", description = "read defaults for these flags from a file (key = value lines)")
    Path config;

    LoraConfig lora() {
        LoraConfig.Builder b = LoraConfig.builder().rank(rank).alpha(alpha).dropout(dropout)
                .targets(LoraTarget.parse(targets)).rslora(rslora).seed(seed)
                .init(LoraConfig.Init.valueOf(init.trim().toUpperCase()))
                .bias(LoraConfig.Bias.valueOf(bias.trim().toUpperCase()));
        if (layers != null) {
            String[] parts = layers.split(":");
            if (parts.length != 2) throw new IllegalArgumentException("--lora-layers expects FROM:TO, got " + layers);
            b.layers(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()));
        }
        return b.build();
    }

    TrainingOptions.Builder options(Path outputDir) {
        OptimizerConfig opt = switch (optimizer.trim().toLowerCase()) {
            case "adamw" -> OptimizerConfig.adamw();
            case "sgd" -> OptimizerConfig.sgd(momentum);
            default -> throw new IllegalArgumentException("--optimizer must be adamw or sgd, got " + optimizer);
        };
        return TrainingOptions.builder().epochs(epochs).maxSteps(maxSteps).batchSize(batchSize)
                .gradientAccumulation(gradAccum).learningRate(lr).scheduler(SchedulerType.parse(scheduler))
                .warmup(warmupSteps > 0 ? Warmup.steps(warmupSteps) : Warmup.ratio(warmupRatio))
                .optimizer(opt.withWeightDecay(weightDecay).withMaxGradNorm(maxGradNorm)).contextLength(ctx)
                .truncate(truncate).packing(!noPacking).seed(seed).evalSplit(evalSplit).evalEvery(evalEvery)
                .logEvery(logEvery).saveEvery(saveEvery).outputDir(outputDir).resume(resume)
                .checkpointing(checkpointing).threads(threads).device(device.device);
    }
}
