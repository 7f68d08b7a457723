package io.lora4j.train.data;

/** A dataset record that cannot be used, located by source (file) and line. */
public final class DatasetFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final int line;

    public DatasetFormatException(String source, int line, String problem) {
        super(source + ":" + line + ": " + problem);
        this.source = source;
        this.line = line;
    }

    /** The file (or in-memory dataset name) the record came from. */
    public String source() {
        return source;
    }

    /** The 1-based line (or record number, for in-memory datasets). */
    public int line() {
        return line;
    }
}
