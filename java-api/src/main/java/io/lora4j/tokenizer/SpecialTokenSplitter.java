package io.lora4j.tokenizer;

import java.util.Arrays;
import java.util.BitSet;

/**
 * Cuts a text into raw-text fragments and special tokens before tokenization, like llama.cpp's
 * tokenizer_st_partition: special tokens are taken one at a time, longest text first, and each
 * one splits every remaining raw fragment at all its non-overlapping occurrences (left to right).
 * User-defined tokens are always split out; control and unknown tokens only when parsing special
 * tokens.
 */
final class SpecialTokenSplitter {

    /** Marks a raw-text fragment in {@link Fragments#token}. */
    static final int RAW = -1;

    /** Fragments in text order: [start, end) char ranges of the text, and a token id or {@link #RAW}. */
    static final class Fragments {
        int[] start = new int[8];
        int[] end = new int[8];
        int[] token = new int[8];
        int size;

        void add(int s, int e, int tok) {
            if (size == start.length) {
                start = Arrays.copyOf(start, size * 2);
                end = Arrays.copyOf(end, size * 2);
                token = Arrays.copyOf(token, size * 2);
            }
            start[size] = s;
            end[size] = e;
            token[size] = tok;
            size++;
        }
    }

    private final Vocabulary vocab;
    private final int[] order;
    private final TrieNode root = new TrieNode();

    SpecialTokenSplitter(Vocabulary vocab) {
        this.vocab = vocab;
        this.order = vocab.specialTokensLongestFirst();
        for (int rank = 0; rank < order.length; rank++) {
            root.insert(vocab.tokens()[order[rank]], rank);
        }
    }

    Fragments split(String text, boolean parseSpecial) {
        Fragments fragments = new Fragments();
        if (text.isEmpty()) {
            return fragments;
        }
        fragments.add(0, text.length(), RAW);
        BitSet present = present(text);
        for (int rank = present.nextSetBit(0); rank >= 0; rank = present.nextSetBit(rank + 1)) {
            int id = order[rank];
            if (!parseSpecial && (vocab.attrs(id) & (Vocabulary.ATTR_CONTROL | Vocabulary.ATTR_UNKNOWN)) != 0) {
                continue;
            }
            fragments = splitOn(text, fragments, id);
        }
        return fragments;
    }

    /** Ranks of the special tokens that occur anywhere in the text (one trie walk per position). */
    private BitSet present(String text) {
        BitSet found = new BitSet(order.length);
        for (int i = 0; i < text.length(); i++) {
            TrieNode node = root;
            for (int j = i; j < text.length(); j++) {
                node = node.child(text.charAt(j));
                if (node == null) {
                    break;
                }
                if (node.rank >= 0) {
                    found.set(node.rank);
                }
            }
        }
        return found;
    }

    private Fragments splitOn(String text, Fragments in, int id) {
        String special = vocab.tokens()[id];
        int len = special.length();
        int[] occurrences = occurrences(text, special);
        Fragments out = new Fragments();
        for (int f = 0; f < in.size; f++) {
            int end = in.end[f];
            if (in.token[f] != RAW) {
                out.add(in.start[f], end, in.token[f]);
                continue;
            }
            int cursor = in.start[f];
            for (int k = firstAtOrAfter(occurrences, cursor);
                 k < occurrences.length && occurrences[k] + len <= end;
                 k = firstAtOrAfter(occurrences, cursor)) {
                if (occurrences[k] > cursor) {
                    out.add(cursor, occurrences[k], RAW);
                }
                out.add(occurrences[k], occurrences[k] + len, id);
                cursor = occurrences[k] + len;
            }
            if (cursor < end) {
                out.add(cursor, end, RAW);
            }
        }
        return out;
    }

    /** Start positions of every (possibly overlapping) occurrence, ascending. */
    private static int[] occurrences(String text, String special) {
        IntList positions = new IntList();
        for (int at = text.indexOf(special); at >= 0; at = text.indexOf(special, at + 1)) {
            positions.add(at);
        }
        return positions.toArray();
    }

    private static int firstAtOrAfter(int[] sorted, int value) {
        int i = Arrays.binarySearch(sorted, value);
        return i >= 0 ? i : -i - 1;
    }

    /** A character trie over the special token texts; {@code rank} marks where a text ends. */
    private static final class TrieNode {
        private char[] keys = new char[0];
        private TrieNode[] children = new TrieNode[0];
        private int rank = -1;

        void insert(String text, int tokenRank) {
            TrieNode node = this;
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                TrieNode next = node.child(c);
                if (next == null) {
                    next = node.add(c);
                }
                node = next;
            }
            node.rank = tokenRank;
        }

        TrieNode child(char c) {
            int i = Arrays.binarySearch(keys, c);
            return i >= 0 ? children[i] : null;
        }

        private TrieNode add(char c) {
            int at = -Arrays.binarySearch(keys, c) - 1;
            char[] k = new char[keys.length + 1];
            TrieNode[] ch = new TrieNode[children.length + 1];
            System.arraycopy(keys, 0, k, 0, at);
            System.arraycopy(children, 0, ch, 0, at);
            k[at] = c;
            ch[at] = new TrieNode();
            System.arraycopy(keys, at, k, at + 1, keys.length - at);
            System.arraycopy(children, at, ch, at + 1, children.length - at);
            keys = k;
            children = ch;
            return ch[at];
        }
    }
}
