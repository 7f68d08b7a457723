package io.lora4j.train.data;

import static io.lora4j.train.data.CharEncoder.BOS;
import static io.lora4j.train.data.CharEncoder.id;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {"text","label"} records: detection, label validation, encoding, and batches that know their examples. */
class ClassificationDataTest {
    @TempDir
    Path dir;

    private Dataset file(String... lines) throws IOException {
        Path p = dir.resolve("d.jsonl");
        Files.write(p, List.of(lines));
        return Dataset.jsonl(p);
    }

    @Test
    void textAndLabelMakeAClassificationRecord() throws IOException {
        Dataset d = file("{\"text\": \"a b\", \"label\": \"pos\"}", "{\"text\": \"c\", \"label\": \"neg\", \"id\": 7}");
        assertEquals(RecordShape.CLASSIFICATION, d.shape());
        assertEquals("pos", d.get(0).label());
        assertFalse(d.get(0).hasIntegerLabel());
        Dataset ints = file("{\"text\": \"a\", \"label\": 3}", "{\"text\": \"b\", \"label\": -1}");
        assertEquals("3", ints.get(0).label());
        assertTrue(ints.get(1).hasIntegerLabel());
        // a text file stays text; read as TEXT, labelled records can still train a language model
        assertEquals(RecordShape.TEXT, file("{\"text\": \"a\"}").shape());
        file("{\"text\": \"a b\", \"label\": \"pos\"}");
        assertEquals(RecordShape.TEXT, Dataset.jsonl(dir.resolve("d.jsonl"), RecordShape.TEXT).shape());
    }

    @Test
    void badLabelsNameTheLine() throws IOException {
        String[] bad = {"1.5", "true", "null", "\"  \"", "[1]", "123456789012345678901234567890"};
        String[] why = {"the number 1.5", "boolean", "null", "empty", "array", "the number"};
        for (int i = 0; i < bad.length; i++) {
            String second = "{\"text\": \"b\", \"label\": " + bad[i] + "}";
            DatasetFormatException e = assertThrows(DatasetFormatException.class,
                    () -> file("{\"text\": \"a\", \"label\": \"x\"}", second));
            assertEquals(2, e.line(), bad[i]);
            assertTrue(e.getMessage().contains(why[i]), e.getMessage());
        }
        DatasetFormatException missing = assertThrows(DatasetFormatException.class,
                () -> file("{\"text\": \"a\", \"label\": \"x\"}", "{\"text\": \"b\"}"));
        assertTrue(missing.getMessage().contains("missing field 'label'"), missing.getMessage());
        DatasetFormatException blank = assertThrows(DatasetFormatException.class,
                () -> file("{\"text\": \" \", \"label\": \"x\"}"));
        assertTrue(blank.getMessage().contains("'text' is empty"), blank.getMessage());
    }

    @Test
    void encodingMarksOnlyTheLastTokenAndAddsNoEos() {
        ExampleEncoder enc = ExampleEncoder.builder(new CharEncoder()).build();
        DataRecord r = Dataset.of("mem", List.of(Map.of("text", "abc", "label", "x"))).get(0);
        Example e = enc.encodeClassified(r);
        assertArrayEquals(new int[] {BOS, id('a'), id('b'), id('c')}, e.tokens());
        assertArrayEquals(new boolean[] {false, false, false, true}, e.lossMask());
        assertThrows(DatasetFormatException.class, () -> enc.encode(r), "SFT refuses a labelled record");
        ExampleEncoder noBos = ExampleEncoder.builder(new CharEncoder(false)).build();
        DatasetFormatException one = assertThrows(DatasetFormatException.class, () -> noBos.encodeClassified("a", "in", 3));
        assertTrue(one.getMessage().startsWith("in:3: the text encodes to 1 token(s)"), one.getMessage());
        ExampleEncoder shortCtx = ExampleEncoder.builder(new CharEncoder()).maxLength(3).build();
        assertThrows(DatasetFormatException.class, () -> shortCtx.encodeClassified(r));
        Example cut = ExampleEncoder.builder(new CharEncoder()).maxLength(3).truncate(true).build().encodeClassified(r);
        assertArrayEquals(new boolean[] {false, false, true}, cut.lossMask(), "truncation keeps the start");
    }

    @Test
    void batchesKnowWhichExampleEachSegmentIs() {
        List<Example> ex = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            int len = 2 + i % 3;
            boolean[] mask = new boolean[len];
            mask[len - 1] = true;
            ex.add(new Example(new int[len], mask, "e" + i));
        }
        Batcher b = Batcher.builder(ex).batchSize(2).seqLen(8).packing(true).seed(3).build();
        Map<Integer, Integer> seen = new HashMap<>();
        BatchIterator it = b.iterator(1);
        while (it.hasNext()) {
            Batch batch = it.next();
            for (int r = 0; r < batch.rows(); r++) {
                int[] ids = batch.exampleIds()[r];
                int at = 0;
                for (int s = 0; s < ids.length; s++) {
                    int len = ex.get(ids[s]).length();
                    for (int i = at; i < at + len; i++) assertEquals(s, batch.segmentIds()[r][i]);
                    at += len;
                    seen.merge(ids[s], 1, Integer::sum);
                }
                assertTrue(at == batch.seqLen() || batch.segmentIds()[r][at] == Batch.PAD_SEGMENT);
            }
        }
        assertEquals(7, seen.size(), "every example once");
        assertTrue(seen.values().stream().allMatch(n -> n == 1));
        Batch byHand = new Batch(new int[][] {{1, 2}}, new boolean[][] {{false, true}}, new int[][] {{0, 1}},
                new int[][] {{0, 0}});
        assertEquals(0, byHand.exampleIds()[0].length);
    }
}
