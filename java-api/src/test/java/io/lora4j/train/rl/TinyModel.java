package io.lora4j.train.rl;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the bundled tiny model (models/tiny/tiny-base.gguf) above the working directory. */
public final class TinyModel {
    private TinyModel() {}

    public static Path path() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("models/tiny/tiny-base.gguf");
            if (Files.isRegularFile(candidate)) return candidate;
        }
        throw new IllegalStateException("models/tiny/tiny-base.gguf not found above " + Path.of("").toAbsolutePath());
    }
}
