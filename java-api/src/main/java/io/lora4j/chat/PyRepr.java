package io.lora4j.chat;

import java.math.BigDecimal;
import java.util.Collection;
import java.util.Iterator;
import java.util.Map;

/** Python's {@code str()} and {@code repr()} of template values, so printed values read as under jinja2. */
final class PyRepr {

  private PyRepr() {}

  /** {@code str(value)}: strings as they are, everything else as Python would print it. */
  static String str(Object value) {
    return value instanceof CharSequence s ? s.toString() : repr(value);
  }

  /** {@code repr(value)}: strings quoted, {@code None}/{@code True}/{@code False}, lists and dicts. */
  static String repr(Object value) {
    if (value == null) {
      return "None";
    }
    if (value instanceof Boolean b) {
      return b ? "True" : "False";
    }
    if (value instanceof Double || value instanceof Float) {
      return floatRepr(((Number) value).doubleValue());
    }
    if (value instanceof CharSequence s) {
      return quote(s.toString());
    }
    if (value instanceof Map.Entry<?, ?> pair) { // dictsort and items() yield (key, value) tuples
      return "(" + repr(pair.getKey()) + ", " + repr(pair.getValue()) + ")";
    }
    if (value instanceof Map<?, ?> map) {
      StringBuilder out = new StringBuilder("{");
      Iterator<? extends Map.Entry<?, ?>> entries = map.entrySet().iterator();
      while (entries.hasNext()) {
        Map.Entry<?, ?> e = entries.next();
        out.append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
        out.append(entries.hasNext() ? ", " : "");
      }
      return out.append('}').toString();
    }
    if (value instanceof Collection<?> list) {
      StringBuilder out = new StringBuilder("[");
      Iterator<?> items = list.iterator();
      while (items.hasNext()) {
        out.append(repr(items.next())).append(items.hasNext() ? ", " : "");
      }
      return out.append(']').toString();
    }
    return value.toString();
  }

  /** Python's name for the type of a template value, for error messages. */
  static String typeName(Object value) {
    if (value == null) {
      return "NoneType";
    }
    if (value instanceof CharSequence) {
      return "str";
    }
    if (value instanceof Boolean) {
      return "bool";
    }
    if (value instanceof Double || value instanceof Float) {
      return "float";
    }
    if (value instanceof Number) {
      return "int";
    }
    if (value instanceof Map) {
      return "dict";
    }
    if (value instanceof Collection) {
      return "list";
    }
    return value.getClass().getSimpleName();
  }

  /**
   * Python's {@code repr(float)}: the shortest digits that round-trip (Java's {@link Double#toString}
   * finds the same ones), fixed notation for exponents -4..15, else {@code 1.5e+16} style.
   */
  static String floatRepr(double d) {
    if (Double.isNaN(d)) {
      return "nan";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "inf" : "-inf";
    }
    if (d == 0) {
      return 1 / d < 0 ? "-0.0" : "0.0";
    }
    BigDecimal v = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
    String digits = v.unscaledValue().toString();
    int exponent = digits.length() - 1 - v.scale();
    String sign = d < 0 ? "-" : "";
    if (exponent >= -4 && exponent < 16) {
      String plain = v.toPlainString();
      return sign + (plain.indexOf('.') < 0 ? plain + ".0" : plain);
    }
    String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
    int e = Math.abs(exponent);
    return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (e < 10 ? "0" : "") + e;
  }

  /** Python's quoting of a str: single quotes unless the text has ' and no ". */
  private static String quote(String s) {
    char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
    StringBuilder out = new StringBuilder(s.length() + 2).append(q);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c == q) {
            out.append('\\').append(c);
          } else if (c < 0x20 || c == 0x7f) {
            out.append(String.format("\\x%02x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append(q).toString();
  }
}
