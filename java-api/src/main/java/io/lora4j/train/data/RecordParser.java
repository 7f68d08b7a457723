package io.lora4j.train.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Turns one JSON value into a validated {@link DataRecord}, or a {@link DatasetFormatException}
 * that says which field is wrong and how. The shape is fixed by the caller or, for a file's first
 * record, detected from its field names.
 */
final class RecordParser {
    /** The roles a {@code messages} record may use. */
    private static final java.util.Set<String> ROLES = java.util.Set.of("system", "user", "assistant");


    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final String source;
    /** Null until the first record fixes it (auto-detection). */
    private RecordShape shape;
    private int shapeLine;
    private final boolean detected;

    RecordParser(String source, RecordShape expected) {
        this.source = source;
        this.shape = expected;
        this.detected = expected == null;
    }

    RecordShape shape() {
        return shape;
    }

    /** Parses one line of a JSONL file. */
    DataRecord parseLine(String line, int lineNo) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw fail(lineNo, "bad JSON: " + e.getOriginalMessage()
                    + " (column " + e.getLocation().getColumnNr() + ")");
        }
        return parse(node, lineNo);
    }

    /** Validates an in-memory record (any map of JSON-like values). */
    DataRecord parseValue(Object value, int recordNo) {
        JsonNode node;
        try {
            node = JSON.valueToTree(value);
        } catch (IllegalArgumentException e) {
            throw fail(recordNo, "not representable as JSON: " + e.getMessage());
        }
        return parse(node, recordNo);
    }

    private DataRecord parse(JsonNode node, int lineNo) {
        if (node == null || !node.isObject()) {
            throw fail(lineNo, "expected a JSON object, got " + typeName(node));
        }
        Set<String> names = new TreeSet<>();
        node.fieldNames().forEachRemaining(names::add);
        if (shape == null) {
            shape = RecordShape.detect(names);
            shapeLine = lineNo;
            if (shape == null) {
                throw fail(lineNo, "no known record fields " + names + "; expected {\"text\"}, "
                        + "{\"prompt\",\"completion\"}, {\"messages\"}, {\"prompt\"}, {\"prompt\",\"chosen\",\"rejected\"} or "
                        + "{\"text\",\"label\"}");
            }
        }
        for (String field : shape.requiredFields()) {
            if (!node.has(field)) {
                throw fail(lineNo, "missing field '" + field + "'" + shapeOrigin());
            }
        }
        if (detected && RecordShape.detect(names) != shape) {
            throw fail(lineNo, "a " + RecordShape.detect(names) + " record " + names + ", but line " + shapeLine
                    + " made this file's records " + shape + "; all records of a file must have the same shape");
        }
        validateFields(node, lineNo);
        @SuppressWarnings("unchecked")
        Map<String, Object> fields = (Map<String, Object>) toJava(node);
        return new DataRecord(source, lineNo, shape, fields);
    }

    private String shapeOrigin() {
        return detected ? " (this file's records are " + shape + ", as line " + shapeLine + " set)" : "";
    }

    private void validateFields(JsonNode node, int lineNo) {
        switch (shape) {
            case TEXT -> nonBlankString(node, "text", lineNo);
            case PROMPT_COMPLETION -> {
                string(node, "prompt", lineNo);
                nonBlankString(node, "completion", lineNo);
            }
            case PROMPT -> nonBlankString(node, "prompt", lineNo);
            case PREFERENCE -> {
                string(node, "prompt", lineNo);
                nonBlankString(node, "chosen", lineNo);
                nonBlankString(node, "rejected", lineNo);
            }
            case MESSAGES -> messages(node.get("messages"), lineNo);
            case CLASSIFICATION -> {
                nonBlankString(node, "text", lineNo);
                label(node.get("label"), lineNo);
            }
        }
    }

    private void label(JsonNode label, int lineNo) {
        if (label.isTextual()) {
            if (label.textValue().isBlank()) throw fail(lineNo, "field 'label' is empty");
        } else if (!label.isIntegralNumber() || !label.canConvertToLong()) {
            throw fail(lineNo, "field 'label' must be a string or an integer, got "
                    + (label.isNumber() ? "the number " + label : typeName(label)));
        }
    }

    private void messages(JsonNode messages, int lineNo) {
        if (!messages.isArray()) {
            throw fail(lineNo, "field 'messages' must be an array, got " + typeName(messages));
        }
        if (messages.isEmpty()) {
            throw fail(lineNo, "field 'messages' is empty");
        }
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject()) {
                throw fail(lineNo, where + " must be an object with 'role' and 'content', got " + typeName(m));
            }
            String role = string(m, "role", where + ".role", lineNo);
            if (!ROLES.contains(role)) {
                throw fail(lineNo, where + ".role '" + role + "' is unknown (expected system, user or assistant)");
            }
            String content = string(m, "content", where + ".content", lineNo);
            if (role.equals("assistant") && content.isBlank()) {
                throw fail(lineNo, where + " (assistant) has empty content");
            }
        }
    }

    private void nonBlankString(JsonNode node, String field, int lineNo) {
        if (string(node, field, lineNo).isBlank()) {
            throw fail(lineNo, "field '" + field + "' is empty");
        }
    }

    private String string(JsonNode node, String field, int lineNo) {
        return string(node, field, "field '" + field + "'", lineNo);
    }

    private String string(JsonNode node, String field, String what, int lineNo) {
        JsonNode v = node.get(field);
        if (v == null) {
            throw fail(lineNo, what + " is missing");
        }
        if (!v.isTextual()) {
            throw fail(lineNo, what + " must be a string, got " + typeName(v));
        }
        return v.textValue();
    }

    private DatasetFormatException fail(int lineNo, String problem) {
        return new DatasetFormatException(source, lineNo, problem);
    }

    private static String typeName(JsonNode node) {
        return node == null ? "nothing" : node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Plain, unmodifiable Java values: String, Long/BigInteger, Double/BigDecimal, Boolean, null, List, Map. */
    private static Object toJava(JsonNode node) {
        if (node.isObject()) {
            Map<String, Object> map = new LinkedHashMap<>();
            node.properties().forEach(e -> map.put(e.getKey(), toJava(e.getValue())));
            return Collections.unmodifiableMap(map);
        }
        if (node.isArray()) {
            List<Object> list = new ArrayList<>(node.size());
            node.forEach(e -> list.add(toJava(e)));
            return Collections.unmodifiableList(list);
        }
        if (node.isTextual()) return node.textValue();
        if (node.isBoolean()) return node.booleanValue();
        if (node.isIntegralNumber()) return node.canConvertToLong() ? (Object) node.longValue() : node.bigIntegerValue();
        if (node.isNumber()) return node.isBigDecimal() ? node.decimalValue() : (Object) node.doubleValue();
        return null;
    }
}
