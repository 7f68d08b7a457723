package io.lora4j.train.metrics;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A metrics CSV read back, e.g. to plot a whole run after a resume. */
public record MetricsTable(List<String> columns, List<List<String>> rows) {

    public MetricsTable {
        columns = List.copyOf(columns);
        rows = rows.stream().map(List::copyOf).toList();
    }

    /** Reads a file written by {@link MetricsCsvWriter}. */
    public static MetricsTable read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (lines.isEmpty()) throw new IllegalArgumentException(file + " is empty (no header row)");
        List<String> columns = Csv.split(lines.getFirst());
        List<List<String>> rows = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            if (lines.get(i).isEmpty()) continue;
            List<String> cells = Csv.split(lines.get(i));
            if (cells.size() != columns.size()) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": " + cells.size() + " cells, expected "
                        + columns.size());
            }
            rows.add(cells);
        }
        return new MetricsTable(columns, rows);
    }

    /**
     * The rows where both columns hold numbers, as a plot series named after {@code y}
     * ({@code NaN} and infinities are kept; the plot leaves gaps for them).
     */
    public Series series(String x, String y) {
        int xi = index(x);
        int yi = index(y);
        List<double[]> points = new ArrayList<>();
        for (List<String> row : rows) {
            Double xv = parse(row.get(xi));
            Double yv = parse(row.get(yi));
            if (xv != null && yv != null) points.add(new double[] {xv, yv});
        }
        double[] xs = new double[points.size()];
        double[] ys = new double[points.size()];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = points.get(i)[0];
            ys[i] = points.get(i)[1];
        }
        return new Series(y, xs, ys);
    }

    private int index(String column) {
        int i = columns.indexOf(column);
        if (i < 0) throw new IllegalArgumentException("no column '" + column + "' in " + columns);
        return i;
    }

    private static Double parse(String cell) {
        if (cell.isEmpty()) return null;
        try {
            return Double.parseDouble(cell);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
