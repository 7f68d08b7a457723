package io.lora4j.chat;

import com.hubspot.jinjava.el.ext.AstTuple;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import jinjava.de.odysseus.el.tree.Bindings;
import jinjava.de.odysseus.el.tree.impl.ast.AstBracket;
import jinjava.de.odysseus.el.tree.impl.ast.AstIdentifier;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstParameters;
import jinjava.javax.el.ELContext;

/**
 * Python slices with a step, {@code x[start:stop:step]} (Qwen templates walk {@code messages[::-1]}),
 * which jinjava's grammar cannot parse. The expression text is rewritten first:
 * {@code x[a:b:c]} becomes {@code x[(__pyslice__, a, b, c)]}, a bracket over a marker tuple that the
 * parser turns into this node; empty parts become {@code none}. Two-part slices stay jinjava's.
 */
final class PySlice extends AstBracket {

  static final String MARKER = "__pyslice__";

  private final AstNode start;
  private final AstNode stop;
  private final AstNode step;

  private PySlice(AstNode base, Spec spec, boolean lvalue, boolean strict, boolean ignoreReturnType) {
    super(base, spec, lvalue, strict, ignoreReturnType);
    this.start = spec.parts.getChild(1);
    this.stop = spec.parts.getChild(2);
    this.step = spec.parts.getChild(3);
  }

  /** The marker tuple {@code (__pyslice__, start, stop, step)} as the rewritten text produces it. */
  static final class Spec extends AstTuple {

    private final AstParameters parts;

    private Spec(AstParameters parts) {
      super(parts);
      this.parts = parts;
    }

    /** The marker tuple, or null when {@code parts} is an ordinary tuple. */
    static Spec of(AstParameters parts) {
      return parts.getCardinality() == 4 && parts.getChild(0) instanceof AstIdentifier id
        && id.getName().equals(MARKER) ? new Spec(parts) : null;
    }
  }

  /** The slice node for a bracket whose property is a marker tuple, else null. */
  static PySlice of(AstNode base, AstNode property, boolean lvalue, boolean strict, boolean ignoreReturnType) {
    return property instanceof Spec spec ? new PySlice(base, spec, lvalue, strict, ignoreReturnType) : null;
  }

  @Override
  public Object eval(Bindings bindings, ELContext context) {
    Object base = prefix.eval(bindings, context);
    Long stepValue = index(step.eval(bindings, context));
    int by = stepValue == null ? 1 : (int) Math.max(Integer.MIN_VALUE + 1, Math.min(Integer.MAX_VALUE, stepValue));
    if (by == 0) {
      throw new ChatTemplateException("slice step cannot be zero");
    }
    if (base instanceof CharSequence text) {
      StringBuilder out = new StringBuilder();
      for (int i : indices(text.length(), start.eval(bindings, context), stop.eval(bindings, context), by)) {
        out.append(text.charAt(i));
      }
      return out.toString();
    }
    if (base instanceof Collection<?> items) {
      List<?> list = new ArrayList<>(items);
      List<Object> out = new ArrayList<>();
      for (int i : indices(list.size(), start.eval(bindings, context), stop.eval(bindings, context), by)) {
        out.add(list.get(i));
      }
      return out;
    }
    throw new ChatTemplateException("cannot slice " + PyRepr.typeName(base));
  }

  /** The positions {@code range(n)[start:stop:step]} selects, with Python's clamping of out-of-range bounds. */
  private static List<Integer> indices(int n, Object startValue, Object stopValue, int by) {
    Long from = index(startValue);
    Long to = index(stopValue);
    long lower = by > 0 ? 0 : -1;
    long upper = by > 0 ? n : n - 1;
    long first = from == null ? (by > 0 ? lower : upper) : clamp(from < 0 ? from + n : from, lower, upper);
    long end = to == null ? (by > 0 ? upper : lower) : clamp(to < 0 ? to + n : to, lower, upper);
    List<Integer> out = new ArrayList<>();
    for (long i = first; by > 0 ? i < end : i > end; i += by) {
      out.add((int) i);
    }
    return out;
  }

  private static long clamp(long v, long lower, long upper) {
    return Math.max(lower, Math.min(upper, v));
  }

  private static Long index(Object value) {
    if (value == null) {
      return null;
    }
    if (value instanceof Long || value instanceof Integer) {
      return ((Number) value).longValue();
    }
    throw new ChatTemplateException("slice indices must be integers or None, not " + PyRepr.typeName(value));
  }

  /** Rewrites every {@code [a:b:c]} of an expression into the marker form; strings are left alone. */
  static String rewrite(String expression) {
    if (expression.indexOf(':') < 0) {
      return expression;
    }
    StringBuilder out = new StringBuilder(expression.length());
    Deque<Frame> open = new ArrayDeque<>();
    char quote = 0;
    for (int i = 0; i < expression.length(); i++) {
      char c = expression.charAt(i);
      out.append(c);
      if (quote != 0) {
        if (c == '\\' && i + 1 < expression.length()) {
          out.append(expression.charAt(++i));
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '(' || c == '[' || c == '{') {
        open.push(new Frame(c, out.length()));
      } else if (c == ':' && !open.isEmpty() && open.peek().bracket() == '[') {
        open.peek().colons().add(out.length() - 1);
      } else if ((c == ')' || c == ']' || c == '}') && !open.isEmpty()) {
        Frame f = open.pop();
        if (c == ']' && f.bracket() == '[' && f.colons().size() == 2) {
          String a = out.substring(f.start(), f.colons().get(0));
          String b = out.substring(f.colons().get(0) + 1, f.colons().get(1));
          String s = out.substring(f.colons().get(1) + 1, out.length() - 1);
          out.setLength(f.start());
          out.append('(').append(MARKER).append(", ").append(part(a)).append(", ").append(part(b))
            .append(", ").append(part(s)).append(")]");
        }
      }
    }
    return out.toString();
  }

  private static String part(String text) {
    return text.isBlank() ? "none" : text;
  }

  /** An open bracket while rewriting: where its content starts in the output and its top-level colons. */
  private record Frame(char bracket, int start, List<Integer> colons) {
    Frame(char bracket, int start) {
      this(bracket, start, new ArrayList<>());
    }
  }
}
