package io.lora4j.train.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LrScheduleTest {

    private static final double EPS = 1e-15;

    @Test
    void constantWithoutAndWithWarmup() {
        LrSchedule s = LrSchedule.constant(0.01);
        assertEquals(0.01, s.lr(0, 10), EPS);
        assertEquals(0.01, s.lr(10, 10), EPS);
        LrSchedule w = s.withWarmup(Warmup.steps(4));
        double[] expected = {0, 0.0025, 0.005, 0.0075, 0.01, 0.01};
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], w.lr(i, 10), EPS, "step " + i);
    }

    @Test
    void linearWarmupThenDecayToZero() {
        // total 10, warmup 2: 0, 0.5, then (10 - s) / 8.
        LrSchedule s = LrSchedule.linear(1.0).withWarmup(Warmup.steps(2));
        double[] expected = {0, 0.5, 1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25, 0.125, 0};
        for (int i = 0; i <= 10; i++) assertEquals(expected[i], s.lr(i, 10), EPS, "step " + i);
    }

    @Test
    void cosineMatchesTransformersFormula() {
        // total 12, warmup ratio 0.25 -> 3 steps; then 0.5 (1 + cos(pi (s - 3) / 9)).
        LrSchedule s = LrSchedule.cosine(2e-4).withWarmup(Warmup.ratio(0.25));
        assertEquals(0, s.lr(0, 12), EPS);
        assertEquals(2e-4 / 3, s.lr(1, 12), EPS);
        assertEquals(2e-4, s.lr(3, 12), EPS);
        assertEquals(2e-4 * 0.5 * (1 + Math.cos(Math.PI / 9)), s.lr(4, 12), EPS);
        assertEquals(2e-4 * 0.5 * (1 + Math.cos(Math.PI * 6 / 9)), s.lr(9, 12), EPS);
        assertEquals(0.5e-4, s.lr(9, 12), 1e-18, "cos(2pi/3) = -1/2");
        assertEquals(0, s.lr(12, 12), EPS);
        // Without warmup the first step uses the peak rate.
        assertEquals(2e-4, LrSchedule.cosine(2e-4).lr(0, 12), EPS);
    }

    @Test
    void warmupRatioRoundsUpAsTransformersDoes() {
        assertEquals(5, Warmup.ratio(0.05).stepsFor(100));
        assertEquals(1, Warmup.ratio(0.05).stepsFor(3));
        assertEquals(0, Warmup.ratio(0).stepsFor(100));
        assertEquals(7, new Warmup(7, 0.5).stepsFor(100), "steps win over ratio");
    }

    @Test
    void badArgumentsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.linear(0));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.linear(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Warmup.ratio(1.5));
        assertThrows(IllegalArgumentException.class, () -> Warmup.steps(-1));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.linear(1).lr(11, 10));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.linear(1).lr(0, 0));
        assertEquals(SchedulerType.COSINE, SchedulerType.parse("Cosine"));
        var e = assertThrows(IllegalArgumentException.class, () -> SchedulerType.parse("step"));
        assertEquals("unknown scheduler 'step' (expected constant, linear or cosine)", e.getMessage());
    }
}
