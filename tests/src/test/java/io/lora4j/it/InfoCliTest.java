package io.lora4j.it;

import io.lora4j.tools.SyntheticModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InfoCliTest {
    @TempDir
    Path dir;

    @Test
    void describesAModel() {
        Path model = dir.resolve("m.gguf");
        SyntheticModel.builder().embeddingLength(64).blockCount(3).heads(4, 2).write(model);
        CliRunner r = CliRunner.run("info", "-m", model.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("architecture:   llama"), r.out());
        assertTrue(r.out().contains("layers:         3"), r.out());
        assertTrue(r.out().contains("heads:          4 (kv 2"), r.out());
        assertTrue(r.out().contains("F32"), r.out());
    }

    @ParameterizedTest
    @ValueSource(strings = {"ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf", "ggml-vocab-starcoder.gguf",
            "ggml-vocab-deepseek-llm.gguf"})
    void reportsVocabOnlyFiles(String name) {
        CliRunner r = CliRunner.run("info", "-m", SharedFiles.vocabDir().resolve(name).toString());
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("vocab-only"), r.out());
    }

    @Test
    void invalidFileExitsOneWithTheErrorOnStderr() throws IOException {
        Path bad = dir.resolve("bad.gguf");
        Files.write(bad, new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0, 1});
        CliRunner r = CliRunner.run("info", "-m", bad.toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("error: "), r.err());
        assertTrue(r.out().isEmpty(), r.out());
    }
}
