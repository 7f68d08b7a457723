package io.lora4j.tokenizer;

/**
 * A split rule written as a hand-coded scanner instead of a regex: llama.cpp implements its two
 * most common pre-tokenizer regexes this way, and its scanners (not the regexes) define the
 * reference behaviour. Subclasses return where the piece starting at a position ends.
 */
abstract class ScanSplitter implements SplitRule {

    @Override
    public final void split(int[] cps, IntList chunks, IntList out) {
        int start = 0;
        for (int c = 0; c < chunks.size(); c++) {
            int end = start + chunks.get(c);
            for (int pos = start; pos < end; ) {
                int next = pieceEnd(cps, pos, end);
                out.add(next - pos);
                pos = next;
            }
            start = end;
        }
    }

    /** End (exclusive) of the piece that starts at {@code pos}; always greater than pos, at most end. */
    abstract int pieceEnd(int[] cps, int pos, int end);

    /** Flags of the code point at pos, or 0 past the chunk end (the scanners' "out of range"). */
    static int flagsAt(int[] cps, int pos, int end) {
        return pos < end ? CodepointFlags.of(cps[pos]) : 0;
    }

    /** Length of a contraction ('s 't 'm 'd 're 've 'll) starting at pos, or 0. */
    static int contractionLength(int[] cps, int pos, int end, boolean ignoreCase) {
        if (cps[pos] != '\'' || pos + 1 >= end) {
            return 0;
        }
        int a = fold(cps[pos + 1], ignoreCase);
        if (a == 's' || a == 't' || a == 'm' || a == 'd') {
            return 2;
        }
        if (pos + 2 < end) {
            int b = fold(cps[pos + 2], ignoreCase);
            if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
                return 3;
            }
        }
        return 0;
    }

    /** Length of the whitespace run starting at pos. */
    static int whitespaceRun(int[] cps, int pos, int end) {
        int n = 0;
        while ((flagsAt(cps, pos + n, end) & CodepointFlags.WHITESPACE) != 0) {
            n++;
        }
        return n;
    }

    private static int fold(int cp, boolean ignoreCase) {
        return ignoreCase ? Character.toLowerCase(cp) : cp;
    }
}
