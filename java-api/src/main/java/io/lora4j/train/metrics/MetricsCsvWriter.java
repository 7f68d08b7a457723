package io.lora4j.train.metrics;

import io.lora4j.engine.AtomicFile;

import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes {@code metrics.csv}: a header row of the caller's columns, then one row per logged step,
 * flushed as it is written so that a crash loses nothing already reported. Missing values are
 * empty cells. As a {@link TrainingListener} it writes a row for each {@link StepMetrics}.
 */
public final class MetricsCsvWriter implements Closeable, TrainingListener {

    /** The column {@link #onStep} writes a step's number into. */
    public static final String STEP = "step";

    private final Path file;
    private final List<String> columns;
    private final BufferedWriter out;

    private MetricsCsvWriter(Path file, List<String> columns, BufferedWriter out) {
        this.file = file;
        this.columns = columns;
        this.out = out;
    }

    /** Starts a new file (replacing any old one) with a header of {@code columns}. */
    public static MetricsCsvWriter create(Path file, List<String> columns) {
        List<String> cols = checkColumns(columns);
        try {
            Path parent = file.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
            MetricsCsvWriter w = new MetricsCsvWriter(file, cols, out);
            w.writeLine(Csv.join(cols));
            return w;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Continues the file of a resumed run: its header must be {@code columns}. Rows for steps after
     * {@code lastStep} (the checkpoint's step), logged before the interruption, are removed, since
     * the resumed run logs those steps again; so is a last line cut short by a crash. A missing or
     * empty file is started afresh.
     *
     * @throws IllegalStateException when the existing header differs from {@code columns}
     */
    public static MetricsCsvWriter resume(Path file, List<String> columns, int lastStep) {
        List<String> cols = checkColumns(columns);
        try {
            if (!Files.exists(file) || Files.size(file) == 0) {
                return create(file, cols);
            }
            String content = Files.readString(file, StandardCharsets.UTF_8);
            List<String> lines = new ArrayList<>(List.of(content.split("\n", -1)));
            lines.removeLast(); // text after the final newline: empty, or a row cut short
            if (lines.isEmpty()) {
                return create(file, cols);
            }
            List<String> header = Csv.split(lines.getFirst());
            if (!header.equals(cols)) {
                throw new IllegalStateException(file + " has columns " + header + ", but this run writes " + cols
                        + "; use another output directory or remove the file");
            }
            int stepCol = cols.indexOf(STEP);
            StringBuilder kept = new StringBuilder(lines.getFirst()).append('\n');
            for (String line : lines.subList(1, lines.size())) {
                if (stepCol < 0 || !after(Csv.split(line), stepCol, lastStep)) kept.append(line).append('\n');
            }
            String rewritten = kept.toString();
            if (!rewritten.equals(content)) {
                AtomicFile.write(file, rewritten.getBytes(StandardCharsets.UTF_8));
            }
            BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
            return new MetricsCsvWriter(file, cols, out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot continue " + file + ": " + e.getMessage(), e);
        }
    }

    private static boolean after(List<String> cells, int stepCol, int lastStep) {
        if (stepCol >= cells.size()) return false;
        try {
            return Double.parseDouble(cells.get(stepCol)) > lastStep;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static List<String> checkColumns(List<String> columns) {
        if (columns.isEmpty()) throw new IllegalArgumentException("metrics need at least one column");
        Set<String> seen = new HashSet<>();
        for (String c : columns) {
            if (c.isEmpty() || !c.matches("[A-Za-z0-9_./-]+")) {
                throw new IllegalArgumentException("bad column name '" + c + "' (letters, digits, _ . / - only)");
            }
            if (!seen.add(c)) throw new IllegalArgumentException("column '" + c + "' appears twice");
        }
        return List.copyOf(columns);
    }

    public Path file() {
        return file;
    }

    public List<String> columns() {
        return columns;
    }

    /**
     * Writes one row: {@code values} by column name (numbers, booleans or strings); columns without a
     * value are left empty. A name that is not a column is an error, so that typos do not vanish.
     */
    public void write(Map<String, ?> values) {
        for (String name : values.keySet()) {
            if (!columns.contains(name)) {
                throw new IllegalArgumentException("'" + name + "' is not a column of " + file + " " + columns);
            }
        }
        List<String> cells = new ArrayList<>(columns.size());
        for (String c : columns) cells.add(Csv.cell(values.get(c), c));
        try {
            writeLine(Csv.join(cells));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Writes a step's row: its number in {@code step} and each of its values in the column of that name. */
    @Override
    public void onStep(StepMetrics metrics) {
        if (!columns.contains(STEP)) {
            throw new IllegalStateException(file + " has no 'step' column");
        }
        Map<String, Object> row = new java.util.LinkedHashMap<>(metrics.values());
        row.put(STEP, metrics.step());
        write(row);
    }

    private void writeLine(String line) throws IOException {
        out.write(line);
        out.write('\n');
        out.flush();
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot close " + file + ": " + e.getMessage(), e);
        }
    }
}
