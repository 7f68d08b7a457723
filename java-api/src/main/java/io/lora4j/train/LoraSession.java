package io.lora4j.train;

import io.lora4j.Model;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.LoraConfig;
import io.lora4j.train.data.Dataset;
import io.lora4j.train.rl.DpoTrainer;
import io.lora4j.train.rl.GrpoTrainer;

/**
 * A model with a LoRA configuration, ready to be trained: {@code model.lora(config).sft(data)…},
 * {@code .classifier(data)…}, {@code .grpo(prompts)…}, {@code .rloo(prompts)…} or {@code .dpo(pairs)…}.
 * Trainers started from here create a fresh adapter, or start {@link #from(Adapter)} an existing one.
 */
public final class LoraSession {
    private final Model model;
    private final LoraConfig config;
    private Adapter start;

    public LoraSession(Model model, LoraConfig config) {
        this.model = model;
        this.config = config;
    }

    /**
     * Start from an existing adapter (the caller keeps it). SFT continues training it. GRPO, RLOO
     * and DPO keep it frozen as part of their reference (base + this adapter) and train a fresh
     * adapter of this session's configuration on top; their result merges both into one adapter.
     */
    public LoraSession from(Adapter adapter) {
        this.start = adapter;
        return this;
    }

    /** Supervised fine-tuning on {"text"}, {"prompt","completion"} or {"messages"} records. */
    public SftTrainer sft(Dataset dataset) {
        return new SftTrainer(model, config, start, dataset);
    }

    /** Sequence classification on {"text","label"} records: a head trained with the adapter. */
    public ClassificationTrainer classifier(Dataset dataset) {
        return new ClassificationTrainer(model, config, start, dataset);
    }

    /**
     * GRPO on {"prompt", …} records: {@code .grpo(prompts).reward(fn).groupSize(8).beta(0.04)
     * .clip(0.2).steps(200).train()}. The KL reference is the model without the trained adapter.
     */
    public GrpoTrainer grpo(Dataset prompts) {
        return new GrpoTrainer(model, config, start, prompts, false);
    }

    /** RLOO (REINFORCE with a leave-one-out baseline) on {"prompt", …} records, on GRPO's machinery. */
    public GrpoTrainer rloo(Dataset prompts) {
        return new GrpoTrainer(model, config, start, prompts, true);
    }

    /** DPO on {"prompt","chosen","rejected"} records: {@code .dpo(pairs).beta(0.1).train()}. */
    public DpoTrainer dpo(Dataset pairs) {
        return new DpoTrainer(model, config, start, pairs);
    }
}
