package io.lora4j.cli;

import io.lora4j.bench.InferenceBench;
import io.lora4j.bench.RlBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code lora4j bench}: benchmarks (never tests); prints tables with baselines side by side. */
@Command(name = "bench", description = "Measure inference speed (pp/tg tokens/s) on synthetic models; with --rl, "
        + "group sampling and GRPO step time.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = {"-t", "--threads"}, defaultValue = "2", description = "threads (default 2)")
    int threads;

    @Mixin
    DeviceOption device;

    @Option(names = {"-r", "--reps"}, defaultValue = "5", description = "repetitions per figure")
    int reps;

    @Option(names = "--pp", defaultValue = "128", description = "prompt length for prompt processing")
    int pp;

    @Option(names = "--tg", defaultValue = "32", description = "tokens to decode one at a time")
    int tg;

    @Option(names = "--dir", defaultValue = "models/bench", description = "where the synthetic models are kept")
    Path dir;

    @Option(names = "--rl", description = "benchmark RL instead: batched group sampling vs one at a time, GRPO step time")
    boolean rl;

    @Option(names = "--group", defaultValue = "8", description = "with --rl: completions per prompt (default 8)")
    int group;

    @Option(names = "--new-tokens", defaultValue = "32", description = "with --rl: tokens per completion at most (default 32)")
    int newTokens;

    @Option(names = "--tiny", defaultValue = "models/tiny/tiny-base.gguf", description = "with --rl: the bundled tiny model")
    Path tiny;

    @Override
    public Integer call() throws Exception {
        if (rl) {
            new RlBench(dir, threads, reps, device.device).run(tiny, group, newTokens, reps);
            return 0;
        }
        new InferenceBench(dir, threads, reps, device.device).run(pp, tg);
        return 0;
    }
}
