package io.lora4j.examples;

import io.lora4j.Model;
import io.lora4j.lora.Adapter;
import io.lora4j.lora.LoraConfig;
import io.lora4j.train.NativeTrainer;
import io.lora4j.train.OptimizerConfig;
import io.lora4j.train.TrainerShape;
import io.lora4j.train.data.Batch;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A training objective written in Java on the engine's one primitive: the trainer back-propagates
 * L = Σ w_t · log p(token_t | prefix) for per-token weights w_t chosen here, so any loss works once
 * its derivative by each token's log-probability is known.
 *
 * <p>The objective here is unlikelihood training: keep the likelihood of wanted continuations
 * ("the cat sees the blue box.") and push down an unwanted word (" red" in "the cat sees the red
 * box.") with the loss −log(1 − p), whose derivative by log p is p / (1 − p). Run it with
 * {@code java … io.lora4j.examples.CustomObjectiveExample [model.gguf]} (default: the bundled tiny model).
 */
public final class CustomObjectiveExample {
    private static final String[] ANIMALS = {"cat", "dog", "fox", "owl", "cow", "hen", "pig", "bee"};

    public static void main(String[] args) {
        Path file = Path.of(args.length > 0 ? args[0] : "models/tiny/tiny-base.gguf");
        try (Model model = Model.load(file);
             Adapter adapter = Adapter.create(model, LoraConfig.builder().rank(4).alpha(8).seed(1).build())) {
            // Each row: a prompt, then the continuation the objective scores (tokens from `start` on).
            List<int[]> rows = new ArrayList<>();
            List<Integer> starts = new ArrayList<>();
            List<Boolean> unwanted = new ArrayList<>();
            for (String a : ANIMALS) {
                for (String colour : new String[] {"blue", "red"}) {
                    int[] prompt = model.tokenizer().encode("the " + a + " sees the", true, true);
                    int[] word = model.tokenizer().encodeContinuation(" " + colour, true);
                    int[] rest = model.tokenizer().encodeContinuation(" box.", true);
                    int[] seq = concat(prompt, colour.equals("red") ? word : concat(word, rest));
                    rows.add(seq);
                    starts.add(prompt.length);
                    unwanted.add(colour.equals("red"));
                }
            }
            Batch batch = batch(rows, starts);
            int seqLen = batch.seqLen();
            try (NativeTrainer trainer = new NativeTrainer(model, adapter, List.of(),
                    new TrainerShape(rows.size(), seqLen, 0, false, false, 0, 1))) {
                report("before", trainer, batch, unwanted);
                for (int step = 1; step <= 30; step++) {
                    float[][] logp = trainer.logprobs(batch, true);
                    float[][] w = new float[rows.size()][seqLen];
                    double loss = 0;
                    long n = batch.targetTokens();
                    for (int r = 0; r < rows.size(); r++) {
                        for (int i = starts.get(r); i < rows.get(r).length; i++) {
                            double lp = logp[r][i];
                            if (unwanted.get(r)) {
                                double p = Math.exp(lp);
                                loss -= Math.log1p(-p);
                                w[r][i] = (float) (p / (1 - p) / n);   // d(−log(1 − p))/dlog p
                            } else {
                                loss -= lp;
                                w[r][i] = (float) (-1.0 / n);          // d(−log p)/dlog p
                            }
                        }
                    }
                    trainer.step(batch, w);
                    trainer.optimizerStep(OptimizerConfig.adamw(), 5e-3, 1.0);
                    if (step % 10 == 0) System.out.printf("step %d: loss %.4f%n", step, loss / n);
                }
                report("after ", trainer, batch, unwanted);
            }
        }
    }

    /** Mean probability of the unwanted and of the wanted continuations, from the trainer's forward pass. */
    private static void report(String when, NativeTrainer trainer, Batch batch, List<Boolean> unwanted) {
        float[][] logp = trainer.logprobs(batch, true);
        double[] sum = new double[2];
        for (int r = 0; r < logp.length; r++) {
            double lp = 0;
            for (int i = 0; i < logp[r].length; i++) if (batch.mask()[r][i]) lp += logp[r][i];
            sum[unwanted.get(r) ? 1 : 0] += Math.exp(lp) / (logp.length / 2.0);
        }
        System.out.printf("%s: p(\" red\" | \"the X sees the\") = %.5f, p(\" blue box.\" | \"the X sees the\") = %.4f%n",
                when, sum[1], sum[0]);
    }

    /** One sequence per row, padded; the continuation tokens are the targets. */
    private static Batch batch(List<int[]> rows, List<Integer> starts) {
        int seqLen = rows.stream().mapToInt(r -> r.length).max().orElseThrow();
        int n = rows.size();
        int[][] tokens = new int[n][seqLen], pos = new int[n][seqLen], seg = new int[n][seqLen];
        boolean[][] mask = new boolean[n][seqLen];
        for (int r = 0; r < n; r++) {
            Arrays.fill(seg[r], Batch.PAD_SEGMENT);
            int[] s = rows.get(r);
            for (int i = 0; i < s.length; i++) {
                tokens[r][i] = s[i];
                pos[r][i] = i;
                seg[r][i] = 0;
                mask[r][i] = i >= starts.get(r);
            }
        }
        return new Batch(tokens, mask, pos, seg);
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
