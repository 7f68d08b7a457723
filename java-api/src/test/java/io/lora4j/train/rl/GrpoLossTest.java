package io.lora4j.train.rl;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GrpoLossTest {
    /** Random completions whose ratios spread over and beyond the clip range. */
    private record Case(double[] adv, float[][] logp, float[][] old, float[][] ref) {}

    private static Case randomCase(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int n = 6;
        double[] adv = new double[n];
        float[][] logp = new float[n][], old = new float[n][], ref = new float[n][];
        for (int i = 0; i < n; i++) {
            adv[i] = rng.nextDouble(-2, 2);
            int len = 1 + rng.nextInt(7);
            logp[i] = new float[len];
            old[i] = new float[len];
            ref[i] = new float[len];
            for (int t = 0; t < len; t++) {
                old[i][t] = (float) rng.nextDouble(-4, -0.05);
                logp[i][t] = (float) (old[i][t] + rng.nextDouble(-0.5, 0.5));
                ref[i][t] = (float) (old[i][t] + rng.nextDouble(-1, 1));
            }
        }
        return new Case(adv, logp, old, ref);
    }

    /** The gradient the engine is given equals the finite difference of the loss, token by token. */
    @ParameterizedTest
    @EnumSource(LossType.class)
    void weightsAreTheDerivativeOfTheLoss(LossType type) {
        for (boolean klInLoss : new boolean[] {true, false}) {
            GrpoLoss.Settings s = new GrpoLoss.Settings(0.3, klInLoss, 0.2, 0.28, type, 9);
            Case c = randomCase(11 + type.ordinal());
            GrpoLoss.Result r = GrpoLoss.compute(c.adv(), c.logp(), c.old(), c.ref(), s);
            int clipped = 0;
            for (int i = 0; i < c.adv().length; i++) {
                for (int t = 0; t < c.logp()[i].length; t++) {
                    double ratio = Math.exp(c.logp()[i][t] - c.old()[i][t]);
                    double near = Math.min(Math.abs(ratio - 0.8), Math.abs(ratio - 1.28));
                    if (near < 1e-2) continue; // the clip indicator jumps there
                    float keep = c.logp()[i][t];
                    double h = 1e-3;
                    c.logp()[i][t] = (float) (keep + h);
                    double up = GrpoLoss.compute(c.adv(), c.logp(), c.old(), c.ref(), s).loss();
                    c.logp()[i][t] = (float) (keep - h);
                    double down = GrpoLoss.compute(c.adv(), c.logp(), c.old(), c.ref(), s).loss();
                    c.logp()[i][t] = keep;
                    double fd = (up - down) / ((double) (float) (keep + h) - (float) (keep - h));
                    assertEquals(fd, r.grad()[i][t], 2e-4 * Math.max(1, Math.abs(fd)),
                            type + " kl " + klInLoss + " completion " + i + " token " + t);
                    if ((ratio < 0.8 && c.adv()[i] < 0) || (ratio > 1.28 && c.adv()[i] > 0)) clipped++;
                }
            }
            assertTrue(clipped > 0, "the case exercises clipped tokens");
            assertTrue(r.clipFrac() > 0 && r.clipFrac() < 1, "clip fraction " + r.clipFrac());
        }
    }

    @Test
    void atTheSamplingPolicyTheRatioIsOneAndTheKlZero() {
        Case c = randomCase(5);
        GrpoLoss.Settings s = new GrpoLoss.Settings(0.04, true, 0.2, 0.2, LossType.GRPO, 16);
        GrpoLoss.Result r = GrpoLoss.compute(c.adv(), c.old(), c.old(), c.old(), s);
        assertEquals(0.0, r.kl());
        assertEquals(1.0, r.ratioMean(), 1e-15);
        assertEquals(0.0, r.clipFrac());
        for (int i = 0; i < c.adv().length; i++) {
            for (double g : r.grad()[i]) assertEquals(-c.adv()[i] / (c.adv().length * r.grad()[i].length), g, 1e-15);
        }
    }

    /** Two completions of 1 and 3 tokens, each token's loss −A: the three normalisations by hand. */
    @Test
    void lossTypesNormaliseAsTrlDoes() {
        double[] adv = {1, 2};
        float[][] lp = {{-1}, {-1, -2, -3}};
        double grpo = GrpoLoss.compute(adv, lp, lp, null, new GrpoLoss.Settings(0, true, 0.2, 0.2, LossType.GRPO, 4)).loss();
        double dr = GrpoLoss.compute(adv, lp, lp, null, new GrpoLoss.Settings(0, true, 0.2, 0.2, LossType.DR_GRPO, 4)).loss();
        double bnpo = GrpoLoss.compute(adv, lp, lp, null, new GrpoLoss.Settings(0, true, 0.2, 0.2, LossType.BNPO, 4)).loss();
        assertEquals(-(1.0 / 1 + 6.0 / 3) / 2, grpo, 1e-12);
        assertEquals(-(1.0 + 6.0) / (2 * 4), dr, 1e-12);
        assertEquals(-(1.0 + 6.0) / 4, bnpo, 1e-12);
        assertEquals(LossType.BNPO, LossType.parse("dapo"));
        assertEquals(LossType.DR_GRPO, LossType.parse("dr_grpo"));
    }
}
