package io.lora4j.tokenizer;

import java.util.List;
import java.util.Map;

/**
 * Typed access to GGUF metadata as delivered by the GGUF reader: integers as Long, floats as
 * Double, BOOL as Boolean, STRING as String, arrays as List&lt;String&gt;, long[], double[] or
 * boolean[]. A key with the wrong type is an error that names the key and both types.
 */
final class MetadataReader {

    private final Map<String, Object> metadata;

    MetadataReader(Map<String, Object> metadata) {
        if (metadata == null) {
            throw new IllegalArgumentException("metadata is null");
        }
        this.metadata = metadata;
    }

    boolean has(String key) {
        return metadata.get(key) != null;
    }

    String requireString(String key) {
        String value = string(key);
        if (value == null) {
            throw new IllegalArgumentException("missing GGUF key " + key);
        }
        return value;
    }

    String string(String key) {
        return typed(key, String.class, "string");
    }

    Boolean bool(String key) {
        return typed(key, Boolean.class, "bool");
    }

    Long integer(String key) {
        return typed(key, Long.class, "integer");
    }

    long[] integerArray(String key) {
        return typed(key, long[].class, "integer array");
    }

    /** A numeric array as floats: a float array, or an integer array converted (llama.cpp accepts both for scores). */
    float[] numberArray(String key) {
        Object value = metadata.get(key);
        if (value == null) {
            return null;
        }
        if (value instanceof double[] d) {
            float[] f = new float[d.length];
            for (int i = 0; i < d.length; i++) {
                f[i] = (float) d[i];
            }
            return f;
        }
        if (value instanceof long[] l) {
            float[] f = new float[l.length];
            for (int i = 0; i < l.length; i++) {
                f[i] = l[i];
            }
            return f;
        }
        throw wrongType(key, "float or integer array", value);
    }

    List<String> stringList(String key) {
        Object value = metadata.get(key);
        if (value == null) {
            return null;
        }
        if (value instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                if (!(list.get(i) instanceof String)) {
                    throw new IllegalArgumentException("GGUF key " + key + " must be a string array, element " + i
                            + " is " + (list.get(i) == null ? "null" : list.get(i).getClass().getSimpleName()));
                }
            }
            @SuppressWarnings("unchecked")
            List<String> strings = (List<String>) list;
            return strings;
        }
        throw wrongType(key, "string array", value);
    }

    private <T> T typed(String key, Class<T> type, String typeName) {
        Object value = metadata.get(key);
        if (value == null) {
            return null;
        }
        if (!type.isInstance(value)) {
            throw wrongType(key, typeName, value);
        }
        return type.cast(value);
    }

    private static IllegalArgumentException wrongType(String key, String expected, Object value) {
        return new IllegalArgumentException("GGUF key " + key + " must be a " + expected + ", got "
                + value.getClass().getSimpleName());
    }
}
