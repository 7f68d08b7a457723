package io.lora4j.train.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lora4j.train.data.Batch;
import io.lora4j.train.data.BatchIterator;
import io.lora4j.train.data.BatchPosition;
import io.lora4j.train.data.Batcher;
import io.lora4j.train.data.Example;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GradientAccumulationTest {

    private static Batcher batcher(int examples) {
        List<Example> list = new ArrayList<>();
        for (int i = 0; i < examples; i++) list.add(new Example(new int[] {i, i, i}, new boolean[] {false, true, true}));
        return Batcher.builder(list).batchSize(2).seqLen(4).seed(1).build();
    }

    @Test
    void stepsNeverSpanEpochs() {
        Batcher b = batcher(9); // 5 batches per epoch
        GradientAccumulation acc = new GradientAccumulation(2);
        assertEquals(3, acc.stepsInEpoch(5));
        assertEquals(6, acc.totalSteps(b, 2));
        BatchIterator it = b.iterator(2);
        List<Integer> sizes = new ArrayList<>();
        List<Long> targets = new ArrayList<>();
        while (it.hasNext()) {
            List<Batch> step = acc.nextStep(it);
            sizes.add(step.size());
            targets.add(GradientAccumulation.targetTokens(step));
        }
        assertEquals(List.of(2, 2, 1, 2, 2, 1), sizes);
        assertEquals(List.of(8L, 8L, 2L, 8L, 8L, 2L), targets);
    }

    @Test
    void stepBoundariesAndCounts() {
        Batcher b = batcher(9);
        GradientAccumulation acc = new GradientAccumulation(2);
        assertTrue(acc.isStepBoundary(new BatchPosition(1, 4)));
        assertFalse(acc.isStepBoundary(new BatchPosition(1, 3)));
        assertEquals(3 + 2, acc.stepsBefore(b, new BatchPosition(1, 4)));
        assertThrows(IllegalArgumentException.class, () -> acc.stepsBefore(b, new BatchPosition(0, 1)));
        assertThrows(IllegalArgumentException.class, () -> new GradientAccumulation(0));
    }
}
