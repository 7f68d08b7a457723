package io.lora4j.generate;

import io.lora4j.tokenizer.TokenDecoder;
import io.lora4j.tokenizer.Tokenizer;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The generation loop: the prompt runs once (matrix-matrix), its cache is shared by every
 * sequence of a group, then each step decodes one token of every unfinished sequence in one
 * batched forward pass. Stop strings and end-of-generation tokens are policy, decided here.
 */
public final class Generator {
    private final InferenceContext ctx;
    private final Tokenizer tokenizer;

    public Generator(InferenceContext ctx, Tokenizer tokenizer) {
        this.ctx = ctx;
        this.tokenizer = tokenizer;
    }

    /** One completion of {@code prompt}, streaming each token to {@code listener} (may be null). */
    public Generation generate(int[] prompt, Sampling sampling, TokenListener listener) {
        return run(prompt, 1, sampling, listener).getFirst();
    }

    /**
     * {@code n} completions of one prompt, decoded together (RL samples groups this way).
     * Sequence i samples with seed {@code sampling.seed() + i} when the seed is fixed.
     */
    public List<Generation> generateGroup(int[] prompt, int n, Sampling sampling) {
        return run(prompt, n, sampling, null);
    }

    private List<Generation> run(int[] prompt, int n, Sampling sampling, TokenListener listener) {
        if (prompt.length == 0) throw new IllegalArgumentException("the prompt has no tokens");
        if (n > ctx.sequences()) {
            throw new IllegalArgumentException(n + " completions need " + n + " sequences; the context has " + ctx.sequences());
        }
        if (prompt.length >= ctx.contextLength()) {
            throw new IllegalArgumentException("prompt of " + prompt.length + " tokens does not fit the context of "
                    + ctx.contextLength() + " tokens (one position must remain for the completion)");
        }
        for (int s = 0; s < n; s++) ctx.clear(s);

        long t0 = System.nanoTime();
        MemorySegment logits = ctx.decodeView(0, prompt);
        for (int s = 1; s < n; s++) ctx.copy(0, s, prompt.length);
        long t1 = System.nanoTime();

        List<SequenceState> states = new ArrayList<>(n);
        try {
            for (int s = 0; s < n; s++) {
                Sampling own = sampling.seed() >= 0 ? sampling.toBuilder().seed(sampling.seed() + s).build() : sampling;
                SequenceState st = new SequenceState(s, new Sampler(own, ctx.vocabSize()), tokenizer.newContinuationDecoder(false),
                        sampling.stop());
                for (int id : prompt) st.sampler.accept(id);
                states.add(st);
            }
            // Logits of the last decode, and which row of them belongs to each sequence.
            int[] rowOf = new int[n];
            int produced = 0;
            while (true) {
                List<SequenceState> live = new ArrayList<>();
                for (SequenceState st : states) {
                    if (st.finish != null) continue;
                    if (produced >= sampling.maxTokens() || prompt.length + produced >= ctx.contextLength()) {
                        st.finish(FinishReason.LENGTH);
                        continue;
                    }
                    Sampler.Pick pick = st.sampler.sample(logits, rowOf[st.seq]);
                    st.sampler.accept(pick.token());
                    if (tokenizer.isEndOfGeneration(pick.token())) {
                        st.record(new GeneratedToken(pick.token(), "", pick.logprob(), pick.topIds(), pick.topLogprobs()));
                        st.finish(FinishReason.EOS);
                    } else {
                        String released = st.append(pick.token());
                        GeneratedToken tok = new GeneratedToken(pick.token(), released, pick.logprob(), pick.topIds(),
                                pick.topLogprobs());
                        st.record(tok);
                        if (st.finish == null) live.add(st);
                    }
                    if (listener != null && !listener.onToken(st.tokens.getLast()) && st.finish == null) {
                        st.finish(FinishReason.CANCELLED);
                        live.remove(st);
                    }
                }
                produced++;
                if (live.isEmpty()) break;
                int[] toks = new int[live.size()];
                int[] seqs = new int[live.size()];
                boolean[] want = new boolean[live.size()];
                for (int i = 0; i < live.size(); i++) {
                    toks[i] = live.get(i).tokens.getLast().id();
                    seqs[i] = live.get(i).seq;
                    want[i] = true;
                }
                logits = ctx.decodeView(toks, seqs, want);
                for (int i = 0; i < live.size(); i++) rowOf[live.get(i).seq] = i;
            }
            long t2 = System.nanoTime();
            List<Generation> result = new ArrayList<>(n);
            for (SequenceState st : states) {
                result.add(new Generation(st.text(), prompt.clone(), List.copyOf(st.tokens), st.finish,
                        st.sampler.seed(), (t1 - t0) / 1e9, (t2 - t1) / 1e9));
            }
            return result;
        } finally {
            for (SequenceState st : states) st.sampler.close();
        }
    }

    /** Per-sequence text state: decoded text, what has been released, stop-string detection. */
    private static final class SequenceState {
        final int seq;
        final Sampler sampler;
        final TokenDecoder decoder;
        final List<String> stops;
        final StringBuilder text = new StringBuilder();
        final List<GeneratedToken> tokens = new ArrayList<>();
        int released;
        FinishReason finish;

        SequenceState(int seq, Sampler sampler, TokenDecoder decoder, List<String> stops) {
            this.seq = seq;
            this.sampler = sampler;
            this.decoder = decoder;
            this.stops = stops;
        }

        void record(GeneratedToken t) {
            tokens.add(t);
        }

        /** Adds a token's text; returns the text that can be released (no partial stop string). */
        String append(int id) {
            text.append(decoder.next(id));
            for (String stop : stops) {
                int at = text.indexOf(stop, Math.max(0, released - stop.length() + 1));
                if (at >= 0) {
                    text.setLength(at);
                    finish(FinishReason.STOP);
                    return release(text.length());
                }
            }
            return release(text.length() - heldBack());
        }

        /** Characters at the end of the text that could still grow into a stop string. */
        private int heldBack() {
            int hold = 0;
            for (String stop : stops) {
                for (int k = Math.min(stop.length() - 1, text.length()); k > hold; k--) {
                    if (text.substring(text.length() - k).equals(stop.substring(0, k))) {
                        hold = k;
                        break;
                    }
                }
            }
            return hold;
        }

        private String release(int upTo) {
            if (upTo <= released) return "";
            String out = text.substring(released, upTo);
            released = upTo;
            return out;
        }

        void finish(FinishReason reason) {
            if (finish != null) return;
            finish = reason;
            if (reason != FinishReason.STOP) {
                text.append(decoder.finish());
            }
        }

        String text() {
            return text.toString();
        }
    }
}
