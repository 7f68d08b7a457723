package io.lora4j.train.rl;

import io.lora4j.Model;
import io.lora4j.generate.InferenceContext;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.ScaledAdapter;
import io.lora4j.train.NativeTrainer;
import io.lora4j.train.TrainerShape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The trainer's two log-prob paths, which RL's ratio and KL rest on. */
class ReferenceLogprobsTest {
    static Model model;
    static final int[][] SEQS = {{1, 40, 41, 42, 43, 44, 45}, {1, 50, 51, 52, 53}};
    static final int[] STARTS = {1, 1};

    @BeforeAll
    static void load() {
        model = Model.load(TinyModel.path());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static PackedSequences packed() {
        return new PackedSequences(List.of(SEQS), STARTS, 2, 8, false, 0);
    }

    /** log p of each token after the first, from an inference context (the plain model, adapters as set). */
    private static float[][] contextLogprobs(List<ScaledAdapter> adapters) {
        float[][] out = new float[SEQS.length][];
        try (InferenceContext ctx = new InferenceContext(model, 16, 1, 1, true)) {
            ctx.setAdapters(adapters);
            for (int s = 0; s < SEQS.length; s++) {
                ctx.clear(0);
                out[s] = ctx.logprobs(0, SEQS[s]);
            }
        }
        return out;
    }

    private static void assertClose(float[][] expected, float[][] actual, String what) {
        assertEquals(expected.length, actual.length);
        for (int s = 0; s < expected.length; s++) assertArrayEquals(expected[s], actual[s], 2e-4f, what + ", sequence " + s);
    }

    @Test
    void adapterOffIsThePlainBaseModelAndOnIsTheAdaptedModel() {
        try (Adapter trained = RlFixtures.randomAdapter(model, RlFixtures.lora(), 3, 0.1);
             NativeTrainer t = new NativeTrainer(model, trained, List.of(), new TrainerShape(2, 8, 1, false, false, 0, 1))) {
            float[][] off = packed().logprobs(t, false), on = packed().logprobs(t, true);
            assertClose(contextLogprobs(List.of()), off, "adapter off = base model");
            assertClose(contextLogprobs(List.of(ScaledAdapter.of(trained))), on, "adapter on = base + adapter");
            double diff = 0;
            for (int s = 0; s < off.length; s++) for (int i = 0; i < off[s].length; i++) diff = Math.max(diff, Math.abs(off[s][i] - on[s][i]));
            assertTrue(diff > 1e-3, "the adapter matters here");
        }
    }

    @Test
    void withAFrozenStartingAdapterTheReferenceIsBasePlusThatAdapter() {
        try (Adapter start = RlFixtures.randomAdapter(model, RlFixtures.lora(), 4, 0.1);
             Adapter delta = Adapter.create(model, RlFixtures.lora());
             NativeTrainer t = new NativeTrainer(model, delta, List.of(ScaledAdapter.of(start)),
                     new TrainerShape(2, 8, 1, false, false, 0, 1))) {
            float[][] ref = packed().logprobs(t, false), policy = packed().logprobs(t, true);
            assertClose(contextLogprobs(List.of(ScaledAdapter.of(start))), ref, "reference = base + starting adapter");
            for (int s = 0; s < ref.length; s++) assertArrayEquals(ref[s], policy[s], "a fresh delta changes nothing");
        }
    }

    /** The step's own forward gives the log-probs used for the ratio's denominator: the first ratio is exactly 1. */
    @Test
    void theTrainingStepSeesTheSameLogprobsAsTheForwardPass() {
        try (Adapter trained = RlFixtures.randomAdapter(model, RlFixtures.lora(), 5, 0.1);
             NativeTrainer t = new NativeTrainer(model, trained, List.of(), new TrainerShape(2, 8, 1, false, false, 0, 1))) {
            PackedSequences p = packed();
            float[][] before = p.logprobs(t, true);
            float[][] w = p.weights(0, new double[][] {new double[6], new double[4]});
            float[][] seen = t.step(p.batches().getFirst(), w).logprobs();
            for (int s = 0; s < SEQS.length; s++) {
                float[] row = java.util.Arrays.copyOfRange(seen[s], 1, SEQS[s].length);
                assertArrayEquals(before[s], row, "sequence " + s);
            }
        }
    }
}
