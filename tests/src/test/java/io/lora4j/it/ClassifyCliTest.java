package io.lora4j.it;

import io.lora4j.Model;
import io.lora4j.lora.peft.PeftExport;
import io.lora4j.tools.SyntheticModel;
import io.lora4j.train.Classifier;
import io.lora4j.train.data.Dataset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code lora4j train --task classify}: accuracy before and after, held out, files a Classifier loads. */
class ClassifyCliTest {
    @TempDir
    static Path dir;
    static String model;
    static Path data;

    @BeforeAll
    static void files() throws IOException {
        Path m = dir.resolve("base.gguf");
        SyntheticModel.builder().embeddingLength(64).blockCount(2).heads(4, 2).feedForwardLength(128).vocabSize(400)
                .contextLength(64).seed(8).write(m);
        model = m.toString();
        // label: whether the text starts with "yes" or "no" (integer labels 1 / 0)
        SplittableRandom rng = new SplittableRandom(4);
        String[] filler = {"the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran"};
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 80; i++) {
            int label = rng.nextInt(2);
            StringBuilder text = new StringBuilder(label == 1 ? "yes" : "no");
            for (int w = 0, n = 2 + rng.nextInt(4); w < n; w++) text.append(' ').append(filler[rng.nextInt(filler.length)]);
            lines.add("{\"text\": \"" + text + "\", \"label\": " + label + "}");
        }
        data = dir.resolve("data.jsonl");
        Files.write(data, lines);
    }

    private static double number(String out, String pattern) {
        Matcher m = Pattern.compile(pattern).matcher(out);
        assertTrue(m.find(), "no '" + pattern + "' in:\n" + out);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void trainsReportsAccuracyAndWritesTheHead() {
        Path out = dir.resolve("run");
        CliRunner r = CliRunner.run("train", "--task", "classify", "-m", model, "--data", data.toString(), "-o",
                out.toString(), "--epochs", "6", "--batch-size", "8", "--lr", "5e-3", "--scheduler", "constant",
                "--lora-r", "8", "--eval-split", "0.25", "--seed", "2");
        assertEquals(0, r.exitCode(), r.err());
        String o = r.out();
        double after = number(o, "accuracy \\(training data\\): [0-9.]+ before, ([0-9.]+) after");
        double heldAfter = number(o, "held-out accuracy: [0-9.]+ before, ([0-9.]+) after");
        assertTrue(after > 0.9 && heldAfter > 0.8, o);
        assertTrue(o.contains("labels: [0, 1]") && o.contains("cannot carry the classification head"), o);
        assertTrue(Files.isRegularFile(out.resolve("classifier.gguf")) && Files.isRegularFile(out.resolve("adapter.gguf")));
        String csv = readFirstLine(out.resolve("metrics.csv"));
        assertTrue(csv.contains("accuracy") && csv.contains("eval_accuracy"), csv);
        try (Model m = Model.load(Path.of(model)); Classifier c = Classifier.load(m, out)) {
            assertEquals("1", c.predict("yes the cat sat").label());
            assertEquals("0", c.predict("no the cat sat").label());
            double acc = c.evaluate(Dataset.jsonl(data));
            assertTrue(acc > 0.85, String.format(Locale.ROOT, "accuracy %.3f", acc));
        }
        Path peft = dir.resolve("peft");
        CliRunner e = CliRunner.run("export", "-m", model, "--lora", out.resolve("adapter.gguf").toString(), "--format",
                "peft", "--classifier", out.resolve("classifier.gguf").toString(), "-o", peft.toString());
        assertEquals(0, e.exitCode(), e.err());
        assertTrue(Files.isRegularFile(peft.resolve(PeftExport.WEIGHTS_FILE)));
    }

    @Test
    void labelledDataNeedsTheClassifyTaskAndBadLabelsNameTheLine() throws IOException {
        Path out = dir.resolve("x");
        CliRunner lm = CliRunner.run("train", "-m", model, "--data", data.toString(), "-o", out.toString());
        assertEquals(1, lm.exitCode());
        assertTrue(lm.err().contains("--task classify"), lm.err());
        Path bad = dir.resolve("bad.jsonl");
        Files.write(bad, List.of("{\"text\": \"a b\", \"label\": \"x\"}", "{\"text\": \"c d\", \"label\": 1.5}"));
        CliRunner b = CliRunner.run("train", "--task", "classify", "-m", model, "--data", bad.toString(), "-o", out.toString());
        assertEquals(1, b.exitCode());
        assertTrue(b.err().contains("bad.jsonl:2") && b.err().contains("string or an integer"), b.err());
        Path one = dir.resolve("one.jsonl");
        Files.write(one, List.of("{\"text\": \"a b\", \"label\": \"x\"}", "{\"text\": \"c d\", \"label\": \"x\"}"));
        CliRunner o = CliRunner.run("train", "--task", "classify", "-m", model, "--data", one.toString(), "-o", out.toString());
        assertEquals(1, o.exitCode());
        assertTrue(o.err().contains("at least two different labels"), o.err());
        CliRunner t = CliRunner.run("train", "--task", "regress", "-m", model, "--data", one.toString(), "-o", out.toString());
        assertEquals(1, t.exitCode());
        assertTrue(t.err().contains("--task must be"), t.err());
        assertFalse(Files.exists(out.resolve("classifier.gguf")));
    }

    private static String readFirstLine(Path p) {
        try {
            return Files.readAllLines(p).getFirst();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
