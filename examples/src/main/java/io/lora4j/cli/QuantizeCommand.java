package io.lora4j.cli;

import io.lora4j.ModelQuantizer;
import io.lora4j.QuantizationScheme;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code lora4j quantize IN.gguf OUT.gguf TYPE}, as llama.cpp's llama-quantize. */
@Command(name = "quantize", description = "Re-encode a model's weights in another type (norms and biases stay F32).")
final class QuantizeCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "input GGUF model")
    Path input;

    @Parameters(index = "1", description = "output GGUF model (written atomically)")
    Path output;

    @Parameters(index = "2", description = "target: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, "
            + "Q4_K, Q5_K, Q6_K, IQ4_NL, Q4_K_M")
    String type;

    @Option(names = {"-t", "--threads"}, description = "threads (0 = all cores)")
    int threads;

    @Override
    public Integer call() {
        QuantizationScheme scheme = QuantizationScheme.parse(type);
        long start = System.nanoTime();
        ModelQuantizer.quantize(input, output, scheme, threads);
        System.out.printf("wrote %s (%s) in %.2f s%n", output, scheme, (System.nanoTime() - start) / 1e9);
        return 0;
    }
}
