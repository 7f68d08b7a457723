package io.lora4j.cli;

import io.lora4j.Model;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.AdapterInfo;
import io.lora4j.lora.peft.PeftImport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code lora4j import --peft DIR}: a Hugging Face PEFT LoRA adapter as a llama.cpp LoRA GGUF. */
@Command(name = "import", description = "Convert a PEFT LoRA adapter directory into a GGUF adapter.")
final class ImportCommand implements Callable<Integer> {
    @Option(names = "--peft", required = true, description = "PEFT adapter directory (adapter_config.json, adapter_model.safetensors)")
    Path peft;

    @Option(names = {"-m", "--model"}, required = true, description = "the base GGUF model the adapter was trained on")
    Path model;

    @Option(names = {"-o", "--output"}, required = true, description = "output adapter (llama.cpp LoRA GGUF)")
    Path output;

    @Override
    public Integer call() {
        try (Model m = Model.load(model);
             Adapter adapter = PeftImport.read(m, peft)) {
            adapter.save(output);
            AdapterInfo info = adapter.info();
            System.out.printf("wrote %s: %d pairs, rank %d, alpha %s%s%n", output, info.pairs(), info.rank(),
                    info.alpha(), info.rslora() ? " (rsLoRA)" : "");
        }
        return 0;
    }
}
