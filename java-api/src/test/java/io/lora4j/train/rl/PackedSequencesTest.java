package io.lora4j.train.rl;

import io.lora4j.train.data.Batch;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PackedSequencesTest {
    private static final List<int[]> SEQS = List.of(new int[] {1, 2, 3, 4}, new int[] {5, 6, 7}, new int[] {8, 9},
            new int[] {10, 11, 12, 13, 14});
    private static final int[] STARTS = {2, 1, 2, 3}; // the third has no completion token

    @Test
    void packingPutsSequencesInTheFirstRowWithRoomAndMasksOnlyCompletions() {
        PackedSequences p = new PackedSequences(SEQS, STARTS, 2, 8, true, 0);
        assertEquals(1, p.batches().size());
        Batch b = p.batches().getFirst();
        assertArrayEquals(new int[] {1, 2, 3, 4, 5, 6, 7, 0}, b.tokens()[0]);
        assertArrayEquals(new int[] {0, 0, 0, 0, 1, 1, 1, -1}, b.segmentIds()[0]);
        assertArrayEquals(new int[] {0, 1, 2, 3, 0, 1, 2, 0}, b.positions()[0]);
        assertArrayEquals(new boolean[] {false, false, true, true, false, true, true, false}, b.mask()[0]);
        assertArrayEquals(new int[] {10, 11, 12, 13, 14, 0, 0, 0}, b.tokens()[1]);
        assertArrayEquals(new boolean[] {false, false, false, true, true, false, false, false}, b.mask()[1]);
    }

    @Test
    void withoutPackingEachSequenceHasARowAndBatchesFollow() {
        PackedSequences p = new PackedSequences(SEQS, STARTS, 2, 8, false, 0);
        assertEquals(2, p.batches().size());
        assertArrayEquals(new int[] {10, 11, 12, 13, 14, 0, 0, 0}, p.batches().get(1).tokens()[0]);
        assertTrue(p.batches().get(1).segmentIds()[1][0] < 0, "the last batch's second row is padding");
    }

    @Test
    void weightsLandOnTheCompletionTokensOfEachSequence() {
        PackedSequences p = new PackedSequences(SEQS, STARTS, 2, 8, true, 0);
        double[][] g = {{0.5, 0.25}, {-1, -2}, {}, {3, 4}};
        float[][] w = p.weights(0, g);
        assertArrayEquals(new float[] {0, 0, 0.5f, 0.25f, 0, -1, -2, 0}, w[0]);
        assertArrayEquals(new float[] {0, 0, 0, 3, 4, 0, 0, 0}, w[1]);
        for (int r = 0; r < 2; r++) {
            for (int i = 0; i < 8; i++) assertFalse(w[r][i] != 0 && !p.batches().getFirst().mask()[r][i]);
        }
    }
}
