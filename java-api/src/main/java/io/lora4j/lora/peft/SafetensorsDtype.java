package io.lora4j.lora.peft;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** The safetensors element types lora4j reads and writes (little-endian, as the format fixes). */
public enum SafetensorsDtype {
    F32(4), F16(2), BF16(2);

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort U16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int bytes;

    SafetensorsDtype(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    /** The dtype named {@code name} in a header, or null when lora4j does not handle it. */
    static SafetensorsDtype fromHeader(String name) {
        for (SafetensorsDtype d : values()) if (d.name().equals(name)) return d;
        return null;
    }

    /** Element {@code i} of {@code src} (stored in this dtype) as f32. */
    float read(MemorySegment src, long i) {
        return switch (this) {
            case F32 -> src.get(F32_LE, i * 4);
            case F16 -> Float.float16ToFloat(src.get(U16_LE, i * 2));
            case BF16 -> Float.intBitsToFloat((src.get(U16_LE, i * 2) & 0xffff) << 16);
        };
    }

    /** Stores {@code v} as element {@code i} of {@code dst}, rounding to nearest even. */
    void write(MemorySegment dst, long i, float v) {
        switch (this) {
            case F32 -> dst.set(F32_LE, i * 4, v);
            case F16 -> dst.set(U16_LE, i * 2, Float.floatToFloat16(v));
            case BF16 -> dst.set(U16_LE, i * 2, toBf16(v));
        }
    }

    private static short toBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        if (Float.isNaN(v)) return (short) ((bits >>> 16) | 0x0040); // stay a (quiet) NaN
        int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }
}
