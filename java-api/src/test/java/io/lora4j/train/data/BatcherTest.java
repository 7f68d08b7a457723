package io.lora4j.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatcherTest {

    /** Example i has length 2 + i % 5; its tokens are 1000·i + position so every token says where it came from. */
    private static List<Example> examples(int n) {
        List<Example> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int len = 2 + i % 5;
            int[] tokens = new int[len];
            boolean[] mask = new boolean[len];
            for (int j = 0; j < len; j++) {
                tokens[j] = 1000 * i + j;
                mask[j] = j > 0;
            }
            list.add(new Example(tokens, mask, "ex" + i));
        }
        return list;
    }

    private static List<Batch> all(BatchIterator it) {
        List<Batch> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    private static void assertSameBatch(Batch a, Batch b) {
        assertTrue(Arrays.deepEquals(a.tokens(), b.tokens()));
        assertTrue(Arrays.deepEquals(a.mask(), b.mask()));
        assertTrue(Arrays.deepEquals(a.positions(), b.positions()));
        assertTrue(Arrays.deepEquals(a.segmentIds(), b.segmentIds()));
    }

    @Test
    void paddedBatchesHaveFixedShape() {
        Batcher b = Batcher.builder(examples(5)).batchSize(2).seqLen(8).shuffle(false).padId(7).build();
        List<Batch> batches = all(b.iterator(1));
        assertEquals(3, batches.size());
        Batch first = batches.getFirst();
        assertEquals(2, first.rows());
        assertEquals(8, first.seqLen());
        assertArrayEquals(new int[] {0, 1, 7, 7, 7, 7, 7, 7}, first.tokens()[0]);
        assertArrayEquals(new int[] {0, 0, -1, -1, -1, -1, -1, -1}, first.segmentIds()[0]);
        assertArrayEquals(new int[] {0, 1, 0, 0, 0, 0, 0, 0}, first.positions()[0]);
        assertArrayEquals(new boolean[] {false, true, false, false, false, false, false, false}, first.mask()[0]);
        assertEquals(1 + 2, first.targetTokens());
        assertEquals(2 + 3, first.realTokens());
        // The last batch has one example and one all-padding row.
        Batch last = batches.getLast();
        assertArrayEquals(new int[] {4000, 4001, 4002, 4003, 4004, 4005, 7, 7}, last.tokens()[0]);
        assertTrue(Arrays.stream(last.segmentIds()[1]).allMatch(s -> s == Batch.PAD_SEGMENT));

        Batcher dropping = Batcher.builder(examples(5)).batchSize(2).seqLen(8).dropLast(true).build();
        assertEquals(2, dropping.batchesInEpoch(0));
    }

    @Test
    void packingRestartsPositionsAndSeparatesSegments() {
        List<Example> ex = examples(23);
        Batcher b = Batcher.builder(ex).batchSize(2).seqLen(10).packing(true).seed(3).build();
        for (int epoch = 0; epoch < 2; epoch++) {
            List<Integer> seen = new ArrayList<>();
            for (int s = 0; s < b.batchesInEpoch(epoch); s++) {
                Batch batch = b.batch(new BatchPosition(epoch, s));
                for (int r = 0; r < batch.rows(); r++) {
                    int[] tok = batch.tokens()[r], pos = batch.positions()[r], seg = batch.segmentIds()[r];
                    boolean[] m = batch.mask()[r];
                    for (int i = 0; i < tok.length; i++) {
                        if (seg[i] == Batch.PAD_SEGMENT) {
                            assertFalse(m[i]);
                            continue;
                        }
                        int example = tok[i] / 1000;
                        assertEquals(tok[i] % 1000, pos[i], "position restarts at each example");
                        assertEquals(pos[i] > 0, m[i], "an example's first token is never a target");
                        if (pos[i] == 0) {
                            seen.add(example);
                            if (i > 0 && seg[i - 1] != Batch.PAD_SEGMENT) {
                                assertEquals(seg[i - 1] + 1, seg[i], "segment id changes at each example");
                            } else {
                                assertEquals(0, seg[i]);
                            }
                        } else {
                            assertEquals(seg[i - 1], seg[i], "no segment change inside an example");
                            assertEquals(tok[i - 1] / 1000, example, "examples are never split");
                        }
                    }
                }
            }
            assertEquals(23, seen.size(), "each example once per epoch");
            assertEquals(23, seen.stream().distinct().count());
        }
        long packedRows = b.batchesInEpoch(0) * 2L;
        assertTrue(packedRows < 23, "packing needs fewer rows than examples: " + packedRows);
    }

    @Test
    void shufflingIsSeededPerEpoch() {
        List<Example> ex = examples(40);
        var b1 = Batcher.builder(ex).batchSize(4).seqLen(8).seed(11).build();
        var b2 = Batcher.builder(ex).batchSize(4).seqLen(8).seed(11).build();
        var b3 = Batcher.builder(ex).batchSize(4).seqLen(8).seed(12).build();
        assertSameBatch(b1.batch(new BatchPosition(1, 3)), b2.batch(new BatchPosition(1, 3)));
        assertNotEquals(firstTokens(b1, 0), firstTokens(b1, 1), "epochs are shuffled differently");
        assertNotEquals(firstTokens(b1, 0), firstTokens(b3, 0), "seeds shuffle differently");
    }

    private static List<Integer> firstTokens(Batcher b, int epoch) {
        List<Integer> out = new ArrayList<>();
        for (int s = 0; s < b.batchesInEpoch(epoch); s++) {
            for (int[] row : b.batch(new BatchPosition(epoch, s)).tokens()) out.add(row[0]);
        }
        return out;
    }

    @Test
    void resumingAtAnyPositionReproducesTheSameBatches() {
        for (boolean packing : new boolean[] {false, true}) {
            Batcher b = Batcher.builder(examples(17)).batchSize(3).seqLen(12).packing(packing).seed(5).build();
            List<Batch> full = new ArrayList<>();
            List<BatchPosition> positions = new ArrayList<>();
            BatchIterator it = b.iterator(3);
            while (it.hasNext()) {
                positions.add(it.position());
                full.add(it.next());
            }
            assertEquals(b.totalBatches(3), full.size());
            assertEquals(new BatchPosition(3, 0), it.position());
            for (int k = 0; k < full.size(); k++) {
                // A fresh Batcher, as after a restart, from the stored position.
                Batcher restarted = Batcher.builder(examples(17)).batchSize(3).seqLen(12).packing(packing).seed(5).build();
                List<Batch> tail = all(restarted.iterator(3, positions.get(k)));
                assertEquals(full.size() - k, tail.size());
                for (int j = 0; j < tail.size(); j++) assertSameBatch(full.get(k + j), tail.get(j));
            }
        }
    }

    @Test
    void positionsOutOfRangeAreRejected() {
        Batcher b = Batcher.builder(examples(6)).batchSize(2).seqLen(8).build();
        assertThrows(IllegalArgumentException.class, () -> b.iterator(2, new BatchPosition(0, 4)));
        assertThrows(IllegalArgumentException.class, () -> b.iterator(2, new BatchPosition(3, 0)));
        assertFalse(b.iterator(2, new BatchPosition(2, 0)).hasNext());
        assertEquals(new BatchPosition(1, 0), b.iterator(2, new BatchPosition(0, 3)).position());
    }

    @Test
    void aBatchThatTrainsNothingIsAnError() {
        int[][] t = {{1, 2}};
        var e = assertThrows(IllegalArgumentException.class,
                () -> new Batch(t, new boolean[][] {{false, false}}, new int[][] {{0, 1}}, new int[][] {{0, 0}}));
        assertTrue(e.getMessage().contains("selects no token"));
        var noTarget = List.of(new Example(new int[] {1, 2}, new boolean[] {false, false}, "f.jsonl:9"));
        var e2 = assertThrows(IllegalArgumentException.class,
                () -> Batcher.builder(noTarget).batchSize(1).seqLen(4).build());
        assertTrue(e2.getMessage().startsWith("f.jsonl:9: "), e2.getMessage());
    }

    @Test
    void exampleLongerThanARowIsAnError() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Batcher.builder(examples(5)).batchSize(2).seqLen(5).build());
        assertTrue(e.getMessage().startsWith("ex4: 6 tokens do not fit a batch row of 5"), e.getMessage());
    }
}
