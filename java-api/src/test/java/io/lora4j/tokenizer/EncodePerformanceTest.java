package io.lora4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Encoding and decoding stay linear: about 1 MB of the vector inputs (mixed scripts, emoji,
 * whitespace runs) per vocabulary, timed after one warm-up pass over the same text. The bound is
 * loose (shared, busy test machines); a quadratic step would miss it by orders of magnitude.
 * Times are printed for the record.
 */
class EncodePerformanceTest {

    private static final int TARGET_CHARS = 1_000_000;
    private static final long LIMIT_MS = 5_000;

    @TestFactory
    Stream<DynamicTest> oneMegabyteEncodesQuickly() throws Exception {
        return LlamaCppVectorsTest.vocabFiles().stream().map(gguf -> DynamicTest.dynamicTest(
                gguf.getFileName().toString(), () -> {
                    Tokenizer tokenizer = Tokenizer.fromMetadata(VocabFixtures.metadata(gguf));
                    String unit = Files.readString(Path.of(gguf + ".inp"));
                    String text = unit.repeat(TARGET_CHARS / unit.length() + 1);
                    tokenizer.decode(tokenizer.encode(text, false, false)); // warm-up
                    long start = System.nanoTime();
                    int[] ids = tokenizer.encode(text, false, false);
                    long encodeMs = (System.nanoTime() - start) / 1_000_000;
                    start = System.nanoTime();
                    String back = tokenizer.decode(ids);
                    long decodeMs = (System.nanoTime() - start) / 1_000_000;
                    System.out.printf("%s: %d chars -> %d tokens, encode %d ms, decode %d ms%n",
                            gguf.getFileName(), text.length(), ids.length, encodeMs, decodeMs);
                    assertTrue(encodeMs < LIMIT_MS, "encode took " + encodeMs + " ms");
                    assertTrue(decodeMs < LIMIT_MS, "decode took " + decodeMs + " ms");
                    if (!tokenizer.vocabulary().cleanSpaces()) { // clean-up changes " ," and the like on purpose
                        assertEquals(text, back);
                    }
                }));
    }
}
