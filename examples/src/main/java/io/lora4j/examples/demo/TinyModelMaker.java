package io.lora4j.examples.demo;

import io.lora4j.Model;
import io.lora4j.tools.SyntheticModel;
import io.lora4j.train.TrainingRun;
import io.lora4j.train.data.Dataset;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

/**
 * Makes the bundled tiny base model: a random llama-shaped model pretrained, by lora4j's own full
 * fine-tuning, on sentences of {@link TinyWorld}. Deterministic for a given seed.
 */
public final class TinyModelMaker {
    private TinyModelMaker() {}

    /** The shape of the bundled model (about 1M parameters, 4 MiB in F32). */
    static SyntheticModel shape(long seed) {
        return SyntheticModel.builder().embeddingLength(128).blockCount(4).heads(4, 4).feedForwardLength(384)
                .vocabSize(448).contextLength(128).tiedOutput(false).weightScale(0.02f).seed(seed);
    }

    public static void make(Path out, int corpusLines, int epochs, long seed) throws IOException {
        Path work = Files.createTempDirectory("lora4j-tiny-");
        Path random = work.resolve("random.gguf");
        shape(seed).write(random);
        List<Map<String, Object>> text = new TinyWorld(seed).corpus(corpusLines).stream()
                .map(s -> Map.<String, Object>of("text", s)).toList();
        try (Model m = Model.load(random);
             TrainingRun run = m.fullFineTune(Dataset.of("tiny-world", text)).epochs(epochs).batchSize(8)
                     .contextLength(128).learningRate(2e-3).cosine().warmupRatio(0.05).seed(seed)
                     .outputDir(work.resolve("run")).train()) {
            System.out.printf("pretrained %d steps, final loss %.3f%n", run.steps(), run.last("loss"));
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.move(work.resolve("run/model.gguf"), out, StandardCopyOption.REPLACE_EXISTING);
    }
}
