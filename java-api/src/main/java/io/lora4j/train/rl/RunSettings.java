package io.lora4j.train.rl;

import io.lora4j.train.AbstractTrainer;
import io.lora4j.train.TrainingOptions;

/**
 * The run settings GRPO/RLOO and DPO share with supervised training (schedule, optimizer,
 * logging, checkpoints): {@link AbstractTrainer}'s setters, minus held-out evaluation.
 */
public abstract sealed class RunSettings<T extends RunSettings<T>> extends AbstractTrainer<T>
        permits GrpoTrainer, DpoTrainer {

    /** The settings, refusing those that do not apply to these trainers. */
    TrainingOptions settings() {
        TrainingOptions o = options.build();
        if (o.evalSplit() > 0 || o.evalEvery() > 0) {
            throw new IllegalArgumentException("held-out evaluation (eval split / eval every) applies to supervised training only");
        }
        return o;
    }

    /** Stop after this many optimizer steps (TRL's max_steps); the same as {@link #maxSteps}. */
    public T steps(int n) {
        return maxSteps(n);
    }
}
