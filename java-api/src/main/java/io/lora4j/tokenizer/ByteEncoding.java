package io.lora4j.tokenizer;

import java.util.Arrays;

/**
 * GPT-2's reversible byte-to-unicode mapping used by byte-level BPE vocabularies: printable
 * Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves, the other 68 bytes map in
 * order to U+0100, U+0101, ... so every token is printable text.
 */
final class ByteEncoding {

    private static final char[] BYTE_TO_CHAR = new char[256];
    /** Indexed by char value; -1 where a char is not the image of any byte. */
    private static final int[] CHAR_TO_BYTE = new int[256 + 68];

    static {
        Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = (char) (printable ? b : next++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteEncoding() {
    }

    static char encode(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte a char stands for, or -1 if it stands for none. */
    static int decode(int c) {
        return c >= 0 && c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }
}
