package io.lora4j.it;

import io.lora4j.train.metrics.MetricsTable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code lora4j rl} and {@code lora4j dpo} on the bundled tiny model, end to end. */
class RlCliTest {
    @TempDir
    static Path dir;
    static String model, prompts, pairs;

    @BeforeAll
    static void files() throws IOException {
        Path tiny = null;
        for (Path p = Path.of("").toAbsolutePath(); p != null && tiny == null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("models/tiny/tiny-base.gguf"))) tiny = p.resolve("models/tiny/tiny-base.gguf");
        }
        if (tiny == null) throw new IllegalStateException("models/tiny/tiny-base.gguf not found");
        model = tiny.toString();
        StringBuilder p = new StringBuilder(), d = new StringBuilder();
        for (String a : new String[] {"cat", "dog", "fox", "owl"}) {
            p.append("{\"prompt\": \"the ").append(a).append(" sees the\", \"answer\": \"red\"}\n");
            for (String t : new String[] {"box", "cup"}) {
                d.append("{\"prompt\": \"the ").append(a).append(" sees the\", \"chosen\": \" red ").append(t)
                        .append(".\", \"rejected\": \" blue ").append(t).append(".\"}\n");
            }
        }
        prompts = Files.writeString(dir.resolve("prompts.jsonl"), p).toString();
        pairs = Files.writeString(dir.resolve("pairs.jsonl"), d).toString();
    }

    private static double cell(MetricsTable t, int row, String column) {
        return Double.parseDouble(t.rows().get(row).get(t.columns().indexOf(column)));
    }

    @Test
    void rlWritesTheAdapterAndOneMetricsRowPerStep() {
        Path out = dir.resolve("rl");
        CliRunner r = CliRunner.run("rl", "-m", model, "--prompts", prompts, "-o", out.toString(), "--reward", "contains",
                "--reward", "regex:\\.", "--group-size", "4", "--batch-size", "2", "--beta", "0.04", "--clip", "0.2",
                "--max-steps", "3", "--max-new-tokens", "6", "--temp", "1.0", "--lr", "5e-3", "-t", "1");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(Files.isRegularFile(out.resolve("adapter.gguf")));
        MetricsTable t = MetricsTable.read(out.resolve("metrics.csv"));
        assertTrue(t.columns().containsAll(List.of("step", "reward_mean", "reward_std", "kl", "clip_frac", "completion_len",
                "reward_contains", "reward_regex")), t.columns().toString());
        assertEquals(3, t.rows().size());
        assertEquals(0.0, cell(t, 0, "kl"));
        assertEquals(0.0, cell(t, 0, "clip_frac"));
        assertTrue(cell(t, 0, "completion_len") > 0 && cell(t, 0, "completion_len") <= 6);
    }

    @Test
    void rlooFromAStartingAdapterKeepsItAsTheReference() {
        Path first = dir.resolve("first"), second = dir.resolve("second");
        assertEquals(0, CliRunner.run("rl", "-m", model, "--prompts", prompts, "-o", first.toString(), "--reward", "contains",
                "--group-size", "4", "--batch-size", "2", "--max-steps", "2", "--max-new-tokens", "4", "--lr", "5e-2",
                "-t", "1").exitCode());
        CliRunner r = CliRunner.run("rl", "-m", model, "--prompts", prompts, "-o", second.toString(), "--reward", "contains",
                "--algorithm", "rloo", "--lora", first.resolve("adapter.gguf").toString(), "--group-size", "4",
                "--batch-size", "2", "--max-steps", "2", "--max-new-tokens", "4", "-t", "1");
        assertEquals(0, r.exitCode(), r.err());
        assertEquals(0.0, cell(MetricsTable.read(second.resolve("metrics.csv")), 0, "kl"));
    }

    @Test
    void rlErrorsAreOneLineAndExitOne() {
        CliRunner bad = CliRunner.run("rl", "-m", model, "--prompts", prompts, "-o", dir.resolve("bad").toString(),
                "--reward", "fuzzy", "--max-steps", "1");
        assertEquals(1, bad.exitCode());
        assertTrue(bad.err().contains("unknown reward 'fuzzy'"), bad.err());
        // exact needs an "answer": the DPO file has none, so the reward fails and stops the run.
        CliRunner noAnswer = CliRunner.run("rl", "-m", model, "--prompts", pairs, "-o", dir.resolve("noanswer").toString(),
                "--reward", "exact", "--group-size", "2", "--batch-size", "1", "--max-steps", "1", "--max-new-tokens", "2");
        assertEquals(1, noAnswer.exitCode());
        assertTrue(noAnswer.err().contains("reward function failed at step 1") && noAnswer.err().contains("answer"),
                noAnswer.err());
    }

    @Test
    void dpoStartsAtLn2AndWritesItsMetrics() {
        Path out = dir.resolve("dpo");
        CliRunner r = CliRunner.run("dpo", "-m", model, "--data", pairs, "-o", out.toString(), "--beta", "0.1",
                "--batch-size", "4", "--max-steps", "3", "--lr", "5e-3", "-t", "1");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(Files.isRegularFile(out.resolve("adapter.gguf")));
        MetricsTable t = MetricsTable.read(out.resolve("metrics.csv"));
        assertEquals(List.of("step", "loss", "accuracy", "margin"), t.columns().subList(0, 4));
        assertEquals(3, t.rows().size());
        assertEquals(Math.log(2), cell(t, 0, "loss"), 1e-6);
        assertEquals(0.0, cell(t, 0, "accuracy"));
        CliRunner wrong = CliRunner.run("dpo", "-m", model, "--data", prompts, "-o", dir.resolve("wrong").toString());
        assertEquals(1, wrong.exitCode());
        assertTrue(wrong.err().contains("chosen"), wrong.err());
    }
}
