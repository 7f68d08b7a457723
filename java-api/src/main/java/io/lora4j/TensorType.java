package io.lora4j;

import io.lora4j.engine.Native;
import io.lora4j.internal.lora4j_h;

import java.lang.foreign.MemorySegment;
import java.util.Locale;

/** ggml tensor types (ids as in ggml.h, block layouts bit-compatible with ggml). */
public enum TensorType {
    F32(0), F16(1), Q4_0(2), Q4_1(3), Q5_0(6), Q5_1(7), Q8_0(8), Q8_1(9),
    Q2_K(10), Q3_K(11), Q4_K(12), Q5_K(13), Q6_K(14), Q8_K(15),
    IQ2_XXS(16), IQ2_XS(17), IQ3_XXS(18), IQ1_S(19), IQ4_NL(20), IQ3_S(21), IQ2_S(22), IQ4_XS(23),
    I8(24), I16(25), I32(26), I64(27), F64(28), IQ1_M(29), BF16(30), TQ1_0(34), TQ2_0(35);

    private final int id;

    TensorType(int id) {
        this.id = id;
    }

    public int id() {
        return id;
    }

    /** Elements per block (1 for plain types). */
    public long blockSize() {
        return lora4j_h.lora4j_type_block_size(id);
    }

    /** Bytes per block. */
    public long blockBytes() {
        return lora4j_h.lora4j_type_block_bytes(id);
    }

    /** Whether the engine can dequantize, quantize and multiply with this type. */
    public boolean supported() {
        return lora4j_h.lora4j_type_supported(id) != 0;
    }

    /** ggml's lower-case name, e.g. "q4_K". */
    public String ggmlName() {
        MemorySegment name = lora4j_h.lora4j_type_name(id);
        return name.equals(MemorySegment.NULL) ? name().toLowerCase(Locale.ROOT) : Native.cString(name);
    }

    public static TensorType fromId(int id) {
        for (TensorType t : values()) {
            if (t.id == id) return t;
        }
        throw new Lora4jException(-1, "unknown ggml tensor type id " + id);
    }

    /** Parses "Q4_K", "q4_k" or "q4_K". */
    public static TensorType parse(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        for (TensorType t : values()) {
            if (t.name().equals(n)) return t;
        }
        throw new IllegalArgumentException("unknown tensor type '" + name + "'; known: "
                + java.util.Arrays.toString(values()));
    }
}
