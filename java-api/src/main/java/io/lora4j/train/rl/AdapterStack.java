package io.lora4j.train.rl;

import io.lora4j.Model;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.AdapterInfo;
import io.lora4j.lora.LoraConfig;
import io.lora4j.lora.LoraPair;
import io.lora4j.lora.LoraTarget;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One LoRA adapter equal to two applied together (a frozen starting adapter and the delta trained
 * on top of it): per projection, A is the rows of both A's stacked and B their columns side by
 * side, each B column multiplied by its adapter's scale, and the result's scale is 1
 * (alpha = rank). Ranks add; a projection only one of them adapts gets zeros for the other, so
 * the sum B₁A₁s₁ + B₂A₂s₂ is exact up to float rounding.
 */
final class AdapterStack {
    private AdapterStack() {}

    /** Refuses adapters with trained bias deltas, which the merged GGUF could not carry. */
    static void requireNoBiases(Adapter a, String what) {
        if (a.info().trainedBiases() > 0) {
            throw new IllegalArgumentException(what + " has trained bias deltas; starting RL or DPO from an adapter "
                    + "needs adapters without biases (LoRA bias none)");
        }
    }

    static Adapter merge(Model model, Adapter first, Adapter second) {
        requireNoBiases(first, "the starting adapter");
        requireNoBiases(second, "the trained adapter");
        Map<String, LoraPair> p1 = byName(first.pairs()), p2 = byName(second.pairs());
        AdapterInfo i1 = first.info(), i2 = second.info();
        int rank = 0, lo = Integer.MAX_VALUE, hi = -1;
        EnumSet<LoraTarget> targets = EnumSet.noneOf(LoraTarget.class);
        for (Map<String, LoraPair> m : List.of(p1, p2)) {
            for (LoraPair p : m.values()) {
                targets.add(p.target());
                lo = Math.min(lo, p.layer());
                hi = Math.max(hi, p.layer());
                rank = Math.max(rank, rankOf(p1.get(p.baseName())) + rankOf(p2.get(p.baseName())));
            }
        }
        if (rank == 0) throw new IllegalArgumentException("the adapters hold no LoRA pairs to merge");
        LoraConfig cfg = LoraConfig.builder().rank(rank).alpha(rank).targets(targets).layers(lo, hi + 1).build();
        Adapter out = Adapter.create(model, cfg);
        try {
            for (LoraPair p : out.pairs()) {
                MemorySegment a = p.a(), b = p.b();
                a.fill((byte) 0);
                b.fill((byte) 0);
                int row = 0;
                for (int k = 0; k < 2; k++) {
                    LoraPair src = (k == 0 ? p1 : p2).get(p.baseName());
                    if (src == null || src.rank() == 0) continue;
                    float s = scale(k == 0 ? i1 : i2, src.rank());
                    MemorySegment.copy(src.a(), 0, a, row * p.nIn() * Float.BYTES, src.rank() * src.nIn() * Float.BYTES);
                    for (long o = 0; o < p.nOut(); o++) {
                        for (long j = 0; j < src.rank(); j++) {
                            float v = src.b().getAtIndex(ValueLayout.JAVA_FLOAT, o * src.rank() + j);
                            b.setAtIndex(ValueLayout.JAVA_FLOAT, o * rank + row + j, v * s);
                        }
                    }
                    row += (int) src.rank();
                }
            }
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    private static int rankOf(LoraPair p) {
        return p == null ? 0 : (int) p.rank();
    }

    /** The factor one pair of rank r is applied with (the engine's rule: alpha 0 means 1). */
    static float scale(AdapterInfo info, long r) {
        if (info.alpha() == 0) return 1f;
        return info.rslora() ? (float) (info.alpha() / Math.sqrt(r)) : (float) (info.alpha() / r);
    }

    private static Map<String, LoraPair> byName(List<LoraPair> pairs) {
        Map<String, LoraPair> m = new HashMap<>();
        for (LoraPair p : pairs) m.put(p.baseName(), p);
        return m;
    }
}
