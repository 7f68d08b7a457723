package io.lora4j.train.rl;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AdvantagesTest {
    @Test
    void groupNormalisationUsesTheUnbiasedStd() {
        double[] r = {1, 0, 0, 0, 2, 2, 2, 2};
        // Group 1: mean 0.25, unbiased std 0.5. Group 2: all equal, advantages 0.
        double s = 0.5 + Advantages.STD_EPS;
        assertArrayEquals(new double[] {0.75 / s, -0.25 / s, -0.25 / s, -0.25 / s, 0, 0, 0, 0},
                Advantages.group(r, 4, true), 1e-12);
        assertArrayEquals(new double[] {0.75, -0.25, -0.25, -0.25, 0, 0, 0, 0}, Advantages.group(r, 4, false), 1e-12);
        assertEquals(0.25, Advantages.meanGroupStd(r, 4), 1e-12);
    }

    @Test
    void leaveOneOutSubtractsTheOthersMean() {
        double[] a = Advantages.leaveOneOut(new double[] {0, 1, 0, 1, 1, 0, 0, 0}, 4);
        assertArrayEquals(new double[] {-2.0 / 3, 1 - 1.0 / 3, -2.0 / 3, 1 - 1.0 / 3, 1, -1.0 / 3, -1.0 / 3, -1.0 / 3}, a, 1e-12);
        assertThrows(IllegalArgumentException.class, () -> Advantages.leaveOneOut(new double[] {1}, 1));
        assertThrows(IllegalArgumentException.class, () -> Advantages.group(new double[] {1, 2, 3}, 2, true));
    }
}
