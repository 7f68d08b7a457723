package io.lora4j.tools;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A SentencePiece-style vocabulary made up by code, for models the project creates itself
 * (tests, benchmarks, the demo's random start): &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, the 256 byte-fallback
 * tokens, then printable pieces ("▁a", "a", "ab", …) until {@code size} tokens exist.
 */
public record SyntheticVocab(List<String> tokens, float[] scores, int[] types) {
    public static final int UNK = 0;
    public static final int BOS = 1;
    public static final int EOS = 2;

    private static final int TYPE_NORMAL = 1;
    private static final int TYPE_UNKNOWN = 2;
    private static final int TYPE_CONTROL = 3;
    private static final int TYPE_BYTE = 6;
    private static final String ALPHABET =
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;!?'\"()[]{}<>+-*/=_#@%&|~^$";

    public static SyntheticVocab of(int size) {
        if (size < 260 + ALPHABET.length()) {
            throw new IllegalArgumentException("a synthetic vocabulary needs at least "
                    + (260 + ALPHABET.length()) + " tokens, got " + size);
        }
        List<String> tokens = new ArrayList<>(size);
        List<Integer> types = new ArrayList<>(size);
        tokens.add("<unk>");
        types.add(TYPE_UNKNOWN);
        tokens.add("<s>");
        types.add(TYPE_CONTROL);
        tokens.add("</s>");
        types.add(TYPE_CONTROL);
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            types.add(TYPE_BYTE);
        }
        Set<String> pieces = new LinkedHashSet<>();
        pieces.add("\u2581");
        for (char c : ALPHABET.toCharArray()) pieces.add(String.valueOf(c));
        for (char c : ALPHABET.toCharArray()) pieces.add("\u2581" + c);
        int need = size - tokens.size();
        outer:
        for (int len = 2; pieces.size() < need; len++) {
            for (String prefix : List.copyOf(pieces)) {
                if (pieces.size() >= need) break outer;
                if (prefix.length() != len - 1) continue;
                for (char c : "etaoinshrdlucmfwypvbgkjqxz".toCharArray()) {
                    if (pieces.size() >= need) break outer;
                    pieces.add(prefix + c);
                }
            }
        }
        for (String p : pieces) {
            if (tokens.size() == size) break;
            tokens.add(p);
            types.add(TYPE_NORMAL);
        }
        float[] scores = new float[size];
        int[] typeArray = new int[size];
        for (int i = 0; i < size; i++) {
            typeArray[i] = types.get(i);
            // Shorter pieces first get higher scores, as a trained SentencePiece model would give.
            scores[i] = typeArray[i] == TYPE_NORMAL ? -i : 0f;
        }
        return new SyntheticVocab(List.copyOf(tokens), scores, typeArray);
    }
}
