package io.lora4j.tokenizer;

import java.util.Map;

/**
 * Text to token ids and back, matching llama.cpp's tokenizer for the same GGUF vocabulary.
 * Immutable and thread-safe; {@link TokenDecoder}s it creates are not.
 */
public final class Tokenizer {

    private final Vocabulary vocab;
    private final SpecialTokenSplitter specialSplitter;
    private final SpmEncoder spm;
    private final BpeEncoder bpe;
    private final byte[][] pieces;

    public Tokenizer(Vocabulary vocab) {
        if (vocab == null) {
            throw new IllegalArgumentException("vocabulary is null");
        }
        this.vocab = vocab;
        this.specialSplitter = new SpecialTokenSplitter(vocab);
        this.spm = vocab.model() == Vocabulary.Model.SPM ? new SpmEncoder(vocab) : null;
        this.bpe = vocab.model() == Vocabulary.Model.BPE ? new BpeEncoder(vocab) : null;
        this.pieces = TokenPieces.build(vocab);
    }

    /** A tokenizer for the {@code tokenizer.ggml.*} keys of GGUF metadata; see {@link Vocabulary#fromMetadata}. */
    public static Tokenizer fromMetadata(Map<String, Object> metadata) {
        return new Tokenizer(Vocabulary.fromMetadata(metadata));
    }

    public Vocabulary vocabulary() {
        return vocab;
    }

    /**
     * Tokenizes text like llama.cpp's {@code llama_tokenize}.
     *
     * @param addSpecial   add BOS (and EOS) as the vocabulary asks ({@link Vocabulary#addBos()},
     *                     {@link Vocabulary#addEos()})
     * @param parseSpecial recognise the texts of control tokens (e.g. "&lt;|im_start|&gt;") in the
     *                     input as those tokens; user-defined tokens are always recognised
     */
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        return encode(text, addSpecial, parseSpecial, true);
    }

    /**
     * Tokenizes text that continues a sequence already started: no BOS or EOS, and no
     * SentencePiece dummy-prefix space at its start, so that it joins the text before it.
     */
    public int[] encodeContinuation(String text, boolean parseSpecial) {
        return encode(text, false, parseSpecial, false);
    }

    private int[] encode(String text, boolean addSpecial, boolean parseSpecial, boolean atStart) {
        if (text == null) {
            throw new IllegalArgumentException("text is null");
        }
        String input = replaceLoneSurrogates(text);
        SpecialTokenSplitter.Fragments fragments = specialSplitter.split(input, parseSpecial);
        IntList out = new IntList(Math.max(16, input.length() / 3));
        if (addSpecial && vocab.addBos()) {
            out.add(vocab.bosId());
        }
        boolean afterSpecial = atStart; // SPM: a fragment at the start or after a special token gets a leading space
        for (int f = 0; f < fragments.size; f++) {
            int token = fragments.token[f];
            if (token != SpecialTokenSplitter.RAW) {
                out.add(token);
                afterSpecial = true;
                continue;
            }
            String raw = input.substring(fragments.start[f], fragments.end[f]);
            if (spm != null) {
                String spaced = vocab.addSpacePrefix() && afterSpecial ? " " + raw : raw;
                spm.encode(spaced.replace(' ', '\u2581'), out);
            } else {
                bpe.encode(raw, out);
            }
            afterSpecial = false;
        }
        if (addSpecial && vocab.addEos()) {
            out.add(vocab.eosId());
        }
        return out.toArray();
    }

    /** Decodes ids to text; control and unknown tokens decode to nothing. */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /**
     * Decodes ids to text like llama.cpp's {@code llama_detokenize} (nothing removed, leading
     * space of SentencePiece text stripped, clean-up of spaces where the vocabulary asks for it).
     *
     * @param renderSpecial write control and unknown tokens as their text instead of nothing
     * @throws IllegalArgumentException if an id is outside the vocabulary
     */
    public String decode(int[] ids, boolean renderSpecial) {
        TokenDecoder decoder = newDecoder(renderSpecial);
        for (int id : ids) {
            decoder.append(id);
        }
        return decoder.finish();
    }

    /** A streaming decoder; see {@link TokenDecoder}. */
    public TokenDecoder newDecoder(boolean renderSpecial) {
        return new TokenDecoder(vocab, pieces, renderSpecial, false);
    }

    /**
     * A streaming decoder for tokens that continue a text (a completion after its prompt): the
     * first token's leading space is kept, as llama.cpp's token pieces keep it.
     */
    public TokenDecoder newContinuationDecoder(boolean renderSpecial) {
        return new TokenDecoder(vocab, pieces, renderSpecial, true);
    }

    /**
     * The text one token stands for on its own, as llama.cpp's {@code llama_token_to_piece} (▁ as
     * a space, byte tokens as their byte); a piece that is part of a multi-byte character decodes
     * to U+FFFD.
     */
    public String piece(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + pieces.length);
        }
        return new String(pieces[id], java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The token's text as stored in the vocabulary. */
    public String tokenText(int id) {
        return vocab.tokenText(id);
    }

    public boolean isControl(int id) {
        return vocab.isControl(id);
    }

    public boolean isEndOfGeneration(int id) {
        return vocab.isEndOfGeneration(id);
    }

    public int bosId() {
        return vocab.bosId();
    }

    public int eosId() {
        return vocab.eosId();
    }

    public int vocabSize() {
        return vocab.size();
    }

    /** Java strings may hold unpaired surrogates, which have no UTF-8 form; they become U+FFFD. */
    private static String replaceLoneSurrogates(String text) {
        StringBuilder fixed = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean paired = Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1));
            if (paired) {
                if (fixed != null) {
                    fixed.append(c).append(text.charAt(i + 1));
                }
                i++;
            } else if (Character.isSurrogate(c)) {
                if (fixed == null) {
                    fixed = new StringBuilder(text.length()).append(text, 0, i);
                }
                fixed.append('\uFFFD');
            } else if (fixed != null) {
                fixed.append(c);
            }
        }
        return fixed == null ? text : fixed.toString();
    }
}
