package io.lora4j.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * llama.cpp's SentencePiece-style tokenization of one raw-text fragment: start from single
 * characters and repeatedly merge the adjacent pair whose concatenation is the highest-scoring
 * vocabulary token (ties: leftmost first); characters left without a token fall back to their
 * UTF-8 bytes (&lt;0xXX&gt; tokens).
 *
 * <p>Queue entries are (score, left symbol) packed in a long and are checked when popped: an entry
 * is current exactly when the pair now starting at that symbol still forms a token with that score
 * (any other entry with the same key describes the same pair, so popping either one is equivalent).
 */
final class SpmEncoder {

    private final Vocabulary vocab;
    private final StringIndex index;

    SpmEncoder(Vocabulary vocab) {
        this.vocab = vocab;
        this.index = vocab.tokenIndex();
    }

    /** Tokenizes text (already space-escaped to U+2581) and appends the ids to out. */
    void encode(String text, IntList out) {
        int n = text.length();
        if (n == 0) {
            return;
        }
        // Symbols are code points; symbol i covers text[start[i], start[i] + len[i]).
        int[] start = new int[n];
        int[] len = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        int count = 0;
        for (int i = 0; i < n; ) {
            int width = Character.charCount(text.codePointAt(i));
            start[count] = i;
            len[count] = width;
            prev[count] = count - 1;
            next[count] = i + width < n ? count + 1 : -1;
            count++;
            i += width;
        }

        LongMinHeap queue = new LongMinHeap();
        for (int i = 1; i < count; i++) {
            offer(queue, text, start, len, i - 1, i);
        }
        while (!queue.isEmpty()) {
            long entry = queue.pop();
            int left = (int) entry;
            int right = next[left];
            if (len[left] == 0 || right < 0) {
                continue;
            }
            int id = index.get(text, start[left], start[left] + len[left] + len[right]);
            if (id == StringIndex.ABSENT || key(vocab.score(id), left) != entry) {
                continue;
            }
            len[left] += len[right];
            len[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                offer(queue, text, start, len, prev[left], left);
            }
            if (next[left] >= 0) {
                offer(queue, text, start, len, left, next[left]);
            }
        }

        for (int i = 0; i != -1; i = next[i]) {
            int id = index.get(text, start[i], start[i] + len[i]);
            if (id != StringIndex.ABSENT) {
                out.add(id);
            } else {
                appendBytes(text.substring(start[i], start[i] + len[i]), out);
            }
        }
    }

    private void offer(LongMinHeap queue, String text, int[] start, int[] len, int left, int right) {
        int id = index.get(text, start[left], start[left] + len[left] + len[right]);
        if (id != StringIndex.ABSENT) {
            queue.push(key(vocab.score(id), left));
        }
    }

    /** Orders by score descending, then by left position ascending. */
    private static long key(float score, int left) {
        int bits = Float.floatToIntBits(score + 0.0f); // +0.0f folds -0.0 into 0.0
        int ascending = bits ^ ((bits >> 31) & 0x7FFFFFFF);
        return ((long) ~ascending << 32) | left;
    }

    /** Byte fallback; a byte without a token becomes the unknown token (llama.cpp would abort). */
    private void appendBytes(String symbol, IntList out) {
        for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
            int id = vocab.byteToken(b);
            if (id == StringIndex.ABSENT) {
                id = vocab.unknownId();
                if (id == Vocabulary.NO_TOKEN) {
                    throw new IllegalArgumentException("no byte token for byte 0x"
                            + Integer.toHexString(b & 0xFF) + " and no unknown token in the vocabulary");
                }
            }
            out.add(id);
        }
    }
}
