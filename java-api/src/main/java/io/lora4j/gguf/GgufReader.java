package io.lora4j.gguf;

import io.lora4j.TensorInfo;
import io.lora4j.TensorType;
import io.lora4j.engine.Native;
import io.lora4j.internal.lora4j_h;
import io.lora4j.internal.lora4j_tensor_info;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads metadata and tensor infos out of an open native GGUF handle into plain Java values.
 * Metadata value mapping: integer scalars → Long, floats → Double, BOOL → Boolean, STRING → String;
 * arrays of STRING → List&lt;String&gt;, of integers → long[], of floats → double[], of BOOL → boolean[].
 */
public final class GgufReader {
    private GgufReader() {}

    public static Map<String, Object> metadata(MemorySegment gguf) {
        long n = lora4j_h.lora4j_gguf_n_kv(gguf);
        Map<String, Object> out = new LinkedHashMap<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment i64 = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment f64 = arena.allocate(ValueLayout.JAVA_DOUBLE);
            MemorySegment ptr = arena.allocate(ValueLayout.ADDRESS);
            MemorySegment len = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment elemType = arena.allocate(ValueLayout.JAVA_INT);
            for (long i = 0; i < n; i++) {
                String key = Native.cString(lora4j_h.lora4j_gguf_key(gguf, i));
                int type = lora4j_h.lora4j_gguf_kv_type(gguf, i);
                out.put(key, value(gguf, i, key, GgufValueType.fromId(type), i64, f64, ptr, len, elemType));
            }
        }
        return Collections.unmodifiableMap(out);
    }

    private static Object value(MemorySegment g, long i, String key, GgufValueType type, MemorySegment i64,
                                MemorySegment f64, MemorySegment ptr, MemorySegment len, MemorySegment elemType) {
        switch (type) {
            case STRING -> {
                Native.check(lora4j_h.lora4j_gguf_get_string(g, i, ptr, len), "reading '" + key + "'");
                return Native.utf8(ptr.get(ValueLayout.ADDRESS, 0), len.get(ValueLayout.JAVA_LONG, 0));
            }
            case ARRAY -> {
                Native.check(lora4j_h.lora4j_gguf_get_array_info(g, i, elemType, len), "reading '" + key + "'");
                return array(g, i, key, GgufValueType.fromId(elemType.get(ValueLayout.JAVA_INT, 0)),
                        len.get(ValueLayout.JAVA_LONG, 0), ptr, len);
            }
            default -> {
                Native.check(lora4j_h.lora4j_gguf_get_scalar(g, i, i64, f64), "reading '" + key + "'");
                if (type == GgufValueType.BOOL) return i64.get(ValueLayout.JAVA_LONG, 0) != 0;
                if (type.isFloat()) return f64.get(ValueLayout.JAVA_DOUBLE, 0);
                return i64.get(ValueLayout.JAVA_LONG, 0);
            }
        }
    }

    private static Object array(MemorySegment g, long i, String key, GgufValueType elem, long n,
                                MemorySegment ptr, MemorySegment len) {
        if (n > Integer.MAX_VALUE - 8) {
            throw new io.lora4j.Lora4jException(-1, "array '" + key + "' has " + n + " elements, too many for Java");
        }
        int count = (int) n;
        if (elem == GgufValueType.STRING) {
            List<String> strings = new ArrayList<>(count);
            for (long j = 0; j < n; j++) {
                Native.check(lora4j_h.lora4j_gguf_get_array_string(g, i, j, ptr, len), "reading '" + key + "'");
                strings.add(Native.utf8(ptr.get(ValueLayout.ADDRESS, 0), len.get(ValueLayout.JAVA_LONG, 0)));
            }
            return Collections.unmodifiableList(strings);
        }
        Native.check(lora4j_h.lora4j_gguf_get_array_data(g, i, ptr), "reading '" + key + "'");
        MemorySegment data = ptr.get(ValueLayout.ADDRESS, 0).reinterpret(n * elem.byteSize());
        return switch (elem) {
            case BOOL -> {
                boolean[] b = new boolean[count];
                for (int j = 0; j < count; j++) b[j] = data.get(ValueLayout.JAVA_BYTE, j) != 0;
                yield b;
            }
            case FLOAT32 -> {
                double[] d = new double[count];
                for (int j = 0; j < count; j++) d[j] = data.getAtIndex(ValueLayout.JAVA_FLOAT, j);
                yield d;
            }
            case FLOAT64 -> data.toArray(ValueLayout.JAVA_DOUBLE);
            default -> {
                long[] l = new long[count];
                for (int j = 0; j < count; j++) l[j] = elem.readInteger(data, j);
                yield l;
            }
        };
    }

    public static List<TensorInfo> tensors(MemorySegment gguf) {
        long n = lora4j_h.lora4j_gguf_n_tensors(gguf);
        List<TensorInfo> out = new ArrayList<>((int) Math.min(n, 1 << 20));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = lora4j_tensor_info.allocate(arena);
            for (long i = 0; i < n; i++) {
                Native.check(lora4j_h.lora4j_gguf_tensor_info(gguf, i, info), "reading tensor " + i);
                int nDims = lora4j_tensor_info.n_dims(info);
                long[] shape = new long[nDims];
                for (int d = 0; d < nDims; d++) shape[d] = lora4j_tensor_info.ne(info, d);
                out.add(new TensorInfo(Native.cString(lora4j_tensor_info.name(info)),
                        TensorType.fromId(lora4j_tensor_info.type(info)), shape,
                        lora4j_tensor_info.offset(info), lora4j_tensor_info.n_bytes(info)));
            }
        }
        return Collections.unmodifiableList(out);
    }
}
