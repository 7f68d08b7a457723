package io.lora4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lora4j.Model;
import io.lora4j.ModelOptions;
import io.lora4j.generate.GeneratedToken;
import io.lora4j.generate.Generation;
import io.lora4j.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code lora4j generate}: a completion, streamed as llama.cpp's CLI prints it, or one JSON object. */
@Command(name = "generate", description = "Generate a completion of a prompt.")
final class GenerateCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, description = "GGUF model")
    Path model;

    @Option(names = {"-p", "--prompt"}, required = true, description = "the prompt")
    String prompt;

    @Mixin
    SamplingOptions sampling;

    @Option(names = {"-t", "--threads"}, defaultValue = "0", description = "threads (0 = all cores)")
    int threads;

    @Mixin
    DeviceOption device;

    @Option(names = "--n-probs", defaultValue = "0", description = "report the K most likely tokens at each step")
    int nProbs;

    @Option(names = "--json", description = "print one JSON object (prompt ids, tokens with log-probs, text)")
    boolean json;

    @Option(names = "--no-display-prompt", description = "print only the completion")
    boolean noDisplayPrompt;

    @Option(names = "--lora", description = "apply a LoRA adapter (llama.cpp GGUF); repeatable")
    List<Path> loras = List.of();

    @Option(names = "--lora-scale", defaultValue = "1.0", description = "scale for every --lora adapter (default 1)")
    float loraScale;

    @Override
    public Integer call() throws Exception {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (Model m = Model.load(model, ModelOptions.builder().threads(threads).device(device.device).build());
             AdapterSet adapters = AdapterSet.load(m, loras, loraScale)) {
            Tokenizer tok = m.tokenizer();
            int[] ids = tok.encode(prompt, true, true);
            if (json) {
                Generation g = m.generate(ids, sampling.toSampling(nProbs), null, adapters.scaled());
                out.println(toJson(g, tok));
                return 0;
            }
            if (!noDisplayPrompt) out.print(prompt);
            StringBuilder streamed = new StringBuilder();
            Generation g = m.generate(ids, sampling.toSampling(nProbs), t -> {
                out.print(t.text());
                streamed.append(t.text());
                return true;
            }, adapters.scaled());
            // Text held back at the end (a partial stop string or character) is printed last.
            if (g.text().length() > streamed.length()) out.print(g.text().substring(streamed.length()));
            out.println();
            System.err.printf("%nprompt: %d tokens, %.1f tokens/s; generated: %d tokens, %.1f tokens/s; finish: %s; seed: %d%n",
                    g.promptTokens().length, g.promptTokensPerSecond(), g.tokens().size(), g.tokensPerSecond(),
                    g.finishReason(), g.seed());
        }
        return 0;
    }

    private static String toJson(Generation g, Tokenizer tok) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        ArrayNode promptIds = root.putArray("prompt_ids");
        for (int id : g.promptTokens()) promptIds.add(id);
        ArrayNode tokens = root.putArray("tokens");
        for (GeneratedToken t : g.tokens()) {
            ObjectNode node = tokens.addObject();
            node.put("id", t.id());
            node.put("text", tok.piece(t.id()));
            node.put("logprob", t.logprob());
            ArrayNode top = node.putArray("top");
            for (int k = 0; k < t.topIds().length; k++) {
                top.addObject().put("id", t.topIds()[k]).put("logprob", t.topLogprobs()[k]);
            }
        }
        root.put("text", g.text());
        root.put("finish_reason", g.finishReason().name().toLowerCase());
        return mapper.writeValueAsString(root);
    }
}
