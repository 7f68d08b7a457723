package io.lora4j.train.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Validated training records, all of one {@link RecordShape}. Datasets are small enough to hold in
 * memory; a file is read and checked completely when loaded, so a bad line fails before training
 * starts, with an error naming the file and line.
 */
public final class Dataset implements Iterable<DataRecord> {

    private final String name;
    private final RecordShape shape;
    private final List<DataRecord> records;

    private Dataset(String name, RecordShape shape, List<DataRecord> records) {
        this.name = name;
        this.shape = shape;
        this.records = List.copyOf(records);
    }

    /**
     * Reads a JSONL file (UTF-8, one JSON object per line, blank lines ignored). The first record
     * fixes the shape; every other record must have the same one.
     *
     * @throws DatasetFormatException for a malformed line or an empty file
     * @throws UncheckedIOException when the file cannot be read
     */
    public static Dataset jsonl(Path file) {
        return read(file, null);
    }

    /** Reads a JSONL file whose records must all have (at least) the fields of {@code shape}. */
    public static Dataset jsonl(Path file, RecordShape shape) {
        return read(file, java.util.Objects.requireNonNull(shape, "shape"));
    }

    /**
     * Validates in-memory records (maps of JSON-like values) as if read from a file named
     * {@code name}; errors name the 1-based record number as the line.
     */
    public static Dataset of(String name, List<? extends Map<String, ?>> records) {
        RecordParser parser = new RecordParser(name, null);
        List<DataRecord> parsed = new ArrayList<>(records.size());
        for (int i = 0; i < records.size(); i++) {
            parsed.add(parser.parseValue(records.get(i), i + 1));
        }
        if (parsed.isEmpty()) {
            throw new IllegalArgumentException(name + ": no records");
        }
        return new Dataset(name, parser.shape(), parsed);
    }

    private static Dataset read(Path file, RecordShape expected) {
        String source = file.toString();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException("dataset file not found: " + source, e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read dataset " + source + ": " + e.getMessage(), e);
        }
        RecordParser parser = new RecordParser(source, expected);
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        List<DataRecord> parsed = new ArrayList<>();
        int lineNo = 0;
        for (int start = 0; start < bytes.length; ) {
            int end = start;
            while (end < bytes.length && bytes[end] != '\n') end++;
            lineNo++;
            String line;
            try {
                line = utf8.decode(ByteBuffer.wrap(bytes, start, end - start)).toString();
            } catch (CharacterCodingException e) {
                throw new DatasetFormatException(source, lineNo, "not valid UTF-8");
            }
            if (lineNo == 1 && line.startsWith("\uFEFF")) {
                line = line.substring(1);
            }
            if (!line.isBlank()) {
                parsed.add(parser.parseLine(line, lineNo));
            }
            start = end + 1;
        }
        if (parsed.isEmpty()) {
            throw new IllegalArgumentException(source + ": no records (the file is empty or has only blank lines)");
        }
        return new Dataset(source, parser.shape(), parsed);
    }

    /** The file (or given name) the records came from. */
    public String name() {
        return name;
    }

    public RecordShape shape() {
        return shape;
    }

    public List<DataRecord> records() {
        return records;
    }

    public int size() {
        return records.size();
    }

    public boolean isEmpty() {
        return records.isEmpty();
    }

    public DataRecord get(int index) {
        return records.get(index);
    }

    @Override
    public Iterator<DataRecord> iterator() {
        return records.iterator();
    }

    /**
     * Splits off {@code round(size × evalFraction)} records (at least one when the fraction is
     * positive), chosen by a seeded shuffle, as an evaluation set. Both parts keep file order and
     * are disjoint; the same seed gives the same split.
     *
     * @param evalFraction in [0, 1); 0 gives an empty evaluation set
     */
    public DatasetSplit split(double evalFraction, long seed) {
        if (!(evalFraction >= 0 && evalFraction < 1)) {
            throw new IllegalArgumentException("eval fraction must be in [0, 1), got " + evalFraction);
        }
        int n = records.size();
        int evalCount = (int) Math.round(n * evalFraction);
        if (evalFraction > 0) {
            evalCount = Math.max(1, evalCount);
        }
        if (evalCount >= n) {
            throw new IllegalArgumentException(name + ": an eval split of " + evalFraction + " of " + n
                    + " records leaves none for training");
        }
        int[] order = Shuffle.permutation(n, seed, Shuffle.SPLIT_STREAM);
        int[] evalIdx = Arrays.copyOfRange(order, 0, evalCount);
        int[] trainIdx = Arrays.copyOfRange(order, evalCount, n);
        Arrays.sort(evalIdx);
        Arrays.sort(trainIdx);
        return new DatasetSplit(subset(name, trainIdx), subset(name + " (eval)", evalIdx));
    }

    private Dataset subset(String subsetName, int[] indices) {
        List<DataRecord> picked = new ArrayList<>(indices.length);
        for (int i : indices) picked.add(records.get(i));
        return new Dataset(subsetName, shape, picked);
    }

    @Override
    public String toString() {
        return name + " (" + records.size() + " " + shape + " records)";
    }
}
