package io.lora4j.gguf;

import io.lora4j.TensorType;
import io.lora4j.engine.HandleGuard;
import io.lora4j.engine.Native;
import io.lora4j.internal.lora4j_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * Builds a GGUF file: metadata and tensors are collected by the engine and written in one go to
 * a temporary file that is renamed into place, so no half-written file is ever visible.
 */
public final class GgufWriter implements AutoCloseable {
    private final MemorySegment handle;
    private final HandleGuard guard = new HandleGuard("GGUF writer");

    public GgufWriter() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(lora4j_h.lora4j_gguf_writer_new(out), "creating GGUF writer");
            handle = out.get(ValueLayout.ADDRESS, 0);
        }
    }

    public GgufWriter putString(String key, String value) {
        guard.run(() -> {
            try (Arena arena = Arena.ofConfined()) {
                byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
                MemorySegment v = arena.allocate(Math.max(1, bytes.length));
                MemorySegment.copy(bytes, 0, v, ValueLayout.JAVA_BYTE, 0, bytes.length);
                Native.check(lora4j_h.lora4j_gguf_writer_set_string(handle, Native.cString(arena, key), v,
                        bytes.length), "setting '" + key + "'");
            }
        });
        return this;
    }

    public GgufWriter putUInt32(String key, long value) {
        return scalar(key, GgufValueType.UINT32, ValueLayout.JAVA_INT, (int) value);
    }

    public GgufWriter putInt32(String key, int value) {
        return scalar(key, GgufValueType.INT32, ValueLayout.JAVA_INT, value);
    }

    public GgufWriter putUInt64(String key, long value) {
        return scalar(key, GgufValueType.UINT64, ValueLayout.JAVA_LONG, value);
    }

    public GgufWriter putFloat32(String key, float value) {
        return scalar(key, GgufValueType.FLOAT32, ValueLayout.JAVA_FLOAT, value);
    }

    public GgufWriter putBool(String key, boolean value) {
        return scalar(key, GgufValueType.BOOL, ValueLayout.JAVA_BYTE, (byte) (value ? 1 : 0));
    }

    private GgufWriter scalar(String key, GgufValueType type, ValueLayout layout, Object value) {
        guard.run(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment v = arena.allocate(8);
                switch (layout) {
                    case ValueLayout.OfInt l -> v.set(l, 0, (Integer) value);
                    case ValueLayout.OfLong l -> v.set(l, 0, (Long) value);
                    case ValueLayout.OfFloat l -> v.set(l, 0, (Float) value);
                    case ValueLayout.OfByte l -> v.set(l, 0, (Byte) value);
                    default -> throw new IllegalArgumentException(layout.toString());
                }
                Native.check(lora4j_h.lora4j_gguf_writer_set_scalar(handle, Native.cString(arena, key),
                        type.id(), v), "setting '" + key + "'");
            }
        });
        return this;
    }

    public GgufWriter putStrings(String key, List<String> values) {
        guard.run(() -> {
            try (Arena arena = Arena.ofConfined()) {
                int n = values.size();
                MemorySegment ptrs = arena.allocate(ValueLayout.ADDRESS, Math.max(1, n));
                MemorySegment lens = arena.allocate(ValueLayout.JAVA_LONG, Math.max(1, n));
                for (int j = 0; j < n; j++) {
                    byte[] b = values.get(j).getBytes(StandardCharsets.UTF_8);
                    MemorySegment s = arena.allocate(Math.max(1, b.length));
                    MemorySegment.copy(b, 0, s, ValueLayout.JAVA_BYTE, 0, b.length);
                    ptrs.setAtIndex(ValueLayout.ADDRESS, j, s);
                    lens.setAtIndex(ValueLayout.JAVA_LONG, j, b.length);
                }
                Native.check(lora4j_h.lora4j_gguf_writer_set_string_array(handle, Native.cString(arena, key),
                        ptrs, lens, n), "setting '" + key + "'");
            }
        });
        return this;
    }

    public GgufWriter putFloats(String key, float[] values) {
        return array(key, GgufValueType.FLOAT32, MemorySegment.ofArray(values), values.length);
    }

    public GgufWriter putInts(String key, int[] values) {
        return array(key, GgufValueType.INT32, MemorySegment.ofArray(values), values.length);
    }

    private GgufWriter array(String key, GgufValueType elem, MemorySegment heap, long n) {
        guard.run(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment data = arena.allocate(Math.max(1, heap.byteSize()), 8);
                data.copyFrom(heap);
                Native.check(lora4j_h.lora4j_gguf_writer_set_array(handle, Native.cString(arena, key), elem.id(),
                        data, n), "setting '" + key + "'");
            }
        });
        return this;
    }

    /** Copies every metadata entry of {@code source}. */
    public GgufWriter putAll(GgufFile source) {
        guard.run(() -> source.withHandle(src -> {
            long n = lora4j_h.lora4j_gguf_n_kv(src);
            for (long i = 0; i < n; i++) {
                Native.check(lora4j_h.lora4j_gguf_writer_copy_kv(handle, src, i), "copying metadata");
            }
            return null;
        }));
        return this;
    }

    /** Adds a tensor of ggml shape {@code shape} (shape[0] contiguous); {@code data} is copied. */
    public GgufWriter addTensor(String name, TensorType type, long[] shape, MemorySegment data) {
        guard.run(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment ne = arena.allocateFrom(ValueLayout.JAVA_LONG, shape);
                MemorySegment src = data;
                if (!data.isNative()) {
                    src = arena.allocate(Math.max(1, data.byteSize()), 32);
                    src.copyFrom(data);
                }
                Native.check(lora4j_h.lora4j_gguf_writer_add_tensor(handle, Native.cString(arena, name), type.id(),
                        shape.length, ne, src, data.byteSize()), "adding tensor '" + name + "'");
            }
        });
        return this;
    }

    public GgufWriter addTensor(String name, long[] shape, float[] values) {
        return addTensor(name, TensorType.F32, shape, MemorySegment.ofArray(values));
    }

    /** Writes the file atomically (temp file in the same directory, then rename). */
    public void write(Path path) {
        guard.run(() -> {
            try (Arena arena = Arena.ofConfined()) {
                Native.check(lora4j_h.lora4j_gguf_writer_write(handle, Native.cString(arena, path.toString())),
                        "writing " + path);
            }
        });
    }

    @Override
    public void close() {
        guard.close(() -> lora4j_h.lora4j_gguf_writer_free(handle));
    }
}
