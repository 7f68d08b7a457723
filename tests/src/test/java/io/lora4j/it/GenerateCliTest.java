package io.lora4j.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lora4j.tools.SyntheticModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GenerateCliTest {
    @TempDir
    static Path dir;
    static String model;

    @BeforeAll
    static void makeModel() {
        Path file = dir.resolve("g.gguf");
        SyntheticModel.builder().weightScale(0.3f).seed(3).write(file);
        model = file.toString();
    }

    @Test
    void greedyIsReproducibleAndPrintsThePromptFirst() {
        CliRunner a = CliRunner.run("generate", "-m", model, "-p", "Once", "-n", "8", "--temp", "0");
        CliRunner b = CliRunner.run("generate", "-m", model, "-p", "Once", "-n", "8", "--temp", "0");
        assertEquals(0, a.exitCode(), a.err());
        assertTrue(a.out().startsWith("Once"), a.out());
        assertEquals(a.out(), b.out());
    }

    @Test
    void jsonCarriesTokensWithLogprobsAndTopAlternatives() throws Exception {
        CliRunner r = CliRunner.run("generate", "-m", model, "-p", "Once", "-n", "4", "--seed", "9", "--n-probs", "3",
                "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode root = new ObjectMapper().readTree(r.out());
        assertTrue(root.get("prompt_ids").size() > 1);
        assertEquals(4, root.get("tokens").size());
        StringBuilder text = new StringBuilder();
        for (JsonNode t : root.get("tokens")) {
            assertEquals(3, t.get("top").size());
            double lp = t.get("logprob").asDouble();
            assertTrue(lp <= 0);
            assertTrue(lp <= t.get("top").get(0).get("logprob").asDouble() + 1e-6);
            text.append(t.get("text").asText());
        }
        assertTrue(root.get("text").isTextual());
    }

    @Test
    void invalidSamplingValuesExitOneWithAMessage() {
        CliRunner r = CliRunner.run("generate", "-m", model, "-p", "x", "--top-p", "1.5");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("topP"), r.err());
        CliRunner t = CliRunner.run("generate", "-m", model, "-p", "x", "--temp", "-0.5");
        assertEquals(1, t.exitCode());
    }
}
