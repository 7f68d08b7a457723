package io.lora4j.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * llama.cpp's tokenizer test vectors (tests/test-tokenizer-0): for every ggml-vocab-*.gguf in
 * shared/vocab, each input of the .inp file must tokenize to the ids on the same line of the
 * .out file, with add_special = false and parse_special = false, as test-tokenizer-0 calls it.
 */
class LlamaCppVectorsTest {

    private static final String SEPARATOR = "\n__ggml_vocab_test__\n";

    record Vector(String input, int[] expected) {
    }

    @TestFactory
    Stream<DynamicContainer> everyVectorMatches() throws IOException {
        List<Path> vocabs = vocabFiles();
        assertFalse(vocabs.isEmpty(), "no ggml-vocab-*.gguf in " + VocabFixtures.vocabDir());
        return vocabs.stream().map(gguf -> {
            Tokenizer tokenizer = Tokenizer.fromMetadata(VocabFixtures.metadata(gguf));
            List<Vector> vectors = readVectors(gguf);
            return DynamicContainer.dynamicContainer(gguf.getFileName().toString(), vectors.stream().map(v ->
                    DynamicTest.dynamicTest(describe(v.input()), () -> assertArrayEquals(v.expected(),
                            tokenizer.encode(v.input(), false, false), () -> "input " + describe(v.input())
                                    + " -> " + Arrays.toString(tokenizer.encode(v.input(), false, false))))));
        });
    }

    static List<Path> vocabFiles() throws IOException {
        try (Stream<Path> files = Files.list(VocabFixtures.vocabDir())) {
            return files.filter(p -> p.getFileName().toString().matches("ggml-vocab-.*\\.gguf"))
                    .filter(p -> Files.exists(Path.of(p + ".inp")) && Files.exists(Path.of(p + ".out")))
                    .sorted().toList();
        }
    }

    /** Splits like test-tokenizer-0: on the separator, no empty piece after a trailing separator. */
    static List<Vector> readVectors(Path gguf) {
        try {
            String raw = Files.readString(Path.of(gguf + ".inp"), StandardCharsets.UTF_8);
            List<String> inputs = new ArrayList<>();
            int pos = 0;
            while (pos < raw.length()) {
                int next = raw.indexOf(SEPARATOR, pos);
                if (next < 0) {
                    inputs.add(raw.substring(pos));
                    break;
                }
                inputs.add(raw.substring(pos, next));
                pos = next + SEPARATOR.length();
            }
            List<String> lines = Files.readAllLines(Path.of(gguf + ".out"), StandardCharsets.UTF_8);
            assertEquals(inputs.size(), lines.size(), "inputs vs expected lines in " + gguf);
            List<Vector> vectors = new ArrayList<>();
            for (int i = 0; i < inputs.size(); i++) {
                String line = lines.get(i).strip();
                int[] ids = line.isEmpty() ? new int[0]
                        : Arrays.stream(line.split(" ")).mapToInt(Integer::parseInt).toArray();
                vectors.add(new Vector(inputs.get(i), ids));
            }
            return vectors;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static String describe(String s) {
        String shown = s.length() > 40 ? s.substring(0, 40) + "…" : s;
        return "'" + shown.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "'";
    }
}
