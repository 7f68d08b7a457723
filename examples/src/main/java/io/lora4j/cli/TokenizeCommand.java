package io.lora4j.cli;

import io.lora4j.Model;
import io.lora4j.ModelOptions;
import io.lora4j.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** {@code lora4j tokenize}: text to token ids (or back with --decode); works on vocab-only files. */
@Command(name = "tokenize", description = "Print the token ids of a text (one line, space separated).")
final class TokenizeCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, description = "GGUF model or vocab-only file")
    Path model;

    @ArgGroup(multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = {"-p", "--prompt"}, description = "the text (or ids with --decode)")
        String text;

        @Option(names = {"-f", "--file"}, description = "read the text byte-exact from a file")
        Path file;
    }

    @Option(names = "--no-bos", description = "add no special tokens and parse none in the text")
    boolean noBos;

    @Option(names = "--decode", description = "the input is token ids; print their text")
    boolean decode;

    @Override
    public Integer call() {
        String text = readInput();
        try (Model m = Model.load(model, ModelOptions.builder().vocabOnly(true).build())) {
            Tokenizer tok = m.tokenizer();
            if (decode) {
                int[] ids = parseIds(text);
                System.out.print(tok.decode(ids, !noBos));
                System.out.println();
            } else {
                int[] ids = tok.encode(text, !noBos, !noBos);
                System.out.println(Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" ")));
            }
        }
        return 0;
    }

    private String readInput() {
        if (input.text != null) return input.text;
        try {
            return new String(Files.readAllBytes(input.file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + input.file + ": " + e.getMessage(), e);
        }
    }

    private static int[] parseIds(String text) {
        String trimmed = text.trim();
        if (trimmed.isEmpty()) return new int[0];
        String[] parts = trimmed.split("[\\s,]+");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i]);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--decode expects token ids, got '" + parts[i] + "'");
            }
        }
        return ids;
    }
}
