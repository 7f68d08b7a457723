package io.lora4j;

import io.lora4j.internal.lora4j_h;

import java.util.Locale;

/**
 * A target for re-encoding a model's weights: one tensor type for every 2-D weight, or one of
 * llama-quantize's per-tensor mixes (Q4_K_M, Q5_K_M).
 *
 * @param code the engine's code: a ggml type id or a {@code lora4j_quant_mix} value
 */
public record QuantizationScheme(String name, int code) {
    public static QuantizationScheme of(TensorType type) {
        if (!type.supported()) throw new IllegalArgumentException("the engine cannot encode " + type);
        return new QuantizationScheme(type.name(), type.id());
    }

    /** "Q4_0", "q8_0", "F16", "Q4_K_M", "Q5_K_M", … */
    public static QuantizationScheme parse(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        return switch (n) {
            case "Q4_K_M" -> new QuantizationScheme(n, lora4j_h.LORA4J_MIX_Q4_K_M());
            case "Q5_K_M" -> new QuantizationScheme(n, lora4j_h.LORA4J_MIX_Q5_K_M());
            default -> of(TensorType.parse(n));
        };
    }

    @Override
    public String toString() {
        return name;
    }
}
