package io.lora4j.generate;

import io.lora4j.engine.Native;
import io.lora4j.internal.lora4j_h;
import io.lora4j.internal.lora4j_sampler_params;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** The engine's sampler chain for one sequence (penalty history and random generator). */
public final class Sampler implements AutoCloseable {
    /** The engine's "pick a random seed" value. */
    private static final long RANDOM_SEED = 0xFFFFFFFFL;

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment handle;
    private final int vocab;
    private final int nProbs;
    private final MemorySegment token;
    private final MemorySegment logprob;
    private final MemorySegment topIds;
    private final MemorySegment topLogprobs;
    private boolean closed;

    /** The chosen token, its log-prob under the raw distribution, and the top alternatives. */
    public record Pick(int token, float logprob, int[] topIds, float[] topLogprobs) {}

    public Sampler(Sampling s, int vocab) {
        this.vocab = vocab;
        this.nProbs = Math.min(s.nProbs(), vocab);
        try {
            MemorySegment p = lora4j_h.lora4j_sampler_default_params(arena);
            lora4j_sampler_params.seed(p, s.seed() < 0 ? RANDOM_SEED : s.seed());
            lora4j_sampler_params.top_k(p, s.topK());
            lora4j_sampler_params.top_p(p, (float) s.topP());
            lora4j_sampler_params.min_p(p, (float) s.minP());
            lora4j_sampler_params.temp(p, (float) s.temperature());
            lora4j_sampler_params.penalty_last_n(p, s.repeatLastN());
            lora4j_sampler_params.penalty_repeat(p, (float) s.repeatPenalty());
            lora4j_sampler_params.penalty_freq(p, (float) s.frequencyPenalty());
            lora4j_sampler_params.penalty_present(p, (float) s.presencePenalty());
            lora4j_sampler_params.n_probs(p, nProbs);
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            Native.check(lora4j_h.lora4j_sampler_new(p, vocab, out), "creating sampler");
            handle = out.get(ValueLayout.ADDRESS, 0);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
        token = arena.allocate(ValueLayout.JAVA_INT);
        logprob = arena.allocate(ValueLayout.JAVA_FLOAT);
        topIds = arena.allocate(ValueLayout.JAVA_INT, Math.max(1, nProbs));
        topLogprobs = arena.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, nProbs));
    }

    /** The seed in force (the drawn one when sampling asked for a random seed). */
    public long seed() {
        ensureOpen();
        return lora4j_h.lora4j_sampler_seed(handle);
    }

    /** Records a token in the penalty history. */
    public void accept(int tokenId) {
        ensureOpen();
        Native.check(lora4j_h.lora4j_sampler_accept(handle, tokenId), "accepting token " + tokenId);
    }

    /**
     * Picks the next token from row {@code row} of {@code rows} (vocab floats per row, native
     * memory such as {@link InferenceContext#decodeView}'s; read, never written).
     */
    public Pick sample(MemorySegment rows, int row) {
        ensureOpen();
        long bytes = (long) vocab * Float.BYTES;
        MemorySegment logits = rows.asSlice(row * bytes, bytes);
        boolean top = nProbs > 0;
        Native.check(lora4j_h.lora4j_sampler_sample_ex(handle, logits, token, logprob,
                top ? topIds : MemorySegment.NULL, top ? topLogprobs : MemorySegment.NULL), "sampling");
        return new Pick(token.get(ValueLayout.JAVA_INT, 0), logprob.get(ValueLayout.JAVA_FLOAT, 0),
                top ? topIds.asSlice(0, (long) nProbs * 4).toArray(ValueLayout.JAVA_INT) : new int[0],
                top ? topLogprobs.asSlice(0, (long) nProbs * 4).toArray(ValueLayout.JAVA_FLOAT) : new float[0]);
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("sampler is closed");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        lora4j_h.lora4j_sampler_free(handle);
        arena.close();
    }
}
