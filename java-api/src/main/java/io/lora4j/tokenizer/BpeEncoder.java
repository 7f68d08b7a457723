package io.lora4j.tokenizer;

/**
 * llama.cpp's byte-level BPE tokenization of one raw-text fragment: pre-tokenize into words,
 * map each word's UTF-8 bytes to GPT-2 byte characters, then within each word repeatedly merge the
 * adjacent pair with the lowest merge rank (ties: leftmost first).
 *
 * <p>Queue entries are (rank, left symbol) packed in a long; an entry is current exactly when the
 * pair now starting at that symbol has that rank (a rank names one pair of texts).
 */
final class BpeEncoder {

    private final Vocabulary vocab;
    private final StringIndex tokens;
    private final StringIndex merges;

    BpeEncoder(Vocabulary vocab) {
        this.vocab = vocab;
        this.tokens = vocab.tokenIndex();
        this.merges = vocab.mergeIndex();
    }

    void encode(String text, IntList out) {
        int[] cps = text.codePoints().toArray();
        IntList pieces = vocab.preTokenizer().split(cps);
        StringBuilder word = new StringBuilder();
        Work work = new Work();
        int at = 0;
        for (int p = 0; p < pieces.size(); p++) {
            int end = at + pieces.get(p);
            word.setLength(0);
            for (int i = at; i < end; i++) {
                appendByteChars(cps[i], word);
            }
            encodeWord(word, work, out);
            at = end;
        }
    }

    /** Appends the GPT-2 byte characters of the code point's UTF-8 encoding. */
    private static void appendByteChars(int cp, StringBuilder word) {
        if (cp < 0x80) {
            word.append(ByteEncoding.encode(cp));
        } else if (cp < 0x800) {
            word.append(ByteEncoding.encode(0xC0 | (cp >> 6)));
            word.append(ByteEncoding.encode(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
            word.append(ByteEncoding.encode(0xE0 | (cp >> 12)));
            word.append(ByteEncoding.encode(0x80 | ((cp >> 6) & 0x3F)));
            word.append(ByteEncoding.encode(0x80 | (cp & 0x3F)));
        } else {
            word.append(ByteEncoding.encode(0xF0 | (cp >> 18)));
            word.append(ByteEncoding.encode(0x80 | ((cp >> 12) & 0x3F)));
            word.append(ByteEncoding.encode(0x80 | ((cp >> 6) & 0x3F)));
            word.append(ByteEncoding.encode(0x80 | (cp & 0x3F)));
        }
    }

    /** Per-call scratch arrays, grown as needed and reused across words. */
    private static final class Work {
        int[] len = new int[64];
        int[] prev = new int[64];
        int[] next = new int[64];
        final LongMinHeap queue = new LongMinHeap();

        void ensure(int n) {
            if (len.length < n) {
                len = new int[n];
                prev = new int[n];
                next = new int[n];
            }
        }
    }

    private void encodeWord(CharSequence word, Work w, IntList out) {
        int n = word.length();
        if (n == 0) {
            return;
        }
        if (vocab.ignoreMerges()) {
            int whole = tokens.get(word, 0, n);
            if (whole != StringIndex.ABSENT) {
                out.add(whole);
                return;
            }
        }
        // Every byte character is one BMP char, so symbol i starts at char i.
        w.ensure(n);
        int[] len = w.len;
        int[] prev = w.prev;
        int[] next = w.next;
        for (int i = 0; i < n; i++) {
            len[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        LongMinHeap queue = w.queue;
        queue.clear();
        for (int i = 1; i < n; i++) {
            offer(queue, word, len, i - 1, i);
        }
        while (!queue.isEmpty()) {
            long entry = queue.pop();
            int left = (int) entry;
            int right = next[left];
            if (len[left] == 0 || right < 0 || rank(word, len, left, right) != (int) (entry >>> 32)) {
                continue;
            }
            len[left] += len[right];
            len[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                offer(queue, word, len, prev[left], left);
            }
            if (next[left] >= 0) {
                offer(queue, word, len, left, next[left]);
            }
        }

        for (int i = 0; i != -1; i = next[i]) {
            int id = tokens.get(word, i, i + len[i]);
            if (id != StringIndex.ABSENT) {
                out.add(id);
                continue;
            }
            // llama.cpp looks each UTF-8 byte of the symbol up as a one-byte token; only ASCII can match.
            for (int c = i; c < i + len[i]; c++) {
                char ch = word.charAt(c);
                int single = ch < 0x80 ? tokens.get(String.valueOf(ch)) : StringIndex.ABSENT;
                if (single != StringIndex.ABSENT) {
                    out.add(single);
                }
            }
        }
    }

    private int rank(CharSequence word, int[] len, int left, int right) {
        return merges.getPair(word, left, left + len[left], right, right + len[right]);
    }

    private void offer(LongMinHeap queue, CharSequence word, int[] len, int left, int right) {
        int rank = rank(word, len, left, right);
        if (rank != StringIndex.ABSENT) {
            queue.push(((long) rank << 32) | left);
        }
    }
}
