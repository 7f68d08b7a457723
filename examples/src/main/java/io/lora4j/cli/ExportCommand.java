package io.lora4j.cli;

import io.lora4j.Model;
import io.lora4j.ModelOptions;
import io.lora4j.QuantizationScheme;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.merge.AdapterMerge;
import io.lora4j.lora.peft.PeftExport;
import io.lora4j.train.ClassifierHead;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code lora4j export}: a GGUF adapter as a Hugging Face PEFT directory ({@code --format peft}),
 * with a classification head when given ({@code --classifier}), or merged into its base model as
 * a new GGUF ({@code --merge [--type T]}).
 */
@Command(name = "export", description = "Export a LoRA adapter in PEFT's format, or merge it into the base model.")
final class ExportCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, description = "the base GGUF model")
    Path model;

    @Option(names = "--lora", required = true, description = "the adapter (llama.cpp LoRA GGUF)")
    Path lora;

    @Option(names = "--format", description = "peft: write adapter_model.safetensors and adapter_config.json into -o")
    String format;

    @Option(names = "--classifier", description = "with --format peft: a classification head (classifier.gguf from "
            + "train --task classify), written as a SEQ_CLS adapter with the head as HF's score")
    Path classifier;

    @Option(names = "--merge", description = "write the base model with the adapter folded into its weights to -o")
    boolean merge;

    @Option(names = "--type", description = "with --merge: re-encode the 2-D weights (F32, F16, Q8_0, Q4_K_M, …); "
            + "default: keep each tensor's type")
    String type;

    @Option(names = "--lora-scale", defaultValue = "1.0", description = "with --merge: scale of the adapter (default 1)")
    float scale;

    @Option(names = {"-o", "--output"}, required = true, description = "output directory (peft) or GGUF file (merge)")
    Path output;

    @Option(names = {"-t", "--threads"}, defaultValue = "0", description = "threads (0 = all cores)")
    int threads;

    @Override
    public Integer call() {
        if (merge == (format != null)) throw new IllegalArgumentException("give exactly one of --format peft and --merge");
        if (format != null && !format.equals("peft")) {
            throw new IllegalArgumentException("unknown --format '" + format + "' (peft)");
        }
        if (merge && classifier != null) throw new IllegalArgumentException("--classifier applies to --format peft only");
        if (!merge && (type != null || scale != 1.0f)) {
            throw new IllegalArgumentException("--type and --lora-scale apply to --merge only");
        }
        QuantizationScheme scheme = type == null ? null : QuantizationScheme.parse(type);
        long start = System.nanoTime();
        try (Model m = Model.load(model, ModelOptions.builder().threads(threads).build());
             Adapter adapter = Adapter.load(m, lora)) {
            if (merge) {
                AdapterMerge.merge(m, adapter, scale, scheme, output);
                System.out.printf("wrote %s (%s) in %.2f s%n", output, scheme == null ? "types kept" : scheme,
                        (System.nanoTime() - start) / 1e9);
            } else if (classifier != null) {
                ClassifierHead.load(classifier).exportPeft(m, adapter, output);
                System.out.printf("wrote %s (with the classification head as score) and %s in %s%n",
                        PeftExport.WEIGHTS_FILE, "adapter_config.json", output);
            } else {
                PeftExport.write(m, adapter, output);
                System.out.printf("wrote %s and %s in %s%n", PeftExport.WEIGHTS_FILE, "adapter_config.json", output);
            }
        }
        return 0;
    }
}
