package io.lora4j.cli;

import io.lora4j.tools.SyntheticModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** The README's demo: make the tiny model if needed and show what lora4j sees in it. */
@Command(name = "demo", description = "Run the main demo on the bundled tiny model.")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--dir", description = "working directory for the demo's files", defaultValue = "models")
    Path dir;

    @Override
    public Integer call() throws Exception {
        Files.createDirectories(dir);
        Path base = dir.resolve("demo-base.gguf");
        if (!Files.exists(base)) {
            System.out.println("creating the tiny demo model: " + base);
            SyntheticModel.builder().embeddingLength(64).blockCount(2).heads(4, 2).feedForwardLength(176)
                    .vocabSize(512).contextLength(256).seed(7).write(base);
        }
        return Main.run("info", "-m", base.toString());
    }
}
