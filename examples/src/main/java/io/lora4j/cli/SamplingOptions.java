package io.lora4j.cli;

import io.lora4j.generate.Sampling;
import picocli.CommandLine.Option;

import java.util.List;

/** llama.cpp's sampling flags, shared by the commands that generate. */
final class SamplingOptions {
    @Option(names = {"-n", "--n-predict"}, defaultValue = "128", description = "tokens to generate (default 128)")
    int nPredict;

    @Option(names = "--temp", defaultValue = "0.8", description = "temperature; 0 = greedy (default 0.8)")
    double temp;

    @Option(names = "--top-k", defaultValue = "40", description = "top-k; 0 = off (default 40)")
    int topK;

    @Option(names = "--top-p", defaultValue = "0.95", description = "top-p in (0,1] (default 0.95)")
    double topP;

    @Option(names = "--min-p", defaultValue = "0.05", description = "min-p in [0,1] (default 0.05)")
    double minP;

    @Option(names = "--repeat-penalty", defaultValue = "1.0", description = "repetition penalty; 1 = off")
    double repeatPenalty;

    @Option(names = "--repeat-last-n", defaultValue = "64", description = "tokens the penalties look back; -1 = all")
    int repeatLastN;

    @Option(names = "--presence-penalty", defaultValue = "0", description = "presence penalty; 0 = off")
    double presencePenalty;

    @Option(names = "--frequency-penalty", defaultValue = "0", description = "frequency penalty; 0 = off")
    double frequencyPenalty;

    @Option(names = {"-s", "--seed"}, defaultValue = "-1", description = "random seed; -1 = random")
    long seed;

    @Option(names = "--stop", description = "stop when this string appears (repeatable)")
    List<String> stop = List.of();

    Sampling toSampling(int nProbs) {
        if (temp < 0) throw new IllegalArgumentException("--temp must be >= 0, got " + temp);
        return Sampling.builder().maxTokens(nPredict).temperature(temp).topK(topK).topP(topP).minP(minP)
                .repeatPenalty(repeatPenalty).repeatLastN(repeatLastN).presencePenalty(presencePenalty)
                .frequencyPenalty(frequencyPenalty).seed(seed).stop(stop).nProbs(nProbs).build();
    }
}
