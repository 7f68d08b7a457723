package io.lora4j.lora;

/** An adapter applied with a user scale (llama.cpp's --lora-scaled), on top of its alpha/r. */
public record ScaledAdapter(Adapter adapter, float scale) {
    public static ScaledAdapter of(Adapter adapter) {
        return new ScaledAdapter(adapter, 1f);
    }
}
