package io.lora4j.train;

import io.lora4j.Device;

import java.util.Objects;

/**
 * The fixed shape of a native trainer: micro-batches of {@code rows} sequences of {@code seqLen}
 * tokens; checkpointing recomputes activations per layer in backward to bound memory.
 *
 * @param full full fine-tuning of the model's f32/f16 weights instead of an adapter
 * @param freezeLayers with full fine-tuning, the first layers (and the embedding) stay frozen
 * @param labels 0 for causal-LM training; at least 2 for sequence classification (a head of that
 *     many classes on each segment's last token replaces the LM head)
 * @param device where the trainer computes; a GPU trains LoRA adapters of causal LMs only (the
 *     engine refuses full fine-tuning and classification there, saying so)
 */
public record TrainerShape(int rows, int seqLen, int threads, boolean checkpointing, boolean full, int freezeLayers,
                           long seed, int labels, Device device) {
    public TrainerShape {
        if (rows < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + rows);
        if (seqLen < 2) throw new IllegalArgumentException("sequence length must be >= 2, got " + seqLen);
        if (threads < 0) throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        if (freezeLayers < 0) throw new IllegalArgumentException("freeze layers must be >= 0, got " + freezeLayers);
        if (labels < 0 || labels == 1) throw new IllegalArgumentException("labels must be 0 or >= 2, got " + labels);
        Objects.requireNonNull(device, "device");
    }

    /** A trainer's shape on the CPU. */
    public TrainerShape(int rows, int seqLen, int threads, boolean checkpointing, boolean full, int freezeLayers,
                        long seed, int labels) {
        this(rows, seqLen, threads, checkpointing, full, freezeLayers, seed, labels, Device.cpu());
    }

    /** A causal-LM trainer's shape on the CPU. */
    public TrainerShape(int rows, int seqLen, int threads, boolean checkpointing, boolean full, int freezeLayers,
                        long seed) {
        this(rows, seqLen, threads, checkpointing, full, freezeLayers, seed, 0);
    }
}
