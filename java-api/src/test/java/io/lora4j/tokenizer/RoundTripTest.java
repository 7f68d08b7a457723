package io.lora4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The decode/encode round trips llama.cpp checks in tests/test-tokenizer-1-{spm,bpe}: every
 * token's text tokenizes back to something that decodes to the same text, and every code point
 * (but surrogates, U+40000..U+E0000 and U+2581) survives encode then decode.
 */
class RoundTripTest {

    @TestFactory
    Stream<DynamicTest> everyTokenRoundTrips() throws Exception {
        return LlamaCppVectorsTest.vocabFiles().stream().map(gguf -> DynamicTest.dynamicTest(name(gguf), () -> {
            Tokenizer tokenizer = Tokenizer.fromMetadata(VocabFixtures.metadata(gguf));
            byte[][] pieces = TokenPieces.build(tokenizer.vocabulary());
            List<String> failures = new ArrayList<>();
            int checked = 0;
            for (int id = 0; id < tokenizer.vocabSize(); id++) {
                if (!isValidUtf8(pieces[id])) {
                    continue; // a partial UTF-8 sequence has no Java String form to re-encode
                }
                String text = tokenizer.decode(new int[] {id}, true);
                String again = tokenizer.decode(tokenizer.encode(text, false, true), true);
                checked++;
                if (!again.equals(text) && failures.size() < 10) {
                    failures.add(id + ": '" + text + "' -> '" + again + "'");
                }
            }
            assertTrue(checked > tokenizer.vocabSize() / 2, "too few tokens checked: " + checked);
            assertEquals(List.of(), failures);
        }));
    }

    @TestFactory
    Stream<DynamicTest> everyCodepointRoundTrips() throws Exception {
        return LlamaCppVectorsTest.vocabFiles().stream().map(gguf -> DynamicTest.dynamicTest(name(gguf), () -> {
            Tokenizer tokenizer = Tokenizer.fromMetadata(VocabFixtures.metadata(gguf));
            boolean parseSpecial = tokenizer.vocabulary().model() == Vocabulary.Model.SPM; // as the C++ tests do
            List<String> failures = new ArrayList<>();
            for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
                if (Character.isSurrogate((char) cp) && cp < 0x10000 || (cp >= 0x40000 && cp <= 0xE0000) || cp == 0x2581) {
                    continue;
                }
                String text = Character.toString(cp);
                String again = tokenizer.decode(tokenizer.encode(text, false, parseSpecial), true);
                if (!again.equals(text) && failures.size() < 10) {
                    failures.add(String.format("U+%04X -> '%s'", cp, again));
                }
            }
            assertEquals(List.of(), failures);
        }));
    }

    private static boolean isValidUtf8(byte[] bytes) {
        try {
            StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    private static String name(Path gguf) {
        return gguf.getFileName().toString();
    }
}
