package io.lora4j.lora;

import io.lora4j.Model;
import io.lora4j.engine.HandleGuard;
import io.lora4j.engine.Native;
import io.lora4j.internal.lora4j_adapter_info;
import io.lora4j.internal.lora4j_h;
import io.lora4j.internal.lora4j_lora_pair;
import io.lora4j.internal.lora4j_lora_params;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * LoRA weights for one model's projections, held by the engine (f32 A and B per projection).
 * Saved and loaded in llama.cpp's LoRA GGUF format.
 */
public final class Adapter implements AutoCloseable {
    private final MemorySegment handle;
    private final HandleGuard guard = new HandleGuard("adapter");
    /** Scopes the pair segments handed out: they die with the adapter. */
    private final Arena views = Arena.ofShared();

    private Adapter(MemorySegment handle) {
        this.handle = handle;
    }

    /** A fresh adapter initialised as PEFT does (B zero, so the model is unchanged at first). */
    public static Adapter create(Model model, LoraConfig config) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = lora4j_h.lora4j_lora_default_params(arena);
            lora4j_lora_params.rank(p, config.rank());
            lora4j_lora_params.alpha(p, (float) config.alpha());
            lora4j_lora_params.rslora(p, config.rslora() ? 1 : 0);
            lora4j_lora_params.dropout(p, (float) config.dropout());
            lora4j_lora_params.targets(p, config.targetBits());
            lora4j_lora_params.layer_begin(p, config.layerBegin());
            lora4j_lora_params.layer_end(p, config.layerEnd());
            lora4j_lora_params.init(p, config.init().ordinal());
            lora4j_lora_params.bias(p, config.bias().ordinal());
            lora4j_lora_params.seed(p, config.seed());
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            model.withHandle(m -> {
                Native.check(lora4j_h.lora4j_adapter_new(m, p, out), "creating LoRA adapter");
                return null;
            });
            return new Adapter(out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** Loads llama.cpp's LoRA GGUF, validated against {@code model}. */
    public static Adapter load(Model model, Path path) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            model.withHandle(m -> {
                Native.check(lora4j_h.lora4j_adapter_load(m, Native.cString(arena, path.toString()), out),
                        "loading adapter " + path);
                return null;
            });
            return new Adapter(out.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** Writes llama.cpp's LoRA GGUF atomically (trained biases cannot go there: an error says so). */
    public void save(Path path) {
        guard.run(() -> {
            try (Arena arena = Arena.ofConfined()) {
                Native.check(lora4j_h.lora4j_adapter_save(handle, Native.cString(arena, path.toString())),
                        "saving adapter to " + path);
            }
        });
    }

    /** A deep copy (e.g. a frozen snapshot to serve as an RL reference). */
    public Adapter copy() {
        return guard.call(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
                Native.check(lora4j_h.lora4j_adapter_clone(handle, out), "copying adapter");
                return new Adapter(out.get(ValueLayout.ADDRESS, 0));
            }
        });
    }

    public AdapterInfo info() {
        return guard.call(() -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment i = lora4j_adapter_info.allocate(arena);
                Native.check(lora4j_h.lora4j_adapter_get_info(handle, i), "reading adapter info");
                return new AdapterInfo(lora4j_adapter_info.rank(i), lora4j_adapter_info.alpha(i),
                        lora4j_adapter_info.rslora(i) != 0, lora4j_adapter_info.dropout(i), lora4j_adapter_info.scale(i),
                        lora4j_adapter_info.n_pairs(i), lora4j_adapter_info.n_params(i),
                        lora4j_adapter_info.n_biases(i));
            }
        });
    }

    /** Every adapted projection, in the engine's order (layer, then target). */
    public List<LoraPair> pairs() {
        return guard.call(() -> {
            long n = info().pairs();
            List<LoraPair> out = new ArrayList<>();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment p = lora4j_lora_pair.allocate(arena);
                for (long i = 0; i < n; i++) {
                    Native.check(lora4j_h.lora4j_adapter_get_pair(handle, i, p), "reading adapter pair " + i);
                    long nIn = lora4j_lora_pair.n_in(p), nOut = lora4j_lora_pair.n_out(p), r = lora4j_lora_pair.rank(p);
                    MemorySegment bias = lora4j_lora_pair.bias_delta(p);
                    out.add(new LoraPair(Native.cString(lora4j_lora_pair.base_name(p)), lora4j_lora_pair.layer(p),
                            LoraTarget.fromBit(lora4j_lora_pair.target(p)), nIn, nOut, r,
                            view(lora4j_lora_pair.a(p), r * nIn), view(lora4j_lora_pair.b(p), nOut * r),
                            bias.equals(MemorySegment.NULL) ? MemorySegment.NULL : view(bias, nOut)));
                }
            }
            return List.copyOf(out);
        });
    }

    private MemorySegment view(MemorySegment ptr, long floats) {
        return ptr.reinterpret(floats * Float.BYTES, views, null);
    }

    /**
     * Marks the adapter as used by a context or trainer holding its native pointer; {@link #close}
     * refuses while any is registered. Run the returned action when that user is closed.
     */
    public Runnable pin(String user) {
        return guard.addDependent(user);
    }

    /** The native handle, for the wrappers in this library that pass it to the engine. */
    public <T> T withHandle(Function<MemorySegment, T> body) {
        return guard.call(() -> body.apply(handle));
    }

    @Override
    public void close() {
        guard.close(() -> {
            views.close();
            lora4j_h.lora4j_adapter_free(handle);
        });
    }
}
