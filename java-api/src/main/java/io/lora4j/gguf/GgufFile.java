package io.lora4j.gguf;

import io.lora4j.TensorInfo;
import io.lora4j.engine.HandleGuard;
import io.lora4j.engine.Native;
import io.lora4j.internal.lora4j_h;
import io.lora4j.internal.lora4j_tensor_info;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A GGUF file opened by the engine: validated in full on open, tensor data memory-mapped.
 * Metadata and the tensor list are read once into Java values (see {@link GgufReader}).
 */
public final class GgufFile implements AutoCloseable {
    private final Path path;
    private final MemorySegment handle;
    private final HandleGuard guard;
    private final Map<String, Object> metadata;
    private final List<TensorInfo> tensors;
    /** Scopes the segments handed out by {@link #tensorData}: they die with the file. */
    private final Arena mapping = Arena.ofShared();

    private GgufFile(Path path, MemorySegment handle) {
        this.path = path;
        this.handle = handle;
        this.guard = new HandleGuard("GGUF file " + path);
        this.metadata = GgufReader.metadata(handle);
        this.tensors = GgufReader.tensors(handle);
    }

    /** Opens and validates {@code path}; a corrupt file is a {@link io.lora4j.Lora4jException}. */
    public static GgufFile open(Path path) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(lora4j_h.lora4j_gguf_open(Native.cString(arena, path.toString()), out),
                    "opening GGUF file");
            MemorySegment handle = out.get(ValueLayout.ADDRESS, 0);
            try {
                return new GgufFile(path, handle);
            } catch (RuntimeException e) {
                lora4j_h.lora4j_gguf_close(handle);
                throw e;
            }
        }
    }

    public Path path() {
        return path;
    }

    /** Metadata in file order (values as described in {@link GgufReader}). */
    public Map<String, Object> metadata() {
        return guard.call(() -> metadata);
    }

    public List<TensorInfo> tensors() {
        return guard.call(() -> tensors);
    }

    public Optional<TensorInfo> tensor(String name) {
        return tensors().stream().filter(t -> t.name().equals(name)).findFirst();
    }

    /**
     * The bytes of tensor {@code name}, read-only, straight from the mapping. The segment is valid
     * only while this file is open.
     */
    public MemorySegment tensorData(String name) {
        return guard.call(() -> {
            try (Arena arena = Arena.ofConfined()) {
                long i = lora4j_h.lora4j_gguf_find_tensor(handle, Native.cString(arena, name));
                if (i < 0) throw new IllegalArgumentException("no tensor '" + name + "' in " + path);
                MemorySegment info = lora4j_tensor_info.allocate(arena);
                Native.check(lora4j_h.lora4j_gguf_tensor_info(handle, i, info), "reading tensor '" + name + "'");
                return lora4j_tensor_info.data(info).reinterpret(lora4j_tensor_info.n_bytes(info), mapping, null)
                        .asReadOnly();
            }
        });
    }

    public int version() {
        return guard.call(() -> lora4j_h.lora4j_gguf_version(handle));
    }

    public int alignment() {
        return guard.call(() -> lora4j_h.lora4j_gguf_alignment(handle));
    }

    /** The native handle, for wrappers in this library that pass it to the engine. */
    public <T> T withHandle(java.util.function.Function<MemorySegment, T> body) {
        return guard.call(() -> body.apply(handle));
    }

    @Override
    public void close() {
        guard.close(() -> {
            mapping.close();
            lora4j_h.lora4j_gguf_close(handle);
        });
    }
}
