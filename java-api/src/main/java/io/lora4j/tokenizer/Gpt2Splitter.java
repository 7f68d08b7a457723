package io.lora4j.tokenizer;

/**
 * The GPT-2 pre-tokenizer regex
 * {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}
 * as a scanner, with llama.cpp's semantics: a whitespace run followed by more text in the same
 * chunk leaves its last character to start the next piece.
 */
final class Gpt2Splitter extends ScanSplitter {

    private static final int WORDISH = CodepointFlags.WHITESPACE | CodepointFlags.LETTER | CodepointFlags.NUMBER;

    @Override
    int pieceEnd(int[] cps, int pos, int end) {
        int contraction = contractionLength(cps, pos, end, false);
        if (contraction > 0) {
            return pos + contraction;
        }
        int cp = cps[pos];
        int lead = cp == ' ' ? flagsAt(cps, pos + 1, end) : flagsAt(cps, pos, end);
        int body = cp == ' ' ? pos + 1 : pos;
        if ((lead & CodepointFlags.LETTER) != 0) {
            return runOf(cps, body, end, CodepointFlags.LETTER);
        }
        if ((lead & CodepointFlags.NUMBER) != 0) {
            return runOf(cps, body, end, CodepointFlags.NUMBER);
        }
        if ((lead & WORDISH) == 0 && lead != 0) {
            int p = body;
            while (p < end && (flagsAt(cps, p, end) & WORDISH) == 0) {
                p++;
            }
            return p;
        }
        int spaces = whitespaceRun(cps, pos, end);
        if (spaces > 1 && pos + spaces < end) {
            return pos + spaces - 1;
        }
        return pos + Math.max(spaces, 1);
    }

    private static int runOf(int[] cps, int p, int end, int flag) {
        while ((flagsAt(cps, p, end) & flag) != 0) {
            p++;
        }
        return p;
    }
}
