package io.lora4j.lora.merge;

import io.lora4j.Model;
import io.lora4j.ModelQuantizer;
import io.lora4j.QuantizationScheme;
import io.lora4j.TensorInfo;
import io.lora4j.TensorType;
import io.lora4j.engine.Native;
import io.lora4j.gguf.GgufFile;
import io.lora4j.gguf.GgufWriter;
import io.lora4j.internal.lora4j_h;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.AdapterInfo;
import io.lora4j.lora.LoraPair;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Folds an adapter into its base model and writes a new GGUF: W' = W + scale·s·B·A for every
 * adapted weight (s = alpha/r, or alpha/√r with rsLoRA) and b' = b + scale·Δb for trained biases.
 * Every metadata entry of the base (tokenizer, chat template, EOS settings, …) is copied.
 * Adapted weights keep their type unless a target scheme is given; then the merge is written in
 * F32 to a temporary file and re-encoded by {@link ModelQuantizer}, so one set of rules decides
 * every tensor's type. The base weights are read from {@code base.path()} as stored there (a
 * model re-quantized at load time is merged from its file).
 */
public final class AdapterMerge {
    private AdapterMerge() {}

    /**
     * @param scale the user scale (llama.cpp's --lora-scaled), 1 for the adapter as trained
     * @param target null: keep each tensor's type
     */
    public static void merge(Model base, Adapter adapter, float scale, QuantizationScheme target, Path out) {
        if (!Float.isFinite(scale)) throw new IllegalArgumentException("merge scale must be finite, got " + scale);
        if (target == null) {
            write(base, adapter, scale, false, out);
            return;
        }
        Path abs = out.toAbsolutePath();
        Path tmp;
        try {
            Files.createDirectories(abs.getParent());
            tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName(), ".f32.gguf");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary file next to " + out + ": " + e.getMessage(), e);
        }
        try {
            write(base, adapter, scale, true, tmp);
            ModelQuantizer.quantize(tmp, out, target, Math.max(0, base.threads()));
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // best effort: the merged model itself is already in place or the error is being reported
            }
        }
    }

    private static void write(Model base, Adapter adapter, float scale, boolean adaptedToF32, Path out) {
        AdapterInfo info = adapter.info();
        Map<String, LoraPair> weights = new HashMap<>();
        Map<String, LoraPair> biases = new HashMap<>();
        try (GgufFile file = GgufFile.open(base.path()); GgufWriter w = new GgufWriter()) {
            for (LoraPair p : adapter.pairs()) {
                ModelTensors.require(file, p.baseName(), p.nIn(), p.nOut());
                if (p.rank() > 0) weights.put(p.baseName(), p);
                if (p.hasBias()) biases.put(ModelTensors.require(file, ModelTensors.biasName(p), p.nOut()).name(), p);
            }
            w.putAll(file);
            for (TensorInfo t : file.tensors()) {
                LoraPair pw = weights.get(t.name());
                LoraPair pb = biases.get(t.name());
                if (pw == null && pb == null) {
                    w.addTensor(t.name(), t.type(), t.shape(), file.tensorData(t.name()));
                    continue;
                }
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment values = ModelTensors.dequantize(file, t, arena);
                    if (pw != null) addProduct(values, pw, scale * pairScale(info, pw.rank()), base.threads(), arena);
                    if (pb != null) addBias(values, pb.biasDelta(), scale);
                    TensorType type = adaptedToF32 ? TensorType.F32 : t.type();
                    long rowLength = t.shape()[0];
                    w.addTensor(t.name(), type, t.shape(),
                            ModelTensors.encode(type, values, rowLength, t.elementCount() / rowLength, arena));
                }
            }
            w.write(out);
        }
    }

    /** The engine's factor on B·A for a pair of rank r (alpha 0: a llama.cpp file without alpha, unscaled). */
    static float pairScale(AdapterInfo info, long r) {
        if (info.alpha() == 0) return 1f;
        return (float) (info.rslora() ? info.alpha() / Math.sqrt(r) : info.alpha() / r);
    }

    /** w[o][i] += f · Σ_k B[o][k] A[k][i], with the product computed by the engine. */
    private static void addProduct(MemorySegment w, LoraPair p, float f, int threads, Arena arena) {
        long r = p.rank(), nIn = p.nIn(), nOut = p.nOut();
        // lora4j_matmul computes y[t][o] = Σ_k W[o][k] x[t][k]: with W = Aᵀ [nIn][r] and x = B [nOut][r]
        // it yields y[o][i] = (B·A)[o][i].
        MemorySegment at = arena.allocate(ValueLayout.JAVA_FLOAT, nIn * r);
        for (long k = 0; k < r; k++) {
            for (long i = 0; i < nIn; i++) {
                at.setAtIndex(ValueLayout.JAVA_FLOAT, i * r + k, p.a().getAtIndex(ValueLayout.JAVA_FLOAT, k * nIn + i));
            }
        }
        MemorySegment delta = arena.allocate(ValueLayout.JAVA_FLOAT, nOut * nIn);
        Native.check(lora4j_h.lora4j_matmul(lora4j_h.LORA4J_TYPE_F32(), at, at.byteSize(), nIn, r, p.b(), nOut, delta,
                threads, 1), "computing B·A for " + p.baseName());
        for (long j = 0; j < nOut * nIn; j++) {
            w.setAtIndex(ValueLayout.JAVA_FLOAT, j,
                    w.getAtIndex(ValueLayout.JAVA_FLOAT, j) + f * delta.getAtIndex(ValueLayout.JAVA_FLOAT, j));
        }
    }

    private static void addBias(MemorySegment b, MemorySegment delta, float scale) {
        for (long i = 0; i < delta.byteSize() / Float.BYTES; i++) {
            b.setAtIndex(ValueLayout.JAVA_FLOAT, i,
                    b.getAtIndex(ValueLayout.JAVA_FLOAT, i) + scale * delta.getAtIndex(ValueLayout.JAVA_FLOAT, i));
        }
    }
}
