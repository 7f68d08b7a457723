package io.lora4j.it;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TokenizeCliTest {
    @TempDir
    Path dir;

    /** Every llama.cpp test vector through the CLI: -f reads the text byte-exact, --no-bos adds nothing. */
    @ParameterizedTest
    @ValueSource(strings = {"ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf", "ggml-vocab-starcoder.gguf",
            "ggml-vocab-deepseek-llm.gguf"})
    void reproducesTheVectors(String name) throws Exception {
        Path vocab = SharedFiles.vocabDir().resolve(name);
        String[] inputs = Files.readString(Path.of(vocab + ".inp"), StandardCharsets.UTF_8).split("\n__ggml_vocab_test__\n", -1);
        String[] expected = Files.readString(Path.of(vocab + ".out"), StandardCharsets.UTF_8).split("\n", -1);
        for (int i = 0; i < inputs.length - 1; i++) {
            Path text = dir.resolve("in" + i + ".txt");
            Files.writeString(text, inputs[i], StandardCharsets.UTF_8);
            CliRunner r = CliRunner.run("tokenize", "-m", vocab.toString(), "-f", text.toString(), "--no-bos");
            assertEquals(0, r.exitCode(), r.err());
            assertEquals(expected[i].trim(), r.out().trim(), name + " input " + i + ": '" + inputs[i] + "'");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf"})
    void decodesIdsBack(String name) {
        String vocab = SharedFiles.vocabDir().resolve(name).toString();
        CliRunner ids = CliRunner.run("tokenize", "-m", vocab, "-p", "Hello world, ünïcode!", "--no-bos");
        CliRunner text = CliRunner.run("tokenize", "-m", vocab, "-p", ids.out().trim(), "--decode", "--no-bos");
        assertEquals(0, text.exitCode(), text.err());
        assertEquals("Hello world, ünïcode!", text.out().strip());
    }
}
