package io.lora4j.cli;

import io.lora4j.Lora4jException;
import io.lora4j.train.TrainingException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ./lora4j} command-line tool. */
@Command(name = "lora4j", mixinStandardHelpOptions = true, version = "lora4j 0.1.0",
        description = "Fine-tune and run quantized GGUF llama-family models on the JVM.",
        subcommands = {InfoCommand.class, QuantizeCommand.class, TokenizeCommand.class, GenerateCommand.class,
                TrainCommand.class, RlCommand.class, DpoCommand.class, ExportCommand.class, ImportCommand.class,
                MakeTinyModelCommand.class, BenchCommand.class, DemoCommand.class, DevicesCommand.class})
public final class Main {
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the tool and returns its exit code (tests call this instead of main). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        java.util.Optional<java.nio.file.Path> config = configFile(args);
        if (config.isPresent() && !java.nio.file.Files.isRegularFile(config.get())) {
            cli.getErr().println("error: --config file not found: " + config.get());
            return 1;
        }
        config.ifPresent(file -> cli.getSubcommands().values()
                .forEach(sub -> sub.setDefaultValueProvider(new CommandLine.PropertiesDefaultProvider(file.toFile()))));
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            // Engine and argument errors are the user's to fix: one clear line, no stack trace.
            if (e instanceof Lora4jException || e instanceof IllegalArgumentException
                    || e instanceof java.io.UncheckedIOException || e instanceof TrainingException) {
                cmd.getErr().println("error: " + e.getMessage());
                return 1;
            }
            throw e;
        });
        return cli.execute(args);
    }

    /** The value of --config, read before parsing so the file can supply the other flags' defaults. */
    private static java.util.Optional<java.nio.file.Path> configFile(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) return java.util.Optional.of(java.nio.file.Path.of(args[i + 1]));
            if (args[i].startsWith("--config=")) return java.util.Optional.of(java.nio.file.Path.of(args[i].substring(9)));
        }
        return java.util.Optional.empty();
    }
}
