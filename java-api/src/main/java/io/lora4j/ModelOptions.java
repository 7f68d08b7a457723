package io.lora4j;

import java.util.Objects;
import java.util.Optional;

/**
 * How to load a model. {@code quantizeTo} re-encodes the 2-D weights at load time (the
 * load_in_4bit idea: an F16/F32 file becomes a Q4_0/Q4_K/… model in memory). {@code device} is
 * where the model's own generation ({@link Model#generate}, {@link Model#chat}) runs; trainers
 * choose theirs in their options.
 */
public record ModelOptions(int threads, Optional<TensorType> quantizeTo, boolean vocabOnly, Device device) {
    public ModelOptions {
        Objects.requireNonNull(device, "device");
        if (threads < 0) throw new IllegalArgumentException("threads must be >= 0 (0 = all cores), got " + threads);
        quantizeTo.ifPresent(t -> {
            if (!t.supported()) throw new IllegalArgumentException("cannot quantize to unsupported type " + t);
        });
    }

    public static ModelOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private int threads;
        private TensorType quantizeTo;
        private boolean vocabOnly;
        private Device device = Device.cpu();

        public Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        public Builder quantizeTo(TensorType type) {
            this.quantizeTo = type;
            return this;
        }

        /**
         * Read only the hyper-parameters and the tokenizer, skipping the weights (a file without
         * tensors always loads as vocab-only).
         */
        public Builder vocabOnly(boolean vocabOnly) {
            this.vocabOnly = vocabOnly;
            return this;
        }

        /** Where the model's own generation runs (default: the CPU). */
        public Builder device(Device device) {
            this.device = device;
            return this;
        }

        public ModelOptions build() {
            return new ModelOptions(threads, Optional.ofNullable(quantizeTo), vocabOnly, device);
        }
    }
}
