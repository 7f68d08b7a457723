package io.lora4j.train;

/** The memory a training run needs, in bytes, as the engine plans it before allocating. */
public record MemoryPlan(long weights, long trainable, long optimizer, long activations, long total) {
    @Override
    public String toString() {
        return String.format("weights %s, adapter+grads %s, optimizer %s, activations %s: total %s",
                mib(weights), mib(trainable), mib(optimizer), mib(activations), mib(total));
    }

    static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / 1048576.0);
    }
}
