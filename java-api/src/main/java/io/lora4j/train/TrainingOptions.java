package io.lora4j.train;

import io.lora4j.Device;
import io.lora4j.train.metrics.TrainingListener;
import io.lora4j.train.schedule.SchedulerType;
import io.lora4j.train.schedule.Warmup;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Settings shared by every trainer (SFT, DPO, GRPO): schedule, optimizer, batching, logging,
 * checkpoints, the device. Defaults follow Hugging Face's Trainer where it has one (linear
 * schedule, no warmup, max grad norm 1, AdamW), with lr 2e-4 as usual for LoRA; the CPU.
 */
public record TrainingOptions(int epochs, int maxSteps, int batchSize, int gradientAccumulation, double learningRate,
                              SchedulerType scheduler, Warmup warmup, OptimizerConfig optimizer, int contextLength,
                              boolean truncate, boolean packing, long seed, double evalSplit, int evalEvery,
                              int logEvery, int saveEvery, Path outputDir, Path resume, boolean checkpointing,
                              int threads, List<TrainingListener> listeners, boolean progress, Device device) {
    public TrainingOptions {
        require(epochs >= 1, "epochs must be >= 1, got " + epochs);
        require(maxSteps >= 0, "max steps must be >= 0, got " + maxSteps);
        require(batchSize >= 1, "batch size must be >= 1, got " + batchSize);
        require(gradientAccumulation >= 1, "gradient accumulation must be >= 1, got " + gradientAccumulation);
        require(learningRate > 0 && Double.isFinite(learningRate), "learning rate must be > 0, got " + learningRate);
        require(contextLength >= 0, "context length must be >= 0, got " + contextLength);
        require(evalSplit >= 0 && evalSplit < 1, "eval split must be in [0, 1), got " + evalSplit);
        require(evalEvery >= 0 && logEvery >= 1 && saveEvery >= 0, "evalEvery/saveEvery must be >= 0, logEvery >= 1");
        require(threads >= 0, "threads must be >= 0, got " + threads);
        listeners = List.copyOf(listeners);
        Objects.requireNonNull(device, "device");
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private int epochs = 1;
        private int maxSteps;
        private int batchSize = 4;
        private int gradientAccumulation = 1;
        private double learningRate = 2e-4;
        private SchedulerType scheduler = SchedulerType.LINEAR;
        private Warmup warmup = Warmup.none();
        private OptimizerConfig optimizer = OptimizerConfig.adamw();
        private int contextLength;
        private boolean truncate;
        private boolean packing = true;
        private long seed = 42;
        private double evalSplit;
        private int evalEvery;
        private int logEvery = 1;
        private int saveEvery;
        private Path outputDir;
        private Path resume;
        private boolean checkpointing;
        private int threads;
        private final List<TrainingListener> listeners = new ArrayList<>();
        private boolean progress = true;
        private Device device = Device.cpu();

        public Builder epochs(int v) { epochs = v; return this; }
        public Builder maxSteps(int v) { maxSteps = v; return this; }
        public Builder batchSize(int v) { batchSize = v; return this; }
        public Builder gradientAccumulation(int v) { gradientAccumulation = v; return this; }
        public Builder learningRate(double v) { learningRate = v; return this; }
        public Builder scheduler(SchedulerType v) { scheduler = v; return this; }
        public Builder warmup(Warmup v) { warmup = v; return this; }
        public Builder optimizer(OptimizerConfig v) { optimizer = v; return this; }
        public Builder weightDecay(double v) { optimizer = optimizer.withWeightDecay(v); return this; }
        public Builder maxGradNorm(double v) { optimizer = optimizer.withMaxGradNorm(v); return this; }
        public Builder contextLength(int v) { contextLength = v; return this; }
        public Builder truncate(boolean v) { truncate = v; return this; }
        public Builder packing(boolean v) { packing = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder evalSplit(double v) { evalSplit = v; return this; }
        public Builder evalEvery(int v) { evalEvery = v; return this; }
        public Builder logEvery(int v) { logEvery = v; return this; }
        public Builder saveEvery(int v) { saveEvery = v; return this; }
        public Builder outputDir(Path v) { outputDir = v; return this; }
        public Builder resume(Path v) { resume = v; return this; }
        public Builder checkpointing(boolean v) { checkpointing = v; return this; }
        public Builder threads(int v) { threads = v; return this; }
        public Builder listener(TrainingListener v) { listeners.add(v); return this; }
        public Builder progress(boolean v) { progress = v; return this; }
        /** Where training (and GRPO's sampling) runs: the CPU (default) or a CUDA device. */
        public Builder device(Device v) { device = v; return this; }

        public TrainingOptions build() {
            return new TrainingOptions(epochs, maxSteps, batchSize, gradientAccumulation, learningRate, scheduler,
                    warmup, optimizer, contextLength, truncate, packing, seed, evalSplit, evalEvery, logEvery,
                    saveEvery, outputDir, resume, checkpointing, threads, listeners, progress, device);
        }
    }
}
