package io.lora4j;

import io.lora4j.engine.Native;
import io.lora4j.internal.lora4j_h;
import io.lora4j.internal.lora4j_quantize_params;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/** Re-encodes a model file, as llama.cpp's llama-quantize (norms and biases stay F32). */
public final class ModelQuantizer {
    private ModelQuantizer() {}

    /** Writes {@code output} atomically; {@code threads} 0 means all cores. */
    public static void quantize(Path input, Path output, QuantizationScheme scheme, int threads) {
        if (threads < 0) throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = lora4j_h.lora4j_quantize_default_params(arena);
            lora4j_quantize_params.type(params, scheme.code());
            lora4j_quantize_params.n_threads(params, threads);
            Native.check(lora4j_h.lora4j_model_quantize(Native.cString(arena, input.toString()),
                    Native.cString(arena, output.toString()), params), "quantizing " + input + " to " + scheme);
        }
    }
}
