package io.lora4j.tokenizer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns token ids into text one id at a time, for streaming generation. Each call returns only
 * text that is complete: the bytes of a UTF-8 character split over several tokens are held back
 * until the character is whole, as are the few bytes the space clean-up may still change. Call
 * {@link #finish()} at the end for whatever is held back (an unfinished character becomes
 * U+FFFD). The concatenation of all returned strings equals {@link Tokenizer#decode(int[], boolean)}
 * of the same ids. Not thread-safe; use one decoder per stream.
 */
public final class TokenDecoder {

    private final Vocabulary vocab;
    private final byte[][] pieces;
    private final boolean renderSpecial;
    private final SpaceCleaner cleaner;
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    private ByteBuffer pending = ByteBuffer.allocate(16);
    private boolean stripLeadingSpace;
    private boolean finished;

    TokenDecoder(Vocabulary vocab, byte[][] pieces, boolean renderSpecial) {
        this.vocab = vocab;
        this.pieces = pieces;
        this.renderSpecial = renderSpecial;
        this.cleaner = vocab.cleanSpaces() ? new SpaceCleaner() : null;
        // SentencePiece text starts with the space added before the first word; it is removed again.
        this.stripLeadingSpace = vocab.addSpacePrefix();
    }

    /**
     * Adds one token and returns the text it completes (possibly empty).
     *
     * @throws IllegalArgumentException if the id is outside the vocabulary
     * @throws IllegalStateException    after {@link #finish()}
     */
    public String next(int id) {
        if (finished) {
            throw new IllegalStateException("decoder already finished");
        }
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException("token id " + id + " out of range [0, " + pieces.length + ")");
        }
        boolean hidden = !renderSpecial
                && (vocab.attrs(id) & (Vocabulary.ATTR_CONTROL | Vocabulary.ATTR_UNKNOWN)) != 0;
        byte[] piece = hidden ? new byte[0] : pieces[id];
        int from = stripLeadingSpace && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
        stripLeadingSpace = false;
        byte[] ready = cleaner == null ? Arrays.copyOfRange(piece, from, piece.length)
                : cleaner.feed(piece, from, piece.length);
        return decode(ready, false);
    }

    /** Ends the stream and returns the text still held back. */
    public String finish() {
        if (finished) {
            return "";
        }
        finished = true;
        byte[] rest = cleaner == null ? new byte[0] : cleaner.finish();
        return decode(rest, true);
    }

    private String decode(byte[] bytes, boolean endOfInput) {
        if (pending.remaining() < bytes.length) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(pending.capacity() * 2, pending.position() + bytes.length));
            pending.flip();
            bigger.put(pending);
            pending = bigger;
        }
        pending.put(bytes);
        pending.flip();
        // A UTF-8 byte never decodes to more than one char, except a 4-byte sequence (two chars).
        CharBuffer chars = CharBuffer.allocate(pending.remaining() + 1);
        utf8.decode(pending, chars, endOfInput);
        if (endOfInput) {
            utf8.flush(chars);
        }
        pending.compact();
        return chars.flip().toString();
    }
}
