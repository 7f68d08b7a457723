package io.lora4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * The bytes each token stands for when decoded (llama.cpp's token_to_piece with special tokens
 * rendered): control, unknown and user-defined tokens give their text; normal tokens give their
 * text with ▁ as space (SPM) or their GPT-2 byte characters mapped back to bytes (BPE); byte
 * tokens &lt;0xXX&gt; give that byte; unused and undefined tokens give nothing.
 */
final class TokenPieces {

    private TokenPieces() {
    }

    static byte[][] build(Vocabulary vocab) {
        String[] tokens = vocab.tokens();
        byte[][] pieces = new byte[tokens.length][];
        for (int id = 0; id < tokens.length; id++) {
            pieces[id] = piece(vocab, id, tokens[id]);
        }
        return pieces;
    }

    private static byte[] piece(Vocabulary vocab, int id, String text) {
        int attrs = vocab.attrs(id);
        if ((attrs & (Vocabulary.ATTR_CONTROL | Vocabulary.ATTR_UNKNOWN | Vocabulary.ATTR_USER_DEFINED)) != 0) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
        if ((attrs & Vocabulary.ATTR_NORMAL) != 0) {
            return vocab.model() == Vocabulary.Model.SPM
                    ? text.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8)
                    : byteLevelBytes(text);
        }
        if ((attrs & Vocabulary.ATTR_BYTE) != 0) {
            return byteTokenValue(text);
        }
        return new byte[0];
    }

    /**
     * Maps GPT-2 byte characters back to bytes. A character that stands for no byte is written as
     * llama.cpp does: "[UNK_BYTE_0x" + its UTF-8 bytes in hex + the token text + "]".
     */
    private static byte[] byteLevelBytes(String text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(text.length());
        text.codePoints().forEach(cp -> {
            int b = ByteEncoding.decode(cp);
            if (b >= 0) {
                out.write(b);
            } else {
                byte[] utf8 = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
                String marker = "[UNK_BYTE_0x" + HexFormat.of().formatHex(utf8) + text + "]";
                out.writeBytes(marker.getBytes(StandardCharsets.UTF_8));
            }
        });
        return out.toByteArray();
    }

    /** The byte of a "&lt;0xXX&gt;" token; a malformed byte token decodes to nothing. */
    private static byte[] byteTokenValue(String text) {
        if (text.length() == 6 && text.startsWith("<0x") && text.endsWith(">")) {
            int hi = Character.digit(text.charAt(3), 16);
            int lo = Character.digit(text.charAt(4), 16);
            if (hi >= 0 && lo >= 0) {
                return new byte[] {(byte) (hi * 16 + lo)};
            }
        }
        return new byte[0];
    }
}
