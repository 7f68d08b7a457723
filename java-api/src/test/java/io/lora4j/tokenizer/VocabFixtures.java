package io.lora4j.tokenizer;

import io.lora4j.gguf.GgufFile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Test access to llama.cpp's vocabulary files in shared/vocab, read with the engine's GGUF reader.
 */
final class VocabFixtures {

    private VocabFixtures() {
    }

    /**
     * The shared/vocab directory: system property {@code lora4j.shared} (the shared directory),
     * else the first {@code shared/vocab} found in the working directory or one of its parents.
     * The repository may be a sibling of shared/ (CI, /work/main) or nested deeper (worktrees).
     */
    static Path vocabDir() {
        String configured = System.getProperty("lora4j.shared");
        if (configured != null) {
            Path dir = Path.of(configured, "vocab");
            if (!Files.isDirectory(dir)) {
                throw new IllegalStateException("lora4j.shared=" + configured + " has no vocab directory");
            }
            return dir;
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("shared").resolve("vocab");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("shared/vocab not found above " + Path.of("").toAbsolutePath()
                + "; set -Dlora4j.shared=/path/to/shared");
    }

    static Map<String, Object> metadata(Path gguf) {
        try (GgufFile file = GgufFile.open(gguf)) {
            return file.metadata();
        }
    }
}
