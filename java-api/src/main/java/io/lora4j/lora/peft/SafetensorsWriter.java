package io.lora4j.lora.peft;

import io.lora4j.engine.AtomicFile;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds a safetensors file from f32 values, encoding each tensor in the dtype asked for. Tensors
 * are laid out as the reference writer does (larger dtypes first, then by name), the header is
 * padded with spaces to a multiple of 8 bytes, and the file is written atomically.
 */
public final class SafetensorsWriter {
    private static final int CHUNK_ELEMENTS = 1 << 16;

    private record Entry(String name, SafetensorsDtype dtype, long[] shape, MemorySegment values) {}

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<Entry> entries = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /**
     * Adds a tensor of torch shape {@code shape} whose row-major f32 values are {@code values}
     * (Java or native floats); they are read when the file is written, so the segment must stay
     * valid until then.
     */
    public SafetensorsWriter add(String name, SafetensorsDtype dtype, long[] shape, MemorySegment values) {
        if (name.isEmpty() || name.equals("__metadata__")) throw new IllegalArgumentException("bad tensor name '" + name + "'");
        if (!names.add(name)) throw new IllegalArgumentException("duplicate tensor '" + name + "'");
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("tensor '" + name + "': negative dimension in " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        if (values.byteSize() != n * Float.BYTES) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " needs " + n
                    + " floats, got " + values.byteSize() / Float.BYTES);
        }
        entries.add(new Entry(name, dtype, shape.clone(), values));
        return this;
    }

    public SafetensorsWriter add(String name, SafetensorsDtype dtype, long[] shape, float[] values) {
        return add(name, dtype, shape, MemorySegment.ofArray(values));
    }

    /** Writes the file atomically (temporary file in the same directory, then rename). */
    public void write(Path path) {
        List<Entry> ordered = new ArrayList<>(entries);
        ordered.sort(Comparator.comparingInt((Entry e) -> -e.dtype().bytes()).thenComparing(Entry::name));
        byte[] header = header(ordered);
        AtomicFile.write(path, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            writeFully(out, len);
            writeFully(out, ByteBuffer.wrap(header));
            for (Entry e : ordered) writeValues(out, e);
        });
    }

    private byte[] header(List<Entry> ordered) {
        Map<String, Object> root = new LinkedHashMap<>();
        if (!metadata.isEmpty()) root.put("__metadata__", metadata);
        long offset = 0;
        for (Entry e : ordered) {
            long bytes = (e.values().byteSize() / Float.BYTES) * e.dtype().bytes();
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", e.dtype().name());
            info.put("shape", e.shape());
            info.put("data_offsets", new long[] {offset, offset + bytes});
            root.put(e.name(), info);
            offset += bytes;
        }
        byte[] json;
        try {
            json = new ObjectMapper().writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        int padded = (json.length + 7) & ~7;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void writeValues(FileChannel out, Entry e) throws IOException {
        long n = e.values().byteSize() / Float.BYTES;
        SafetensorsDtype dtype = e.dtype();
        byte[] chunk = new byte[(int) Math.min(n, CHUNK_ELEMENTS) * dtype.bytes()];
        MemorySegment dst = MemorySegment.ofArray(chunk);
        for (long start = 0; start < n; start += CHUNK_ELEMENTS) {
            int count = (int) Math.min(CHUNK_ELEMENTS, n - start);
            for (int i = 0; i < count; i++) {
                dtype.write(dst, i, e.values().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, start + i));
            }
            writeFully(out, ByteBuffer.wrap(chunk, 0, count * dtype.bytes()));
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) out.write(buf);
    }
}
