package io.lora4j.train;

import io.lora4j.Model;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.LoraConfig;
import io.lora4j.train.data.Dataset;

/**
 * A model with a LoRA configuration, ready to be trained: {@code model.lora(config).sft(data)…} or
 * {@code model.lora(config).classifier(data)…}.
 * Trainers started from here create a fresh adapter (or continue {@link #from(Adapter)}).
 */
public final class LoraSession {
    private final Model model;
    private final LoraConfig config;
    private Adapter start;

    public LoraSession(Model model, LoraConfig config) {
        this.model = model;
        this.config = config;
    }

    /** Continue training an existing adapter instead of a fresh one (the caller keeps it). */
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
}
