package io.lora4j.train.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TrainingListenerTest {

    private static TrainingListener recorder(String name, List<String> calls) {
        return new TrainingListener() {
            @Override
            public void onStep(StepMetrics m) {
                calls.add(name + ".step" + m.step());
            }

            @Override
            public void onEval(EvalMetrics m) {
                calls.add(name + ".eval" + m.step());
            }

            @Override
            public void onCheckpoint(CheckpointInfo c) {
                calls.add(name + ".checkpoint" + c.step());
            }

            @Override
            public void onEnd(TrainingSummary s) {
                calls.add(name + ".end" + s.steps());
            }
        };
    }

    @Test
    void allCallsEachListenerInOrder() {
        List<String> calls = new ArrayList<>();
        TrainingListener all = TrainingListener.all(List.of(recorder("a", calls), new TrainingListener() {},
                recorder("b", calls)));
        all.onStep(StepMetrics.builder(1, 2).put("loss", 1).build());
        all.onEval(new EvalMetrics(1, 0.5, 10));
        all.onCheckpoint(new CheckpointInfo(1, Path.of("c")));
        all.onEnd(new TrainingSummary(2, 2, Duration.ZERO, Optional.empty(), Optional.empty()));
        assertEquals(List.of("a.step1", "b.step1", "a.eval1", "b.eval1", "a.checkpoint1", "b.checkpoint1",
                "a.end2", "b.end2"), calls);
    }

    @Test
    void stepMetricsAreValidatedAndOrdered() {
        StepMetrics m = StepMetrics.builder(3, 10).put("loss", 2).put("lr", 1e-3).put("kl", 0).build();
        assertEquals(List.of("loss", "lr", "kl"), List.copyOf(m.values().keySet()));
        assertEquals(2.0, m.get("loss").orElseThrow());
        assertTrue(m.get("reward_mean").isEmpty());
        assertThrows(IllegalArgumentException.class, () -> StepMetrics.builder(0, 10).build());
        assertThrows(IllegalArgumentException.class, () -> StepMetrics.builder(11, 10).build());
        java.util.Map<String, Double> withNull = new java.util.HashMap<>();
        withNull.put("loss", null);
        assertThrows(NullPointerException.class, () -> new StepMetrics(1, 1, withNull));
        assertThrows(UnsupportedOperationException.class, () -> m.values().put("x", 1.0));
        assertEquals(Math.exp(0.5), new EvalMetrics(1, 0.5, 3).perplexity(), 1e-15);
        assertTrue(new TrainingSummary(10, 10, Duration.ZERO, Optional.of(m), Optional.empty()).completed());
        assertEquals(Map.of(), StepMetrics.builder(1, 1).build().values());
    }
}
