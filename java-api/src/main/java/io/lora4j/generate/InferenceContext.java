package io.lora4j.generate;

import io.lora4j.Device;
import io.lora4j.Lora4jException;
import io.lora4j.Model;
import io.lora4j.engine.Native;
import io.lora4j.internal.lora4j_context_params;
import io.lora4j.internal.lora4j_h;
import io.lora4j.lora.ScaledAdapter;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * A forward-pass context over a model: the KV cache of {@code sequences} sequences and every
 * activation buffer, planned once. Used from one thread at a time; the model may be shared.
 */
public final class InferenceContext implements AutoCloseable {
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment handle;
    private final Runnable unpin;
    private final int contextLength;
    private final int sequences;
    private final int vocab;
    private MemorySegment tokenBuf;
    private MemorySegment seqBuf;
    private MemorySegment wantBuf;
    private MemorySegment logitsBuf;
    private boolean closed;
    private List<Runnable> adapterPins = List.of();

    /**
     * A context on the CPU.
     *
     * @param contextLength positions per sequence (0: the model's training context)
     * @param exactF32 multiply in f32 against exactly dequantized weights (the training path)
     */
    public InferenceContext(Model model, int contextLength, int sequences, int threads, boolean exactF32) {
        this(model, contextLength, sequences, threads, exactF32, Device.cpu());
    }

    /**
     * A context on {@code device}; a CUDA device that cannot be used throws
     * {@link io.lora4j.CudaUnavailableException} saying why.
     *
     * @param contextLength positions per sequence (0: the model's training context)
     * @param threads CPU threads (0: all cores)
     * @param exactF32 multiply in f32 against exactly dequantized weights (the training path)
     */
    public InferenceContext(Model model, int contextLength, int sequences, int threads, boolean exactF32,
                            Device device) {
        if (contextLength < 0) throw new IllegalArgumentException("context length must be >= 0, got " + contextLength);
        if (sequences < 1) throw new IllegalArgumentException("sequences must be >= 1, got " + sequences);
        if (model.hparams().vocabOnly()) {
            throw new Lora4jException(lora4j_h.LORA4J_ERR_STATE(), "model " + model.path() + " is vocab-only: it has no weights to run");
        }
        device.requireAvailable();
        this.sequences = sequences;
        this.vocab = model.hparams().vocabSize();
        this.unpin = model.pin("inference context");
        try {
            MemorySegment params = lora4j_h.lora4j_context_default_params(arena);
            lora4j_context_params.n_ctx(params, contextLength);
            lora4j_context_params.n_seq_max(params, sequences);
            lora4j_context_params.n_threads(params, threads);
            lora4j_context_params.exact_f32(params, exactF32 ? 1 : 0);
            lora4j_context_params.device(params, device.ordinal());
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            model.withHandle(m -> {
                Native.check(lora4j_h.lora4j_context_new(m, params, out), "creating inference context");
                return null;
            });
            handle = out.get(ValueLayout.ADDRESS, 0);
            Native.check(lora4j_h.lora4j_context_get_params(handle, params), "reading context parameters");
            this.contextLength = lora4j_context_params.n_ctx(params);
        } catch (RuntimeException e) {
            arena.close();
            unpin.run();
            throw e;
        }
    }

    public int contextLength() {
        return contextLength;
    }

    public int sequences() {
        return sequences;
    }

    public int vocabSize() {
        return vocab;
    }

    /**
     * Applies these adapters from now on: y = W x + sum of scale * (alpha/r) * B A x. An empty
     * list switches adapters off. The adapters stay open at least as long as this context uses them.
     * A context on a CUDA device copies their values now: after training changes an adapter, set
     * it again for this context to see the change (a CPU context reads them where they are).
     */
    public void setAdapters(List<ScaledAdapter> adapters) {
        ensureOpen();
        int n = adapters.size();
        List<Runnable> pins = new ArrayList<>(n);
        try {
            for (ScaledAdapter a : adapters) pins.add(a.adapter().pin("inference context"));
            MemorySegment handles = arena.allocate(ValueLayout.ADDRESS, Math.max(1, n));
            MemorySegment scales = arena.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, n));
            for (int i = 0; i < n; i++) {
                ScaledAdapter a = adapters.get(i);
                handles.setAtIndex(ValueLayout.ADDRESS, i, a.adapter().withHandle(h -> h));
                scales.setAtIndex(ValueLayout.JAVA_FLOAT, i, a.scale());
            }
            Native.check(lora4j_h.lora4j_context_set_adapters(handle, handles, scales, n), "setting adapters");
        } catch (RuntimeException e) {
            pins.forEach(Runnable::run);
            throw e;
        }
        adapterPins.forEach(Runnable::run);
        adapterPins = pins;
    }

    /** Next position of sequence {@code seq} (how many tokens its cache holds). */
    public int position(int seq) {
        ensureOpen();
        return lora4j_h.lora4j_kv_seq_pos(handle, seq);
    }

    public void clear(int seq) {
        ensureOpen();
        Native.check(lora4j_h.lora4j_kv_seq_clear(handle, seq), "clearing sequence " + seq);
    }

    /** Makes {@code dst}'s cache the first {@code n} positions of {@code src}'s. */
    public void copy(int src, int dst, int n) {
        ensureOpen();
        Native.check(lora4j_h.lora4j_kv_seq_copy(handle, src, dst, n), "copying sequence " + src + " to " + dst);
    }

    /**
     * Appends {@code tokens} to sequence {@code seq} and returns the logits after its last token
     * ({@code vocabSize()} floats).
     */
    public float[] decode(int seq, int[] tokens) {
        return decodeView(seq, tokens).toArray(ValueLayout.JAVA_FLOAT);
    }

    /** {@link #decode(int, int[])} without the copy: see {@link #decodeView(int[], int[], boolean[])}. */
    public MemorySegment decodeView(int seq, int[] tokens) {
        int[] seqs = new int[tokens.length];
        java.util.Arrays.fill(seqs, seq);
        boolean[] want = new boolean[tokens.length];
        if (tokens.length > 0) want[tokens.length - 1] = true;
        return decodeView(tokens, seqs, want);
    }

    /**
     * A batch of tokens, token i appended to sequence {@code seqs[i]}; returns the logits of the
     * tokens with {@code wantLogits[i]}, row after row ({@code vocabSize()} floats each).
     */
    public float[] decode(int[] tokens, int[] seqs, boolean[] wantLogits) {
        return decodeView(tokens, seqs, wantLogits).toArray(ValueLayout.JAVA_FLOAT);
    }

    /**
     * {@link #decode(int[], int[], boolean[])} without copying the logits into Java: the returned
     * segment is this context's own buffer ({@code vocabSize()} floats per row) and is valid only
     * until the next call on this context. Generation samples straight from it.
     */
    public MemorySegment decodeView(int[] tokens, int[] seqs, boolean[] wantLogits) {
        ensureOpen();
        int n = tokens.length;
        if (seqs.length != n || wantLogits.length != n) {
            throw new IllegalArgumentException("tokens, seqs and wantLogits differ in length: " + n + ", "
                    + seqs.length + ", " + wantLogits.length);
        }
        if (n == 0) throw new IllegalArgumentException("decode needs at least one token");
        int rows = 0;
        for (boolean w : wantLogits) if (w) rows++;
        ensureCapacity(n, rows);
        MemorySegment.copy(tokens, 0, tokenBuf, ValueLayout.JAVA_INT, 0, n);
        MemorySegment.copy(seqs, 0, seqBuf, ValueLayout.JAVA_INT, 0, n);
        for (int i = 0; i < n; i++) wantBuf.set(ValueLayout.JAVA_BYTE, i, (byte) (wantLogits[i] ? 1 : 0));
        long cap = (long) rows * vocab;
        Native.check(lora4j_h.lora4j_decode(handle, tokenBuf, MemorySegment.NULL, seqBuf, n, wantBuf, logitsBuf, cap),
                "decoding " + n + " tokens");
        return logitsBuf.asSlice(0, cap * Float.BYTES);
    }

    /**
     * Teacher-forced log-probabilities: appends {@code tokens} to sequence {@code seq} and returns
     * log p(tokens[t] | tokens[&lt;t]) for t = 1..n-1.
     */
    public float[] logprobs(int seq, int[] tokens) {
        ensureOpen();
        if (tokens.length < 2) throw new IllegalArgumentException("log-probs need at least two tokens");
        ensureCapacity(tokens.length, 0);
        MemorySegment.copy(tokens, 0, tokenBuf, ValueLayout.JAVA_INT, 0, tokens.length);
        MemorySegment out = arena.allocate(ValueLayout.JAVA_FLOAT, tokens.length - 1);
        Native.check(lora4j_h.lora4j_sequence_logprobs(handle, seq, tokenBuf, tokens.length, out),
                "scoring " + tokens.length + " tokens");
        return out.toArray(ValueLayout.JAVA_FLOAT);
    }

    private void ensureCapacity(int tokens, int logitRows) {
        if (tokenBuf == null || tokenBuf.byteSize() < (long) tokens * Integer.BYTES) {
            int cap = Math.max(tokens, 64);
            tokenBuf = arena.allocate(ValueLayout.JAVA_INT, cap);
            seqBuf = arena.allocate(ValueLayout.JAVA_INT, cap);
            wantBuf = arena.allocate(ValueLayout.JAVA_BYTE, cap);
        }
        long need = Math.max(1, (long) logitRows * vocab) * Float.BYTES;
        if (logitsBuf == null || logitsBuf.byteSize() < need) {
            logitsBuf = arena.allocate(need, 64);
        }
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("inference context is closed");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        lora4j_h.lora4j_context_free(handle);
        arena.close();
        adapterPins.forEach(Runnable::run);
        unpin.run();
    }
}
