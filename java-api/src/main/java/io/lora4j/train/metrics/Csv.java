package io.lora4j.train.metrics;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/** The CSV dialect of metrics files: comma-separated, RFC 4180 quoting, one record per line. */
final class Csv {

    private Csv() {}

    static String join(List<String> cells) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cells.size(); i++) {
            if (i > 0) sb.append(',');
            sb.append(quote(cells.get(i)));
        }
        return sb.toString();
    }

    private static String quote(String cell) {
        if (cell.indexOf(',') < 0 && cell.indexOf('"') < 0) return cell;
        return '"' + cell.replace("\"", "\"\"") + '"';
    }

    /** The cells of one line written by {@link #join}. */
    static List<String> split(String line) {
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c != '"') {
                    cell.append(c);
                } else if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cell.append('"');
                    i++;
                } else {
                    quoted = false;
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                cells.add(cell.toString());
                cell.setLength(0);
            } else {
                cell.append(c);
            }
        }
        cells.add(cell.toString());
        return cells;
    }

    /**
     * A cell for a metric value: numbers in plain notation where that is short (0.00025, 2.5,
     * 1200), scientific otherwise (1.0E-7), always with every digit needed to read the double back.
     */
    static String cell(Object value, String column) {
        return switch (value) {
            case null -> "";
            case Double d -> number(d);
            case Float f -> number(f.doubleValue(), Float.toString(f));
            case Long l -> l.toString();
            case Integer i -> i.toString();
            case Short s -> s.toString();
            case Byte b -> b.toString();
            case Boolean b -> b.toString();
            case String s -> {
                if (s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0) {
                    throw new IllegalArgumentException("value of column '" + column + "' contains a line break");
                }
                yield s;
            }
            default -> throw new IllegalArgumentException("value of column '" + column + "' is a "
                    + value.getClass().getSimpleName() + "; expected a number, boolean or string");
        };
    }

    private static String number(double x) {
        return number(x, Double.toString(x));
    }

    private static String number(double x, String shortest) {
        if (Double.isNaN(x)) return "NaN";
        if (Double.isInfinite(x)) return x > 0 ? "Infinity" : "-Infinity";
        if (x == 0) return "0";
        double a = Math.abs(x);
        if (a >= 1e-4 && a < 1e15) return new BigDecimal(shortest).stripTrailingZeros().toPlainString();
        return shortest;
    }
}
