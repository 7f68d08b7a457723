package io.lora4j.train.rl;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DpoLossTest {
    /** Per-token policy log-probs of each pair's chosen and rejected completions. */
    private record Tokens(double[][] chosen, double[][] rejected, double[] refC, double[] refR) {
        List<DpoLoss.Pair> pairs() {
            List<DpoLoss.Pair> out = new ArrayList<>();
            for (int i = 0; i < chosen.length; i++) {
                out.add(new DpoLoss.Pair(sum(chosen[i]), sum(rejected[i]), refC[i], refR[i], chosen[i].length,
                        rejected[i].length));
            }
            return out;
        }
    }

    private static double sum(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return s;
    }

    private static Tokens random(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int n = 5;
        double[][] c = new double[n][], r = new double[n][];
        double[] rc = new double[n], rr = new double[n];
        for (int i = 0; i < n; i++) {
            c[i] = rng.doubles(1 + rng.nextInt(6), -3, -0.1).toArray();
            r[i] = rng.doubles(1 + rng.nextInt(6), -3, -0.1).toArray();
            rc[i] = sum(c[i]) + rng.nextDouble(-2, 2);
            rr[i] = sum(r[i]) + rng.nextDouble(-2, 2);
        }
        return new Tokens(c, r, rc, rr);
    }

    private static void checkGradient(DpoLoss.Type type, double beta, double smoothing) {
        Tokens t = random(3 + type.ordinal());
        DpoLoss.Result res = DpoLoss.compute(t.pairs(), type, beta, smoothing);
        ToDoubleFunction<Tokens> loss = x -> DpoLoss.compute(x.pairs(), type, beta, smoothing).loss();
        double h = 1e-5;
        for (int i = 0; i < t.chosen().length; i++) {
            for (double[][] side : new double[][][] {t.chosen(), t.rejected()}) {
                double expected = side == t.chosen() ? res.chosenGrad()[i] : res.rejectedGrad()[i];
                for (int k = 0; k < side[i].length; k++) {
                    double keep = side[i][k];
                    side[i][k] = keep + h;
                    double up = loss.applyAsDouble(t);
                    side[i][k] = keep - h;
                    double down = loss.applyAsDouble(t);
                    side[i][k] = keep;
                    assertEquals((up - down) / (2 * h), expected, 1e-7, type + " pair " + i + " token " + k);
                }
            }
        }
    }

    @Test
    void sigmoidWeightsAreTheDerivativeOfTheLoss() {
        checkGradient(DpoLoss.Type.SIGMOID, 0.1, 0);
        checkGradient(DpoLoss.Type.SIGMOID, 0.5, 0.2);
    }

    @Test
    void ipoWeightsAreTheDerivativeOfTheLoss() {
        checkGradient(DpoLoss.Type.IPO, 0.1, 0);
    }

    @Test
    void policyEqualToReferenceGivesLn2AndNoMargin() {
        List<DpoLoss.Pair> same = List.of(new DpoLoss.Pair(-3, -5, -3, -5, 2, 3), new DpoLoss.Pair(-1, -1, -1, -1, 1, 1));
        for (double s : new double[] {0, 0.1}) {
            DpoLoss.Result r = DpoLoss.compute(same, DpoLoss.Type.SIGMOID, 0.1, s);
            assertEquals(Math.log(2), r.loss(), 1e-15);
            assertEquals(0, r.margin());
            assertEquals(0, r.accuracy());
        }
        // Chosen up by 2 nats against the reference, rejected down by 1: margin β·3, accuracy 1.
        DpoLoss.Result r = DpoLoss.compute(List.of(new DpoLoss.Pair(-1, -6, -3, -5, 2, 2)), DpoLoss.Type.SIGMOID, 0.5, 0);
        assertEquals(1.5, r.margin(), 1e-12);
        assertEquals(1.0, r.accuracy());
        assertEquals(-DpoLoss.logSigmoid(1.5), r.loss(), 1e-12);
        assertEquals(1.0, r.chosenReward(), 1e-12);
        assertEquals(-0.5, r.rejectedReward(), 1e-12);
    }
}
