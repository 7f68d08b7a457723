package io.lora4j.it;

import io.lora4j.tools.SyntheticModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainCliTest {
    @TempDir
    static Path dir;
    static String model;
    static Path data;

    @BeforeAll
    static void setUp() throws Exception {
        Path m = dir.resolve("base.gguf");
        SyntheticModel.builder().seed(4).write(m);
        model = m.toString();
        data = dir.resolve("train.jsonl");
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            lines.append("{\"prompt\": \"q").append(i % 4).append(":\", \"completion\": \" a").append(i % 4).append("\"}\n");
        }
        Files.writeString(data, lines);
    }

    @Test
    void writesAdapterMetricsPlotAndCheckpoints() throws Exception {
        Path out = dir.resolve("out");
        CliRunner r = CliRunner.run("train", "-m", model, "--data", data.toString(), "-o", out.toString(),
                "--lora-r", "4", "--lora-alpha", "8", "--lora-targets", "q,v,down", "--max-steps", "6",
                "--batch-size", "2", "--lr", "1e-3", "--scheduler", "cosine", "--save-every", "3", "--eval-split", "0.25");
        assertEquals(0, r.exitCode(), r.err());
        for (String f : List.of("adapter.gguf", "metrics.csv", "loss.png", "checkpoints/step-3/adapter.gguf",
                "checkpoints/step-3/optimizer.gguf", "checkpoints/step-6/trainer_state.json")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        List<String> csv = Files.readAllLines(out.resolve("metrics.csv"));
        assertTrue(csv.getFirst().startsWith("step,loss,lr"), csv.getFirst());
        assertTrue(csv.getFirst().contains("tokens_per_s") && csv.getFirst().contains("eval_loss"), csv.getFirst());
        assertEquals(7, csv.size(), "header and one row per optimizer step");

        CliRunner gen = CliRunner.run("generate", "-m", model, "--lora", out.resolve("adapter.gguf").toString(),
                "--lora-scale", "0.5", "-p", "q1:", "-n", "4", "--temp", "0");
        assertEquals(0, gen.exitCode(), gen.err());
    }

    @Test
    void resumesFromACheckpointAndReadsAConfigFile() throws Exception {
        Path out = dir.resolve("resume");
        Path config = dir.resolve("train.conf");
        Files.writeString(config, "lora-r = 2\nlora-alpha = 4\nmax-steps = 4\nbatch-size = 2\nsave-every = 2\n");
        CliRunner first = CliRunner.run("train", "-m", model, "--data", data.toString(), "-o", out.toString(),
                "--config", config.toString());
        assertEquals(0, first.exitCode(), first.err());
        CliRunner again = CliRunner.run("train", "-m", model, "--data", data.toString(), "-o", out.toString(),
                "--config", config.toString(), "--resume", out.resolve("checkpoints/step-2").toString());
        assertEquals(0, again.exitCode(), again.err());
        assertEquals(5, Files.readAllLines(out.resolve("metrics.csv")).size(), "rows 3 and 4 replaced, not duplicated");
    }

    @Test
    void aMalformedLineNamesFileAndLine() throws Exception {
        Path bad = dir.resolve("bad.jsonl");
        Files.writeString(bad, "{\"text\": \"fine\"}\n{\"text\": \n");
        CliRunner r = CliRunner.run("train", "-m", model, "--data", bad.toString(), "-o", dir.resolve("x").toString());
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("bad.jsonl:2"), r.err());
        assertTrue(!Files.exists(dir.resolve("x/adapter.gguf")));
    }

    @Test
    void badFlagsAreClearErrors() {
        CliRunner r = CliRunner.run("train", "-m", model, "--data", data.toString(), "-o", dir.resolve("y").toString(),
                "--lora-targets", "q,bogus");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("bogus"), r.err());
        CliRunner rank = CliRunner.run("train", "-m", model, "--data", data.toString(), "-o", dir.resolve("z").toString(),
                "--lora-r", "0");
        assertEquals(1, rank.exitCode());
    }
}
