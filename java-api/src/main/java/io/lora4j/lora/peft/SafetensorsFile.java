package io.lora4j.lora.peft;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A safetensors file opened for reading: the header is validated in full on open (dtypes, shapes,
 * offsets inside the buffer, sizes that match the shapes, tensors that tile the buffer without
 * gaps or overlap), the data is memory-mapped. Any violation is an {@link IllegalArgumentException}
 * naming the file and the tensor.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** The reference implementation's cap on the JSON header. */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path path;
    private final Map<String, String> metadata;
    private final Map<String, SafetensorsTensor> tensors;
    private final Arena arena;
    private final MemorySegment data;

    private SafetensorsFile(Path path, Map<String, String> metadata, Map<String, SafetensorsTensor> tensors,
                            Arena arena, MemorySegment data) {
        this.path = path;
        this.metadata = metadata;
        this.tensors = tensors;
        this.arena = arena;
        this.data = data;
    }

    public static SafetensorsFile open(Path path) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw bad(path, "file of " + size + " bytes is too short for a safetensors header");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long n = lenBuf.getLong(0);
            if (n < 2 || n > MAX_HEADER_BYTES) {
                throw bad(path, "header length " + Long.toUnsignedString(n) + " is not in [2, " + MAX_HEADER_BYTES + "]");
            }
            if (n > size - 8) throw bad(path, "header length " + n + " runs past the end of the file (" + size + " bytes)");
            ByteBuffer header = ByteBuffer.allocate((int) n);
            readFully(ch, header, 8);
            long bufferBytes = size - 8 - n;
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, SafetensorsTensor> tensors = parseHeader(path, header.flip(), bufferBytes, metadata);
            Arena arena = Arena.ofShared();
            try {
                MemorySegment data = ch.map(FileChannel.MapMode.READ_ONLY, 8 + n, bufferBytes, arena);
                return new SafetensorsFile(path, Collections.unmodifiableMap(metadata),
                        Collections.unmodifiableMap(tensors), arena, data);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            int got = ch.read(buf, position + buf.position());
            if (got < 0) throw new IOException("unexpected end of file");
        }
    }

    private static Map<String, SafetensorsTensor> parseHeader(Path path, ByteBuffer header, long bufferBytes,
                                                              Map<String, String> metadata) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(header).toString();
        } catch (CharacterCodingException e) {
            throw bad(path, "header is not valid UTF-8");
        }
        if (!text.startsWith("{")) throw bad(path, "header does not start with '{'");
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw bad(path, "header is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) throw bad(path, "header is not a JSON object");
        Map<String, SafetensorsTensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (e.getKey().equals("__metadata__")) {
                readMetadata(path, e.getValue(), metadata);
            } else {
                tensors.put(e.getKey(), tensorEntry(path, e.getKey(), e.getValue(), bufferBytes));
            }
        }
        checkTiling(path, tensors.values(), bufferBytes);
        return tensors;
    }

    private static void readMetadata(Path path, JsonNode node, Map<String, String> out) {
        if (!node.isObject()) throw bad(path, "__metadata__ is not an object of strings");
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) throw bad(path, "__metadata__ value '" + e.getKey() + "' is not a string");
            out.put(e.getKey(), e.getValue().textValue());
        }
    }

    private static SafetensorsTensor tensorEntry(Path path, String name, JsonNode node, long bufferBytes) {
        if (name.isEmpty()) throw bad(path, "a tensor has an empty name");
        if (!node.isObject()) throw badTensor(path, name, "entry is not an object");
        JsonNode dtypeNode = node.get("dtype");
        JsonNode shapeNode = node.get("shape");
        JsonNode offsetsNode = node.get("data_offsets");
        if (dtypeNode == null || shapeNode == null || offsetsNode == null || node.size() != 3) {
            throw badTensor(path, name, "entry must have exactly dtype, shape and data_offsets");
        }
        if (!dtypeNode.isTextual()) throw badTensor(path, name, "dtype is not a string");
        SafetensorsDtype dtype = SafetensorsDtype.fromHeader(dtypeNode.textValue());
        if (dtype == null) {
            throw badTensor(path, name, "dtype " + dtypeNode.textValue() + " is not supported (F32, F16, BF16)");
        }
        if (!shapeNode.isArray()) throw badTensor(path, name, "shape is not an array");
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) shape[i] = nonNegative(path, name, "shape", shapeNode.get(i));
        if (!offsetsNode.isArray() || offsetsNode.size() != 2) {
            throw badTensor(path, name, "data_offsets is not an array [begin, end]");
        }
        long begin = nonNegative(path, name, "data_offsets", offsetsNode.get(0));
        long end = nonNegative(path, name, "data_offsets", offsetsNode.get(1));
        if (begin > end || end > bufferBytes) {
            throw badTensor(path, name, "data_offsets [" + begin + ", " + end + "] are not inside the data buffer of "
                    + bufferBytes + " bytes");
        }
        SafetensorsTensor t = new SafetensorsTensor(name, dtype, shape, begin, end);
        long expect;
        try {
            expect = Math.multiplyExact(t.elementCount(), dtype.bytes());
        } catch (ArithmeticException e) {
            throw badTensor(path, name, "shape overflows");
        }
        if (end - begin != expect) {
            throw badTensor(path, name, "holds " + (end - begin) + " bytes but its shape and dtype need " + expect);
        }
        return t;
    }

    private static long nonNegative(Path path, String name, String field, JsonNode v) {
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
            throw badTensor(path, name, field + " holds " + v + ", not a non-negative integer");
        }
        return v.longValue();
    }

    /** Tensors must cover the buffer exactly: each starts where the previous ended. */
    private static void checkTiling(Path path, Collection<SafetensorsTensor> all, long bufferBytes) {
        List<SafetensorsTensor> sorted = new ArrayList<>(all);
        sorted.sort(Comparator.comparingLong(SafetensorsTensor::begin).thenComparingLong(SafetensorsTensor::end));
        long at = 0;
        for (SafetensorsTensor t : sorted) {
            if (t.begin() != at) {
                throw badTensor(path, t.name(), t.begin() < at ? "overlaps the tensor before it (starts at " + t.begin()
                        + ", previous ends at " + at + ")" : "leaves a gap: starts at " + t.begin() + ", expected " + at);
            }
            at = t.end();
        }
        if (at != bufferBytes) {
            throw bad(path, "tensors cover " + at + " of the " + bufferBytes + " data bytes");
        }
    }

    private static IllegalArgumentException bad(Path path, String what) {
        return new IllegalArgumentException(path + ": " + what);
    }

    private static IllegalArgumentException badTensor(Path path, String name, String what) {
        return new IllegalArgumentException(path + ": tensor '" + name + "': " + what);
    }

    public Path path() {
        return path;
    }

    /** The string map under {@code __metadata__} (empty when absent). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** Tensors in header order. */
    public List<SafetensorsTensor> tensors() {
        return List.copyOf(tensors.values());
    }

    public Optional<SafetensorsTensor> tensor(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** The values of the tensor of this file named like {@code tensor}, converted to f32, row-major. */
    public float[] floats(SafetensorsTensor tensor) {
        SafetensorsTensor t = tensors.get(tensor.name());
        if (t == null) throw new IllegalArgumentException(path + ": no tensor '" + tensor.name() + "'");
        long n = t.elementCount();
        if (n > Integer.MAX_VALUE - 8) throw badTensor(path, t.name(), n + " elements are too many for one array");
        MemorySegment src = data.asSlice(t.begin(), t.end() - t.begin());
        float[] out = new float[(int) n];
        for (int i = 0; i < out.length; i++) out[i] = t.dtype().read(src, i);
        return out;
    }

    @Override
    public void close() {
        arena.close();
    }
}
