package io.lora4j.generate;

import io.lora4j.Lora4jException;
import io.lora4j.Model;
import io.lora4j.tools.SyntheticModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GenerationTest {
    @TempDir
    static Path dir;
    static Model model;

    @BeforeAll
    static void load() {
        Path file = dir.resolve("gen.gguf");
        // Larger weights make the random model's distribution peaked enough to be interesting.
        SyntheticModel.builder().embeddingLength(64).blockCount(2).heads(4, 2).feedForwardLength(128)
                .vocabSize(400).contextLength(128).weightScale(0.3f).seed(11).write(file);
        model = Model.load(file);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void greedyIsDeterministicAndPicksTheArgmax() {
        Generation a = model.generate("hello", Sampling.greedy(12));
        Generation b = model.generate("hello", Sampling.greedy(12));
        assertArrayEquals(a.tokenIds(), b.tokenIds());
        assertEquals(a.text(), b.text());

        // The first generated token is the argmax of the prompt's logits.
        int[] prompt = model.tokenizer().encode("hello", true, true);
        assertArrayEquals(prompt, a.promptTokens());
        try (InferenceContext ctx = new InferenceContext(model, 64, 1, 1, false)) {
            float[] logits = ctx.decode(0, prompt);
            int best = 0;
            for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
            assertEquals(best, a.tokens().getFirst().id());
        }
    }

    @Test
    void sameSeedSameTextOtherSeedOtherText() {
        Sampling s = Sampling.builder().temperature(1.5).topK(0).topP(1).minP(0).maxTokens(24).seed(5).build();
        Generation a = model.generate("abc", s);
        Generation b = model.generate("abc", s);
        Generation c = model.generate("abc", s.toBuilder().seed(6).build());
        assertArrayEquals(a.tokenIds(), b.tokenIds());
        assertNotEquals(List.of(a.tokenIds()), List.of(c.tokenIds()));
        assertEquals(5, a.seed());
    }

    @Test
    void stopsAtMaxTokensAndReportsLogprobs() {
        Generation g = model.generate("x", Sampling.builder().temperature(0).maxTokens(5).nProbs(3).build());
        assertEquals(5, g.tokens().size());
        assertEquals(FinishReason.LENGTH, g.finishReason());
        for (GeneratedToken t : g.tokens()) {
            assertEquals(3, t.topIds().length);
            assertEquals(t.topIds()[0], t.id(), "greedy picks the most likely token");
            assertEquals(t.topLogprobs()[0], t.logprob(), 1e-6);
            assertTrue(t.logprob() <= 0);
        }
    }

    @Test
    void stopStringEndsTheTextBeforeIt() {
        Generation free = model.generate("q", Sampling.greedy(30));
        String text = free.text();
        assertTrue(text.length() > 4, "need some text to cut: " + text);
        String stop = text.substring(2, 4);
        Generation cut = model.generate("q", Sampling.builder().temperature(0).maxTokens(30).stop(stop).build());
        assertEquals(FinishReason.STOP, cut.finishReason());
        assertEquals(text.substring(0, text.indexOf(stop)), cut.text());
    }

    @Test
    void streamingDeliversTheTextAndCanCancel() {
        List<String> pieces = new ArrayList<>();
        Generation g = model.generate("stream", Sampling.greedy(10), t -> {
            pieces.add(t.text());
            return true;
        });
        assertEquals(10, pieces.size());
        assertTrue(g.text().startsWith(String.join("", pieces)));

        int[] seen = {0};
        Generation cancelled = model.generate("stream", Sampling.greedy(10), t -> ++seen[0] < 3);
        assertEquals(FinishReason.CANCELLED, cancelled.finishReason());
        assertEquals(3, cancelled.tokens().size());
    }

    @Test
    void groupDecodingMatchesOneAtATime() {
        int[] prompt = model.tokenizer().encode("group", true, true);
        Sampling s = Sampling.plain(1.0, 8, 100);
        try (InferenceContext ctx = new InferenceContext(model, 64, 4, 1, false)) {
            List<Generation> group = new Generator(ctx, model.tokenizer()).generateGroup(prompt, 4, s);
            assertEquals(4, group.size());
            for (int i = 0; i < 4; i++) {
                Generation single = model.generate(prompt, s.toBuilder().seed(100 + i).build(), null);
                assertArrayEquals(single.tokenIds(), group.get(i).tokenIds(), "sequence " + i);
            }
        }
    }

    @Test
    void teacherForcedLogprobsMatchDecodeLogits() {
        int[] tokens = model.tokenizer().encode("some text here", true, true);
        try (InferenceContext ctx = new InferenceContext(model, 64, 1, 1, true)) {
            float[] lp = ctx.logprobs(0, tokens);
            assertEquals(tokens.length - 1, lp.length);
            ctx.clear(0);
            for (int t = 0; t < tokens.length - 1; t++) {
                float[] logits = ctx.decode(0, new int[] {tokens[t]});
                double max = Double.NEGATIVE_INFINITY;
                for (float v : logits) max = Math.max(max, v);
                double sum = 0;
                for (float v : logits) sum += Math.exp(v - max);
                double expected = logits[tokens[t + 1]] - max - Math.log(sum);
                assertEquals(expected, lp[t], 1e-4, "token " + t);
            }
        }
    }

    @Test
    void badInputIsAnExceptionNotACrash() {
        assertThrows(IllegalArgumentException.class, () -> Sampling.builder().temperature(-1).build());
        assertThrows(IllegalArgumentException.class, () -> Sampling.builder().topP(0).build());
        assertThrows(IllegalArgumentException.class, () -> Sampling.builder().topP(1.5).build());
        try (InferenceContext ctx = new InferenceContext(model, 16, 1, 1, false)) {
            Lora4jException e = assertThrows(Lora4jException.class, () -> ctx.decode(0, new int[] {1, 400}));
            assertTrue(e.getMessage().contains("400"), e.getMessage());
            assertThrows(Lora4jException.class, () -> ctx.decode(0, new int[20]));
            assertThrows(Lora4jException.class, () -> ctx.decode(new int[] {1}, new int[] {3}, new boolean[] {true}));
        }
        int[] tooLong = new int[200];
        assertThrows(IllegalArgumentException.class, () -> model.generate(tooLong, Sampling.greedy(1), null));
        assertFalse(model.generate("ok", Sampling.greedy(1)).tokens().isEmpty());
    }

    @Test
    void oneModelServesSeveralThreads() throws Exception {
        Generation expected = model.generate("threads", Sampling.greedy(16));
        var pool = java.util.concurrent.Executors.newFixedThreadPool(3);
        try {
            List<java.util.concurrent.Future<Generation>> runs = new ArrayList<>();
            for (int i = 0; i < 6; i++) runs.add(pool.submit(() -> model.generate("threads", Sampling.greedy(16))));
            for (var f : runs) assertArrayEquals(expected.tokenIds(), f.get().tokenIds());
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void contextsKeepTheModelOpen() {
        InferenceContext ctx = new InferenceContext(model, 16, 1, 1, false);
        assertThrows(IllegalStateException.class, model::close);
        ctx.close();
        assertThrows(IllegalStateException.class, () -> ctx.decode(0, new int[] {1}));
    }
}
