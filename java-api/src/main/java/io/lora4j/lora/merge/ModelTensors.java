package io.lora4j.lora.merge;

import io.lora4j.TensorInfo;
import io.lora4j.TensorType;
import io.lora4j.engine.Native;
import io.lora4j.gguf.GgufFile;
import io.lora4j.internal.lora4j_h;
import io.lora4j.lora.LoraPair;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/** Base-model tensors as f32 and back, for merging adapters and converting their biases. */
public final class ModelTensors {
    private ModelTensors() {}

    /** The GGUF name of the bias next to a pair's weight ("blk.3.attn_q.weight" -> "blk.3.attn_q.bias"). */
    public static String biasName(LoraPair pair) {
        String w = pair.baseName();
        if (!w.endsWith(".weight")) throw new IllegalArgumentException("adapted tensor '" + w + "' is not a weight");
        return w.substring(0, w.length() - ".weight".length()) + ".bias";
    }

    /** Tensor {@code name} of {@code file}, which must have ggml shape {@code shape}. */
    public static TensorInfo require(GgufFile file, String name, long... shape) {
        TensorInfo t = file.tensor(name).orElseThrow(() -> new IllegalArgumentException(
                "the base model " + file.path() + " has no tensor '" + name + "'"));
        if (!Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException("tensor '" + name + "' of " + file.path() + " has shape "
                    + Arrays.toString(t.shape()) + ", the adapter expects " + Arrays.toString(shape));
        }
        return t;
    }

    /** All values of {@code t} dequantized to f32, in {@code arena}. */
    public static MemorySegment dequantize(GgufFile file, TensorInfo t, Arena arena) {
        if (!t.type().supported()) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' is " + t.type() + ", which lora4j cannot dequantize");
        }
        long n = t.elementCount();
        MemorySegment src = file.tensorData(t.name());
        MemorySegment dst = arena.allocate(ValueLayout.JAVA_FLOAT, n);
        Native.check(lora4j_h.lora4j_dequantize(t.type().id(), src, src.byteSize(), dst, n),
                "dequantizing '" + t.name() + "'");
        return dst;
    }

    /** All values of {@code t} as a Java array of f32 (for small tensors: biases). */
    public static float[] floats(GgufFile file, TensorInfo t) {
        try (Arena arena = Arena.ofConfined()) {
            return dequantize(file, t, arena).toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    /** Encodes {@code rows} rows of {@code rowLength} f32 values as {@code type}, in {@code arena}. */
    public static MemorySegment encode(TensorType type, MemorySegment f32, long rowLength, long rows, Arena arena) {
        if (type == TensorType.F32) return f32;
        long rowBytes = lora4j_h.lora4j_row_bytes(type.id(), rowLength);
        if (rowBytes < 0) Native.check(lora4j_h.LORA4J_ERR_INVALID_ARGUMENT(), "encoding rows of " + rowLength + " as " + type);
        MemorySegment dst = arena.allocate(rowBytes * rows, 32);
        Native.check(lora4j_h.lora4j_quantize(type.id(), f32, rows, rowLength, dst, dst.byteSize()),
                "encoding " + rows + " rows as " + type);
        return dst;
    }
}
