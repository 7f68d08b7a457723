package io.lora4j.lora;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/** Gives an adapter "trained" values: random A, B and bias deltas written through its pairs. */
public final class TestAdapters {
    private TestAdapters() {}

    /** Fills every A and B (and bias delta) with gaussians times {@code scale}. */
    public static Adapter randomize(Adapter adapter, long seed, float scale) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (LoraPair p : adapter.pairs()) {
            fill(p.a(), rng, scale);
            fill(p.b(), rng, scale);
            if (p.hasBias()) fill(p.biasDelta(), rng, scale);
        }
        return adapter;
    }

    private static void fill(MemorySegment s, SplittableRandom rng, float scale) {
        for (long i = 0; i < s.byteSize() / Float.BYTES; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rng.nextGaussian() * scale);
    }
}
