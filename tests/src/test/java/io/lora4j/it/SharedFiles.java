package io.lora4j.it;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the project's shared/ folder (a sibling of the checkout in CI, or set by -Dlora4j.shared). */
final class SharedFiles {
    private SharedFiles() {}

    static Path vocabDir() {
        String prop = System.getProperty("lora4j.shared");
        if (prop != null) return Path.of(prop, "vocab");
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            for (Path candidate : new Path[] {p.resolve("shared/vocab"), p.resolveSibling("shared/vocab")}) {
                if (Files.isDirectory(candidate)) return candidate;
            }
        }
        throw new IllegalStateException("shared/vocab not found above " + Path.of("").toAbsolutePath()
                + "; set -Dlora4j.shared=/path/to/shared");
    }
}
