package io.lora4j.train.data;

/**
 * The tokenizer as the data pipeline sees it. The integrator adapts the model's tokenizer to it.
 *
 * <p>Texts are encoded piece by piece (see {@link ExampleEncoder}): the first piece of a sequence is
 * encoded with {@code addBos = true}, the pieces that continue it with {@code addBos = false}. An
 * implementation adds the BOS token only when the model wants one ({@code tokenizer.ggml.add_bos_token}),
 * and should add a vocabulary's leading-space prefix (SentencePiece's dummy prefix) only to a first
 * piece, so that continuation pieces join their predecessor without a stray space. Chat pieces contain
 * the template's special-token texts (e.g. {@code <|im_end|>}); the implementation must encode those
 * as the special tokens.
 */
public interface TextEncoder {

    /** The token ids of {@code text}; with {@code addBos}, the sequence-start form (BOS if the model uses one). */
    int[] encode(String text, boolean addBos);

    /** The BOS token id, or -1 when the vocabulary has none. */
    int bosId();

    /** The EOS token id (appended to completions so the model learns to stop). */
    int eosId();
}
