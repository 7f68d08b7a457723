package io.lora4j.chat;

import com.hubspot.jinjava.objects.SafeString;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps} as Hugging Face's {@code tojson} filter calls it: the same separators
 * ({@code ", "} and {@code ": "}, or {@code ","} once indenting), escapes and number formats, so
 * tool schemas render byte for byte as they do in {@code transformers}.
 */
final class PyJson {

  private final boolean ensureAscii;
  private final String indent;
  private final String itemSeparator;
  private final String keySeparator;
  private final boolean sortKeys;

  /**
   * @param indent     null for one line, else the text repeated per nesting level
   * @param separators null for Python's defaults, else {item separator, key separator}
   */
  PyJson(boolean ensureAscii, String indent, List<String> separators, boolean sortKeys) {
    this.ensureAscii = ensureAscii;
    this.indent = indent;
    this.itemSeparator = separators != null ? separators.get(0) : indent == null ? ", " : ",";
    this.keySeparator = separators != null ? separators.get(1) : ": ";
    this.sortKeys = sortKeys;
  }

  String dumps(Object value) {
    StringBuilder out = new StringBuilder();
    write(out, value, 0);
    return out.toString();
  }

  private void write(StringBuilder out, Object value, int depth) {
    if (value == null) {
      out.append("null");
    } else if (value instanceof Boolean b) {
      out.append(b);
    } else if (value instanceof Double || value instanceof Float) {
      double d = ((Number) value).doubleValue();
      out.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity")
        : PyRepr.floatRepr(d));
    } else if (value instanceof Number n) {
      out.append(n);
    } else if (value instanceof CharSequence || value instanceof SafeString) {
      writeString(out, value.toString());
    } else if (value instanceof Map<?, ?> map) {
      writeObject(out, map, depth);
    } else if (value instanceof Collection<?> items) {
      writeArray(out, items, depth);
    } else {
      throw new ChatTemplateException("tojson: object of type " + PyRepr.typeName(value) + " is not JSON serializable");
    }
  }

  private void writeArray(StringBuilder out, Collection<?> items, int depth) {
    if (items.isEmpty()) {
      out.append("[]");
      return;
    }
    out.append('[');
    boolean first = true;
    for (Object item : items) {
      separate(out, first, depth + 1);
      write(out, item, depth + 1);
      first = false;
    }
    newline(out, depth);
    out.append(']');
  }

  private void writeObject(StringBuilder out, Map<?, ?> map, int depth) {
    if (map.isEmpty()) {
      out.append("{}");
      return;
    }
    List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
    if (sortKeys) {
      entries.sort(Comparator.comparing(e -> key(e.getKey())));
    }
    out.append('{');
    boolean first = true;
    for (Map.Entry<?, ?> e : entries) {
      separate(out, first, depth + 1);
      writeString(out, key(e.getKey()));
      out.append(keySeparator);
      write(out, e.getValue(), depth + 1);
      first = false;
    }
    newline(out, depth);
    out.append('}');
  }

  /** Python turns str, int, float, bool and None keys into JSON strings; nothing else. */
  private static String key(Object key) {
    if (key instanceof CharSequence || key instanceof SafeString) {
      return key.toString();
    }
    if (key == null || key instanceof Boolean || key instanceof Number) {
      StringBuilder out = new StringBuilder();
      new PyJson(false, null, null, false).write(out, key, 0);
      return out.toString();
    }
    throw new ChatTemplateException("tojson: keys must be str, int, float, bool or None, not " + PyRepr.typeName(key));
  }

  private void separate(StringBuilder out, boolean first, int depth) {
    if (!first) {
      out.append(itemSeparator);
    }
    newline(out, depth);
  }

  private void newline(StringBuilder out, int depth) {
    if (indent != null) {
      out.append('\n').append(indent.repeat(depth));
    }
  }

  private void writeString(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20 || (ensureAscii && c > 0x7f)) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
