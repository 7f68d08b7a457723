package io.lora4j.tokenizer;

import java.util.Arrays;
import java.util.function.IntPredicate;

/** A set of code points given as sorted, disjoint inclusive ranges; membership by binary search. */
final class CodepointSet implements IntPredicate {

    private final int[] firsts;
    private final int[] lasts;

    /** @param bounds first0, last0, first1, last1, ... ascending and non-overlapping */
    static CodepointSet ofRanges(int... bounds) {
        if (bounds.length % 2 != 0) {
            throw new IllegalArgumentException("ranges need an even number of bounds");
        }
        int[] firsts = new int[bounds.length / 2];
        int[] lasts = new int[bounds.length / 2];
        for (int i = 0; i < firsts.length; i++) {
            firsts[i] = bounds[2 * i];
            lasts[i] = bounds[2 * i + 1];
            if (lasts[i] < firsts[i] || (i > 0 && firsts[i] <= lasts[i - 1])) {
                throw new IllegalArgumentException("range " + i + " is empty, unsorted or overlapping");
            }
        }
        return new CodepointSet(firsts, lasts);
    }

    private CodepointSet(int[] firsts, int[] lasts) {
        this.firsts = firsts;
        this.lasts = lasts;
    }

    @Override
    public boolean test(int cp) {
        int i = Arrays.binarySearch(firsts, cp);
        if (i >= 0) {
            return true;
        }
        int range = -i - 2;
        return range >= 0 && cp <= lasts[range];
    }
}
