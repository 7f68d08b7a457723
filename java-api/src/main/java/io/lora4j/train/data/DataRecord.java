package io.lora4j.train.data;

import io.lora4j.chat.ChatMessage;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One validated dataset record.
 *
 * @param source the file (or in-memory dataset name) it came from
 * @param line its 1-based line number (record number for in-memory datasets)
 * @param shape which fields it is known to have, with the right types
 * @param fields every JSON field of the record, unmodifiable (strings, numbers, booleans, null,
 *     lists and maps), e.g. a reference {@code "answer"} for a reward function
 */
public record DataRecord(String source, int line, RecordShape shape, Map<String, Object> fields) {

    public DataRecord {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(fields, "fields");
    }

    /** {@code source:line}, the way errors name this record. */
    public String location() {
        return source + ":" + line;
    }

    public String text() {
        return string("text");
    }

    public String prompt() {
        return string("prompt");
    }

    public String completion() {
        return string("completion");
    }

    public String chosen() {
        return string("chosen");
    }

    public String rejected() {
        return string("rejected");
    }

    /** The label of a {@link RecordShape#CLASSIFICATION} record, as text (an integer label in decimal). */
    public String label() {
        requireShapeField("label");
        return String.valueOf(fields.get("label"));
    }

    /** Whether a {@link RecordShape#CLASSIFICATION} record's label is an integer (not a string). */
    public boolean hasIntegerLabel() {
        requireShapeField("label");
        return fields.get("label") instanceof Long;
    }

    /** The conversation of a {@link RecordShape#MESSAGES} record. */
    public List<ChatMessage> messages() {
        requireShapeField("messages");
        List<?> raw = (List<?>) fields.get("messages");
        return raw.stream().map(m -> {
            Map<?, ?> msg = (Map<?, ?>) m;
            return new ChatMessage((String) msg.get("role"), (String) msg.get("content"));
        }).toList();
    }

    private String string(String name) {
        requireShapeField(name);
        return (String) fields.get(name);
    }

    private void requireShapeField(String name) {
        if (!shape.requiredFields().contains(name)) {
            throw new IllegalStateException(location() + ": a " + shape + " record has no '" + name + "'");
        }
    }
}
