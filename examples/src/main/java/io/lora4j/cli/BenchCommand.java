package io.lora4j.cli;

import io.lora4j.bench.InferenceBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code lora4j bench}: benchmarks (never tests); prints tables with baselines side by side. */
@Command(name = "bench", description = "Measure inference speed (pp/tg tokens/s) on synthetic models.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = {"-t", "--threads"}, defaultValue = "2", description = "threads (default 2)")
    int threads;

    @Option(names = {"-r", "--reps"}, defaultValue = "5", description = "repetitions per figure")
    int reps;

    @Option(names = "--pp", defaultValue = "128", description = "prompt length for prompt processing")
    int pp;

    @Option(names = "--tg", defaultValue = "32", description = "tokens to decode one at a time")
    int tg;

    @Option(names = "--dir", defaultValue = "models/bench", description = "where the synthetic models are kept")
    Path dir;

    @Override
    public Integer call() throws Exception {
        new InferenceBench(dir, threads, reps).run(pp, tg);
        return 0;
    }
}
