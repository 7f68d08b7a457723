package io.lora4j.cli;

import io.lora4j.Lora4jException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ./lora4j} command-line tool. */
@Command(name = "lora4j", mixinStandardHelpOptions = true, version = "lora4j 0.1.0",
        description = "Fine-tune and run quantized GGUF llama-family models on the JVM.",
        subcommands = {InfoCommand.class, QuantizeCommand.class, TokenizeCommand.class, GenerateCommand.class,
                BenchCommand.class, DemoCommand.class, ExportCommand.class, ImportCommand.class})
public final class Main {
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the tool and returns its exit code (tests call this instead of main). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            // Engine and argument errors are the user's to fix: one clear line, no stack trace.
            if (e instanceof Lora4jException || e instanceof IllegalArgumentException
                    || e instanceof java.io.UncheckedIOException) {
                cmd.getErr().println("error: " + e.getMessage());
                return 1;
            }
            throw e;
        });
        return cli.execute(args);
    }
}
