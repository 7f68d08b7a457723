package io.lora4j.train.rl;

import io.lora4j.train.OptimizerConfig;
import io.lora4j.train.TrainingOptions;
import io.lora4j.train.metrics.TrainingListener;
import io.lora4j.train.schedule.SchedulerType;
import io.lora4j.train.schedule.Warmup;

import java.nio.file.Path;

/**
 * The run settings GRPO/RLOO and DPO share with supervised training (schedule, optimizer,
 * logging, checkpoints), as fluent setters over {@link TrainingOptions}.
 */
public abstract sealed class RunSettings<T extends RunSettings<T>> permits GrpoTrainer, DpoTrainer {
    TrainingOptions.Builder options = TrainingOptions.builder();

    /** The settings, refusing those that do not apply to these trainers. */
    TrainingOptions settings() {
        TrainingOptions o = options.build();
        if (o.evalSplit() > 0 || o.evalEvery() > 0) {
            throw new IllegalArgumentException("held-out evaluation (eval split / eval every) applies to supervised training only");
        }
        return o;
    }

    @SuppressWarnings("unchecked")
    private T self() {
        return (T) this;
    }

    /** Replaces every run setting at once (the command line builds them this way). */
    public T options(TrainingOptions.Builder all) { options = all; return self(); }
    public T epochs(int n) { options.epochs(n); return self(); }
    /** Stop after this many optimizer steps (overrides epochs); 0 = use epochs. */
    public T steps(int n) { options.maxSteps(n); return self(); }
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
    /** Tokens per trainer row (default: what the data needs, at most the model's context). */
    public T contextLength(int n) { options.contextLength(n); return self(); }
    /** Pack several sequences into one trainer row (attention never crosses them). Default on. */
    public T packing(boolean p) { options.packing(p); return self(); }
    public T seed(long s) { options.seed(s); return self(); }
    public T logEvery(int n) { options.logEvery(n); return self(); }
    public T saveEvery(int n) { options.saveEvery(n); return self(); }
    public T outputDir(Path dir) { options.outputDir(dir); return self(); }
    /** Resume from a checkpoint directory (…/checkpoints/step-N) of the same kind of run. */
    public T resume(Path checkpoint) { options.resume(checkpoint); return self(); }
    /** Recompute activations per layer in backward, to bound memory. */
    public T checkpointing(boolean c) { options.checkpointing(c); return self(); }
    public T threads(int n) { options.threads(n); return self(); }
    public T listener(TrainingListener l) { options.listener(l); return self(); }
    public T progress(boolean p) { options.progress(p); return self(); }
}
