package io.lora4j.cli;

import io.lora4j.Hparams;
import io.lora4j.Model;
import io.lora4j.TensorType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code lora4j info -m MODEL.gguf}: load with full validation and describe the model. */
@Command(name = "info", description = "Validate a GGUF model and print what it is.")
final class InfoCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, description = "GGUF model file")
    Path model;

    @Option(names = "--metadata", description = "also print every scalar metadata entry")
    boolean metadata;

    @Override
    public Integer call() {
        try (Model m = Model.load(model)) {
            Hparams h = m.hparams();
            System.out.printf("file:           %s%n", model);
            System.out.printf("architecture:   %s%n", m.metadata().getOrDefault("general.architecture", h.architecture().ggufName()));
            System.out.printf("name:           %s%n", m.metadata().getOrDefault("general.name", "(none)"));
            System.out.printf("tokenizer:      %s (%d tokens)%n", m.tokenizerKind(), h.vocabSize());
            if (h.vocabOnly()) {
                System.out.println("contents:       vocab-only (tokenizer, no weights)");
            } else {
                System.out.printf("context:        %d%n", h.contextLength());
                System.out.printf("embedding:      %d%n", h.embeddingLength());
                System.out.printf("layers:         %d%n", h.blockCount());
                System.out.printf("heads:          %d (kv %d, head dim %d)%n", h.headCount(), h.headCountKv(), h.headDim());
                System.out.printf("feed-forward:   %d%n", h.feedForwardLength());
                System.out.printf("rope:           %s, %d dims, base %.1f, scaling %s%n", h.ropeStyle(),
                        h.ropeDimensions(), h.ropeFreqBase(), h.ropeScaling());
                System.out.printf("rms eps:        %g%n", h.rmsEps());
                System.out.printf("output:         %s%n", h.tiedOutput() ? "tied to token_embd" : "separate");
                System.out.printf("tensors:        %d (%.2f MiB)%n", m.tensors().size(), m.tensorBytes() / 1048576.0);
                for (Map.Entry<TensorType, Integer> e : m.tensorTypeCounts().entrySet()) {
                    System.out.printf("  %-8s %d%n", e.getKey(), e.getValue());
                }
            }
            if (metadata) {
                m.scalarMetadata().forEach((k, v) -> System.out.printf("  %s = %s%n", k, v));
            }
        }
        return 0;
    }
}
