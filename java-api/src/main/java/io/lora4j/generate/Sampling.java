package io.lora4j.generate;

import java.util.List;

/**
 * How to pick tokens, with llama.cpp's defaults (temperature 0.8, top-k 40, top-p 0.95,
 * min-p 0.05, penalties off, random seed). Temperature 0 is greedy decoding.
 *
 * @param seed -1 for a random seed; any other value makes sampling reproducible
 * @param nProbs how many top alternatives (with log-probs) to report per generated token
 */
public record Sampling(
        double temperature,
        int topK,
        double topP,
        double minP,
        double repeatPenalty,
        int repeatLastN,
        double presencePenalty,
        double frequencyPenalty,
        long seed,
        int maxTokens,
        List<String> stop,
        int nProbs) {

    public Sampling {
        require(Double.isFinite(temperature) && temperature >= 0, "temperature must be >= 0, got " + temperature);
        require(topK >= 0, "topK must be >= 0 (0 = whole vocabulary), got " + topK);
        require(topP > 0 && topP <= 1, "topP must be in (0, 1], got " + topP);
        require(minP >= 0 && minP <= 1, "minP must be in [0, 1], got " + minP);
        require(Double.isFinite(repeatPenalty) && repeatPenalty > 0, "repeatPenalty must be > 0, got " + repeatPenalty);
        require(repeatLastN >= -1, "repeatLastN must be >= -1 (-1 = whole context), got " + repeatLastN);
        require(Double.isFinite(presencePenalty), "presencePenalty must be finite");
        require(Double.isFinite(frequencyPenalty), "frequencyPenalty must be finite");
        require(seed >= -1, "seed must be >= 0, or -1 for random, got " + seed);
        require(maxTokens >= 0, "maxTokens must be >= 0, got " + maxTokens);
        require(nProbs >= 0, "nProbs must be >= 0, got " + nProbs);
        stop = List.copyOf(stop);
        for (String s : stop) require(!s.isEmpty(), "stop strings must not be empty");
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    public boolean greedy() {
        return temperature == 0;
    }

    /** Greedy decoding of up to {@code maxTokens} tokens. */
    public static Sampling greedy(int maxTokens) {
        return builder().temperature(0).maxTokens(maxTokens).build();
    }

    /**
     * Plain temperature sampling (no top-k/top-p/min-p), as RL needs: at temperature 1 the
     * log-probs of the sampled tokens are those of the distribution actually sampled from.
     */
    public static Sampling plain(double temperature, int maxTokens, long seed) {
        return builder().temperature(temperature).topK(0).topP(1).minP(0).maxTokens(maxTokens).seed(seed).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.temperature = temperature;
        b.topK = topK;
        b.topP = topP;
        b.minP = minP;
        b.repeatPenalty = repeatPenalty;
        b.repeatLastN = repeatLastN;
        b.presencePenalty = presencePenalty;
        b.frequencyPenalty = frequencyPenalty;
        b.seed = seed;
        b.maxTokens = maxTokens;
        b.stop = stop;
        b.nProbs = nProbs;
        return b;
    }

    public static final class Builder {
        private double temperature = 0.8;
        private int topK = 40;
        private double topP = 0.95;
        private double minP = 0.05;
        private double repeatPenalty = 1.0;
        private int repeatLastN = 64;
        private double presencePenalty;
        private double frequencyPenalty;
        private long seed = -1;
        private int maxTokens = 256;
        private List<String> stop = List.of();
        private int nProbs;

        public Builder temperature(double v) { temperature = v; return this; }
        public Builder topK(int v) { topK = v; return this; }
        public Builder topP(double v) { topP = v; return this; }
        public Builder minP(double v) { minP = v; return this; }
        public Builder repeatPenalty(double v) { repeatPenalty = v; return this; }
        public Builder repeatLastN(int v) { repeatLastN = v; return this; }
        public Builder presencePenalty(double v) { presencePenalty = v; return this; }
        public Builder frequencyPenalty(double v) { frequencyPenalty = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder maxTokens(int v) { maxTokens = v; return this; }
        public Builder stop(List<String> v) { stop = v; return this; }
        public Builder stop(String... v) { stop = List.of(v); return this; }
        public Builder nProbs(int v) { nProbs = v; return this; }

        public Sampling build() {
            return new Sampling(temperature, topK, topP, minP, repeatPenalty, repeatLastN, presencePenalty,
                    frequencyPenalty, seed, maxTokens, stop, nProbs);
        }
    }
}
