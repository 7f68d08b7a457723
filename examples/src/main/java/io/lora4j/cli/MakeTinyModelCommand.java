package io.lora4j.cli;

import io.lora4j.examples.demo.TinyModelMaker;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** Regenerates the bundled tiny base model from scratch (random init + full pretraining). */
@Command(name = "make-tiny-model", description = "Pretrain the bundled tiny model on the generated tiny language.")
final class MakeTinyModelCommand implements Callable<Integer> {
    @Option(names = {"-o", "--output"}, defaultValue = "models/tiny/tiny-base.gguf", description = "where to write it")
    Path output;

    @Option(names = "--lines", defaultValue = "6000", description = "corpus sentences")
    int lines;

    @Option(names = "--epochs", defaultValue = "2", description = "pretraining epochs")
    int epochs;

    @Option(names = "--seed", defaultValue = "7", description = "seed for the corpus and the initial weights")
    long seed;

    @Override
    public Integer call() throws Exception {
        TinyModelMaker.make(output, lines, epochs, seed);
        System.out.println("wrote " + output);
        return 0;
    }
}
