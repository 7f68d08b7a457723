package io.lora4j.lora;

import java.util.EnumSet;
import java.util.Set;

/**
 * A LoRA configuration, with PEFT's meanings: rank r, alpha (scale alpha/r, or alpha/sqrt(r)
 * with rsLoRA), dropout on the adapter input, target projections (default: all seven, as
 * "all-linear"), a layer range, initialisation and which biases to train.
 *
 * @param layerEnd exclusive; 0 means through the last layer
 */
public record LoraConfig(int rank, double alpha, double dropout, Set<LoraTarget> targets, int layerBegin,
                         int layerEnd, boolean rslora, Init init, Bias bias, long seed) {

    /** PEFT's init_lora_weights: true (Kaiming-uniform A, zero B) or "gaussian". */
    public enum Init { PEFT, GAUSSIAN }

    /** PEFT's bias option: none, lora_only, all. */
    public enum Bias { NONE, LORA_ONLY, ALL }

    public LoraConfig {
        if (rank < 1) throw new IllegalArgumentException("LoRA rank must be >= 1, got " + rank);
        if (!(alpha > 0) || Double.isInfinite(alpha)) throw new IllegalArgumentException("LoRA alpha must be > 0, got " + alpha);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("LoRA dropout must be in [0, 1), got " + dropout);
        if (targets.isEmpty()) throw new IllegalArgumentException("LoRA needs at least one target");
        if (layerBegin < 0 || layerEnd < 0 || (layerEnd > 0 && layerEnd <= layerBegin)) {
            throw new IllegalArgumentException("bad layer range [" + layerBegin + ", " + layerEnd + ")");
        }
        targets = Set.copyOf(targets);
    }

    /** The factor applied to B·A·x. */
    public double scale() {
        return rslora ? alpha / Math.sqrt(rank) : alpha / rank;
    }

    int targetBits() {
        int bits = 0;
        for (LoraTarget t : targets) bits |= t.bit();
        return bits;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private int rank = 8;
        private double alpha = 16;
        private double dropout;
        private Set<LoraTarget> targets = EnumSet.allOf(LoraTarget.class);
        private int layerBegin;
        private int layerEnd;
        private boolean rslora;
        private Init init = Init.PEFT;
        private Bias bias = Bias.NONE;
        private long seed = 42;

        public Builder rank(int r) { rank = r; return this; }
        public Builder alpha(double a) { alpha = a; return this; }
        public Builder dropout(double d) { dropout = d; return this; }
        public Builder targets(LoraTarget... t) { targets = t.length == 0 ? Set.of() : EnumSet.of(t[0], t); return this; }
        public Builder targets(Set<LoraTarget> t) { targets = t; return this; }
        /** Adapt layers [begin, end); end 0 means through the last layer. */
        public Builder layers(int begin, int end) { layerBegin = begin; layerEnd = end; return this; }
        public Builder rslora(boolean on) { rslora = on; return this; }
        public Builder init(Init i) { init = i; return this; }
        public Builder bias(Bias b) { bias = b; return this; }
        public Builder seed(long s) { seed = s; return this; }

        public LoraConfig build() {
            return new LoraConfig(rank, alpha, dropout, targets, layerBegin, layerEnd, rslora, init, bias, seed);
        }
    }
}
