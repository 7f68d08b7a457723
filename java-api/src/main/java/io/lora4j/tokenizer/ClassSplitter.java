package io.lora4j.tokenizer;

import java.util.function.IntPredicate;

/**
 * Split rules for the simple regexes of the DeepSeek, StarCoder, Falcon and default
 * pre-tokenizers, each one character class with a fixed shape:
 * <ul>
 * <li>{@link Shape#EACH}: {@code [C]}</li>
 * <li>{@link Shape#RUN}: {@code [C]+}</li>
 * <li>{@link Shape#SPACE_THEN_RUN}: {@code \s?[C]+}</li>
 * <li>{@link Shape#TRIPLE}: {@code [C][C][C]}</li>
 * <li>{@link Shape#TRAILING_SPACE}: {@code \s+$}</li>
 * </ul>
 * Like llama.cpp's regex split, each match and each gap between matches becomes a piece, matches
 * are found left to right without overlap, and matching stays within the current chunk.
 * {@code \s} is the Unicode White_Space set: llama.cpp feeds std::regex U+000B in place of
 * non-ASCII whitespace, so \s sees it but no character class does.
 */
final class ClassSplitter implements SplitRule {

    enum Shape { EACH, RUN, SPACE_THEN_RUN, TRIPLE, TRAILING_SPACE }

    private final Shape shape;
    private final IntPredicate member;

    ClassSplitter(Shape shape, IntPredicate member) {
        this.shape = shape;
        this.member = cp -> (cp < 0x80 || !CodepointFlags.isWhitespace(cp)) && member.test(cp);
    }

    /** {@code \s+$}: no class. */
    static ClassSplitter trailingSpace() {
        return new ClassSplitter(Shape.TRAILING_SPACE, cp -> false);
    }

    @Override
    public void split(int[] cps, IntList chunks, IntList out) {
        int start = 0;
        for (int c = 0; c < chunks.size(); c++) {
            int end = start + chunks.get(c);
            if (shape == Shape.TRAILING_SPACE) {
                splitTrailingSpace(cps, start, end, out);
            } else {
                splitChunk(cps, start, end, out);
            }
            start = end;
        }
    }

    private void splitChunk(int[] cps, int start, int end, IntList out) {
        int last = start;
        for (int pos = start; pos < end; ) {
            int matchEnd = matchAt(cps, pos, end);
            if (matchEnd < 0) {
                pos++;
                continue;
            }
            if (pos > last) {
                out.add(pos - last);
            }
            out.add(matchEnd - pos);
            last = pos = matchEnd;
        }
        if (last < end) {
            out.add(end - last);
        }
    }

    private static void splitTrailingSpace(int[] cps, int start, int end, IntList out) {
        int from = end;
        while (from > start && CodepointFlags.isWhitespace(cps[from - 1])) {
            from--;
        }
        if (from > start) {
            out.add(from - start);
        }
        if (from < end) {
            out.add(end - from);
        }
    }

    /** End of the match starting exactly at pos, or -1. */
    private int matchAt(int[] cps, int pos, int end) {
        switch (shape) {
            case EACH -> {
                return member.test(cps[pos]) ? pos + 1 : -1;
            }
            case RUN -> {
                return member.test(cps[pos]) ? runEnd(cps, pos, end) : -1;
            }
            case SPACE_THEN_RUN -> {
                if (CodepointFlags.isWhitespace(cps[pos]) && pos + 1 < end && member.test(cps[pos + 1])) {
                    return runEnd(cps, pos + 1, end);
                }
                return member.test(cps[pos]) ? runEnd(cps, pos, end) : -1;
            }
            case TRIPLE -> {
                return pos + 3 <= end && member.test(cps[pos]) && member.test(cps[pos + 1]) && member.test(cps[pos + 2])
                        ? pos + 3 : -1;
            }
            default -> throw new IllegalStateException("shape " + shape + " has no single-position match");
        }
    }

    private int runEnd(int[] cps, int pos, int end) {
        while (pos < end && member.test(cps[pos])) {
            pos++;
        }
        return pos;
    }
}
