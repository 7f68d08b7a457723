package io.lora4j.tokenizer;

/**
 * An immutable map from distinct strings to non-negative ints that can be queried with a slice
 * of a larger text (or two slices joined by a space, the BPE merge key "left right") without
 * allocating a substring: open addressing with String.hashCode-style hashes.
 */
final class StringIndex {

    static final int ABSENT = -1;

    private final String[] keys;
    /** Mixed hash of each key, compared before the key itself to skip most mismatching slots. */
    private final int[] hashes;
    private final int[] values;
    private final int mask;

    /** Indexes keys[i] -> i for each non-null key; a key seen twice keeps its first index. */
    StringIndex(String[] keysInOrder) {
        int capacity = Integer.highestOneBit(Math.max(4, keysInOrder.length * 2 + 1)) * 2;
        keys = new String[capacity];
        hashes = new int[capacity];
        values = new int[capacity];
        mask = capacity - 1;
        for (int i = 0; i < keysInOrder.length; i++) {
            String key = keysInOrder[i];
            if (key != null) {
                insertIfAbsent(key, i);
            }
        }
    }

    private void insertIfAbsent(String key, int value) {
        int hash = mix(key.hashCode());
        int slot = hash & mask;
        while (keys[slot] != null) {
            if (hashes[slot] == hash && keys[slot].equals(key)) {
                return;
            }
            slot = (slot + 1) & mask;
        }
        keys[slot] = key;
        hashes[slot] = hash;
        values[slot] = value;
    }

    int get(String key) {
        return get(key, 0, key.length());
    }

    /** The value of the key equal to text[from, to), or {@link #ABSENT}. */
    int get(CharSequence text, int from, int to) {
        int h = 0;
        for (int i = from; i < to; i++) {
            h = 31 * h + text.charAt(i);
        }
        int len = to - from;
        int hash = mix(h);
        for (int slot = hash & mask; keys[slot] != null; slot = (slot + 1) & mask) {
            String k = keys[slot];
            if (hashes[slot] == hash && k.length() == len && regionEquals(k, 0, text, from, len)) {
                return values[slot];
            }
        }
        return ABSENT;
    }

    /** The value of the key equal to text[aFrom, aTo) + " " + text[bFrom, bTo), or {@link #ABSENT}. */
    int getPair(CharSequence text, int aFrom, int aTo, int bFrom, int bTo) {
        int h = 0;
        for (int i = aFrom; i < aTo; i++) {
            h = 31 * h + text.charAt(i);
        }
        h = 31 * h + ' ';
        for (int i = bFrom; i < bTo; i++) {
            h = 31 * h + text.charAt(i);
        }
        int aLen = aTo - aFrom;
        int bLen = bTo - bFrom;
        int hash = mix(h);
        for (int slot = hash & mask; keys[slot] != null; slot = (slot + 1) & mask) {
            String k = keys[slot];
            if (hashes[slot] == hash && k.length() == aLen + 1 + bLen && k.charAt(aLen) == ' '
                    && regionEquals(k, 0, text, aFrom, aLen) && regionEquals(k, aLen + 1, text, bFrom, bLen)) {
                return values[slot];
            }
        }
        return ABSENT;
    }

    private static boolean regionEquals(String key, int keyFrom, CharSequence text, int from, int len) {
        for (int i = 0; i < len; i++) {
            if (key.charAt(keyFrom + i) != text.charAt(from + i)) {
                return false;
            }
        }
        return true;
    }

    /** Spreads String.hashCode's low bits, which are weak for short keys. */
    private static int mix(int h) {
        h ^= h >>> 16;
        h *= 0x85EBCA6B;
        h ^= h >>> 13;
        return h;
    }
}
