package io.lora4j.tokenizer;

/**
 * The Llama 3 pre-tokenizer regex
 * {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+}
 * as a scanner with llama.cpp's semantics. Qwen2's regex is the same with {@code \p{N}} in place
 * of {@code \p{N}{1,3}} (llama.cpp runs that one through std::regex, with the same result), so
 * the digit group size is a parameter.
 */
final class Llama3Splitter extends ScanSplitter {

    private final int digitGroup;

    /** @param digitGroup the most digits one piece holds: 3 for Llama 3, 1 for Qwen2 */
    Llama3Splitter(int digitGroup) {
        if (digitGroup < 1) {
            throw new IllegalArgumentException("digit group must be at least 1");
        }
        this.digitGroup = digitGroup;
    }

    private static final int WORDISH = CodepointFlags.WHITESPACE | CodepointFlags.LETTER | CodepointFlags.NUMBER;

    @Override
    int pieceEnd(int[] cps, int pos, int end) {
        int contraction = contractionLength(cps, pos, end, true);
        if (contraction > 0) {
            return pos + contraction;
        }
        int cp = cps[pos];
        int flags = flagsAt(cps, pos, end);
        boolean newline = cp == '\r' || cp == '\n';
        if (!newline && (flags & CodepointFlags.NUMBER) == 0
                && ((flags & CodepointFlags.LETTER) != 0 || (flagsAt(cps, pos + 1, end) & CodepointFlags.LETTER) != 0)) {
            int p = pos + 1;
            while ((flagsAt(cps, p, end) & CodepointFlags.LETTER) != 0) {
                p++;
            }
            return p;
        }
        if ((flags & CodepointFlags.NUMBER) != 0) {
            int p = pos + 1;
            while (p < pos + digitGroup && (flagsAt(cps, p, end) & CodepointFlags.NUMBER) != 0) {
                p++;
            }
            return p;
        }
        int lead = cp == ' ' ? flagsAt(cps, pos + 1, end) : flags;
        if ((lead & WORDISH) == 0) {
            int p = cp == ' ' ? pos + 1 : pos;
            while (p < end && (flagsAt(cps, p, end) & WORDISH) == 0) {
                p++;
            }
            while (p < end && (cps[p] == '\r' || cps[p] == '\n')) {
                p++;
            }
            return p;
        }
        int spaces = 0;
        int afterLastNewline = -1;
        while ((flagsAt(cps, pos + spaces, end) & CodepointFlags.WHITESPACE) != 0) {
            int c = cps[pos + spaces];
            spaces++;
            if (c == '\r' || c == '\n') {
                afterLastNewline = pos + spaces;
            }
        }
        if (afterLastNewline >= 0) {
            return afterLastNewline;
        }
        if (spaces > 1 && pos + spaces < end) {
            return pos + spaces - 1;
        }
        return pos + Math.max(spaces, 1);
    }
}
