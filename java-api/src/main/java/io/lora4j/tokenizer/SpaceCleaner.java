package io.lora4j.tokenizer;

import java.util.function.IntConsumer;

/**
 * The clean-up llama.cpp's detokenizer applies for vocabularies with clean_spaces (e.g. GPT-2),
 * done as a stream so that it can run on text that arrives one token at a time. llama.cpp runs
 * three passes over the whole text; each is local, so each becomes a small state machine that
 * holds back at most a few pending bytes:
 * <ol>
 * <li>drop a space before {@code ? ! . ,}</li>
 * <li>turn {@code " ' "} into {@code "'"} (left to right, a consumed space starts nothing)</li>
 * <li>drop the space in {@code " 's"}, {@code " 'm"}, {@code " 're"}, {@code " 've"}</li>
 * </ol>
 * All patterns are ASCII, so working on UTF-8 bytes never splits a character.
 */
final class SpaceCleaner {

    private final IntConsumer out;

    // pass 1: a space is pending
    private boolean spacePending;
    // pass 2: 0 nothing, 1 " ", 2 " '"
    private int quoteState;
    // pass 3: 0 nothing, 1 " ", 2 " '", 3 " 'r" or " 'v" (letter in contractionLetter)
    private int contractionState;
    private int contractionLetter;

    /** @param out receives the cleaned bytes as soon as later input can no longer change them */
    SpaceCleaner(IntConsumer out) {
        this.out = out;
    }

    void feed(byte[] bytes, int from, int to) {
        for (int i = from; i < to; i++) {
            pass1(bytes[i]);
        }
    }

    /** Ends the text: releases every byte still held back. */
    void finish() {
        if (spacePending) {
            spacePending = false;
            pass2(' ');
        }
        if (quoteState >= 1) {
            pass3(' ');
        }
        if (quoteState == 2) {
            pass3('\'');
        }
        quoteState = 0;
        if (contractionState >= 1) {
            emit(' ');
        }
        if (contractionState >= 2) {
            emit('\'');
        }
        if (contractionState == 3) {
            emit(contractionLetter);
        }
        contractionState = 0;
    }

    private void pass1(int b) {
        if (spacePending) {
            spacePending = false;
            if (b != '?' && b != '!' && b != '.' && b != ',') {
                pass2(' ');
            }
        }
        if (b == ' ') {
            spacePending = true;
        } else {
            pass2(b);
        }
    }

    private void pass2(int b) {
        switch (quoteState) {
            case 0 -> {
                if (b == ' ') {
                    quoteState = 1;
                } else {
                    pass3(b);
                }
            }
            case 1 -> {
                if (b == '\'') {
                    quoteState = 2;
                } else if (b == ' ') {
                    pass3(' ');
                } else {
                    quoteState = 0;
                    pass3(' ');
                    pass3(b);
                }
            }
            default -> {
                quoteState = 0;
                if (b == ' ') {
                    pass3('\'');
                } else {
                    pass3(' ');
                    pass3('\'');
                    pass2(b);
                }
            }
        }
    }

    private void pass3(int b) {
        switch (contractionState) {
            case 0 -> {
                if (b == ' ') {
                    contractionState = 1;
                } else {
                    emit(b);
                }
            }
            case 1 -> {
                if (b == '\'') {
                    contractionState = 2;
                } else if (b == ' ') {
                    emit(' ');
                } else {
                    contractionState = 0;
                    emit(' ');
                    emit(b);
                }
            }
            case 2 -> {
                if (b == 's' || b == 'm') {
                    contractionState = 0;
                    emit('\'');
                    emit(b);
                } else if (b == 'r' || b == 'v') {
                    contractionState = 3;
                    contractionLetter = b;
                } else {
                    contractionState = 0;
                    emit(' ');
                    emit('\'');
                    pass3(b);
                }
            }
            default -> {
                contractionState = 0;
                if (b == 'e') {
                    emit('\'');
                    emit(contractionLetter);
                    emit('e');
                } else {
                    emit(' ');
                    emit('\'');
                    emit(contractionLetter);
                    pass3(b);
                }
            }
        }
    }

    private void emit(int b) {
        out.accept(b & 0xFF);
    }
}
