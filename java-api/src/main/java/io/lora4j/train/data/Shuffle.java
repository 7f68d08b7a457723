package io.lora4j.train.data;

import java.util.Random;

/**
 * Seeded permutations. {@link Random}'s algorithm is fixed by its specification, so the same
 * (seed, stream) gives the same permutation on every JVM; the stream separates independent uses
 * of one seed (each epoch's order, the eval split).
 */
public final class Shuffle {

    /** Stream id of the eval split; epochs use their own index. */
    static final long SPLIT_STREAM = -1;

    private Shuffle() {}

    public static int[] permutation(int n, long seed, long stream) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        Random random = new Random(mix(seed + 0x9E3779B97F4A7C15L * (stream + 1)));
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** SplitMix64's finalizer: nearby seeds give unrelated generator states. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
