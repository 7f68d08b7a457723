package io.lora4j.lora;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One adapted projection of an {@link Adapter}: A is [rank][nIn], B is [nOut][rank], row-major
 * (PEFT's lora_A / lora_B weights). The segments are the adapter's own memory: valid while it is
 * open, and writing them changes the adapter.
 *
 * @param biasDelta the trained bias delta [nOut], or {@link MemorySegment#NULL}
 */
public record LoraPair(String baseName, int layer, LoraTarget target, long nIn, long nOut, long rank,
                       MemorySegment a, MemorySegment b, MemorySegment biasDelta) {
    public float[] aValues() {
        return a.toArray(ValueLayout.JAVA_FLOAT);
    }

    public float[] bValues() {
        return b.toArray(ValueLayout.JAVA_FLOAT);
    }

    public boolean hasBias() {
        return !biasDelta.equals(MemorySegment.NULL);
    }
}
