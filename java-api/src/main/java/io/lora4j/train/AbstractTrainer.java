package io.lora4j.train;

import io.lora4j.Device;
import io.lora4j.train.metrics.TrainingListener;
import io.lora4j.train.schedule.SchedulerType;
import io.lora4j.train.schedule.Warmup;

import java.nio.file.Path;

/**
 * The run settings every trainer configures fluently (schedule, optimizer, batching, logging,
 * checkpoints), collected into a {@link TrainingOptions.Builder}.
 *
 * @param <T> the concrete trainer, returned by every setter
 */
public abstract class AbstractTrainer<T extends AbstractTrainer<T>> {
    protected TrainingOptions.Builder options = TrainingOptions.builder();

    protected AbstractTrainer() {}

    @SuppressWarnings("unchecked")
    private T self() {
        return (T) this;
    }

    /** Replaces every run setting at once (the command line builds them this way). */
    public T options(TrainingOptions.Builder all) { options = all; return self(); }
    public T epochs(int n) { options.epochs(n); return self(); }
    /** Stop after this many optimizer steps (overrides epochs); 0 = use epochs. */
    public T maxSteps(int n) { options.maxSteps(n); return self(); }
    public T batchSize(int n) { options.batchSize(n); return self(); }
    public T gradientAccumulation(int n) { options.gradientAccumulation(n); return self(); }
    public T learningRate(double lr) { options.learningRate(lr); return self(); }
    public T scheduler(SchedulerType t) { options.scheduler(t); return self(); }
    public T constant() { return scheduler(SchedulerType.CONSTANT); }
    public T linear() { return scheduler(SchedulerType.LINEAR); }
    public T cosine() { return scheduler(SchedulerType.COSINE); }
    public T warmupRatio(double r) { options.warmup(Warmup.ratio(r)); return self(); }
    public T warmupSteps(int n) { options.warmup(Warmup.steps(n)); return self(); }
    public T optimizer(OptimizerConfig o) { options.optimizer(o); return self(); }
    public T weightDecay(double wd) { options.weightDecay(wd); return self(); }
    public T maxGradNorm(double n) { options.maxGradNorm(n); return self(); }
    /** Tokens per sequence (batch row); longer examples are an error unless {@link #truncate}. */
    public T contextLength(int n) { options.contextLength(n); return self(); }
    public T truncate(boolean t) { options.truncate(t); return self(); }
    /** Pack several examples into one row (attention never crosses them). Default on. */
    public T packing(boolean p) { options.packing(p); return self(); }
    public T seed(long s) { options.seed(s); return self(); }
    /** Hold out this fraction of the records for evaluation. */
    public T evalSplit(double f) { options.evalSplit(f); return self(); }
    /** Evaluate every n steps (0: only at the end). */
    public T evalEvery(int n) { options.evalEvery(n); return self(); }
    public T logEvery(int n) { options.logEvery(n); return self(); }
    public T saveEvery(int n) { options.saveEvery(n); return self(); }
    public T outputDir(Path dir) { options.outputDir(dir); return self(); }
    /** Resume from a checkpoint directory (…/checkpoints/step-N). */
    public T resume(Path checkpoint) { options.resume(checkpoint); return self(); }
    /** Recompute activations per layer in backward, to bound memory. */
    public T checkpointing(boolean c) { options.checkpointing(c); return self(); }
    public T threads(int n) { options.threads(n); return self(); }
    public T listener(TrainingListener l) { options.listener(l); return self(); }
    public T progress(boolean p) { options.progress(p); return self(); }
    /** Where training runs: {@link Device#cpu()} (default) or a CUDA device (LoRA, RL and DPO steps). */
    public T device(Device d) { options.device(d); return self(); }
}
