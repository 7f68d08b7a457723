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
    /** Bytes not yet turned into text. */
    private byte[] pending = new byte[64];
    private int pendingLength;
    private boolean stripLeadingSpace;
    private boolean finished;

    TokenDecoder(Vocabulary vocab, byte[][] pieces, boolean renderSpecial, boolean continuation) {
        this.vocab = vocab;
        this.pieces = pieces;
        this.renderSpecial = renderSpecial;
        this.cleaner = vocab.cleanSpaces() ? new SpaceCleaner(this::put) : null;
        // SentencePiece text starts with the space added before the first word; it is removed again,
        // unless the tokens continue a text decoded elsewhere (a completion after its prompt).
        this.stripLeadingSpace = vocab.addSpacePrefix() && !continuation;
    }

    /**
     * Adds one token and returns the text it completes (possibly empty).
     *
     * @throws IllegalArgumentException if the id is outside the vocabulary
     * @throws IllegalStateException    after {@link #finish()}
     */
    public String next(int id) {
        append(id);
        return drain(false);
    }

    /** Ends the stream and returns the text still held back; later calls return "". */
    public String finish() {
        if (finished) {
            return "";
        }
        finished = true;
        if (cleaner != null) {
            cleaner.finish();
        }
        return drain(true);
    }

    /** Adds a token's bytes without producing text yet (batch decoding). */
    void append(int id) {
        if (finished) {
            throw new IllegalStateException("decoder already finished");
        }
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException("token id " + id + " out of range [0, " + pieces.length + ")");
        }
        boolean hidden = !renderSpecial
                && (vocab.attrs(id) & (Vocabulary.ATTR_CONTROL | Vocabulary.ATTR_UNKNOWN)) != 0;
        byte[] piece = pieces[id];
        int length = hidden ? 0 : piece.length;
        int from = stripLeadingSpace && length > 0 && piece[0] == ' ' ? 1 : 0;
        stripLeadingSpace = false;
        if (cleaner != null) {
            cleaner.feed(piece, from, length);
        } else {
            for (int i = from; i < length; i++) {
                put(piece[i]);
            }
        }
    }

    private void put(int b) {
        if (pendingLength == pending.length) {
            pending = Arrays.copyOf(pending, pendingLength * 2);
        }
        pending[pendingLength++] = (byte) b;
    }

    /** Decodes the complete characters of the pending bytes (all of them at the end of input). */
    private String drain(boolean endOfInput) {
        if (pendingLength == 0) {
            return "";
        }
        ByteBuffer in = ByteBuffer.wrap(pending, 0, pendingLength);
        // A UTF-8 byte never decodes to more than one char, except a 4-byte sequence (two chars).
        CharBuffer out = CharBuffer.allocate(pendingLength + 1);
        utf8.decode(in, out, endOfInput);
        if (endOfInput) {
            utf8.flush(out);
        }
        pendingLength = in.remaining();
        System.arraycopy(pending, in.position(), pending, 0, pendingLength);
        return out.flip().toString();
    }
}
