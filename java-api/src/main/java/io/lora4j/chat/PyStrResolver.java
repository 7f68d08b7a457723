package io.lora4j.chat;

import com.hubspot.jinjava.el.ext.NamedParameter;
import java.util.Collection;
import java.util.Set;
import jinjava.javax.el.ELContext;

/**
 * Resolves Python string methods ({@code s.strip()}, {@code s.startswith('x')}, ...) and string
 * indexing ({@code s[0]}, {@code s[-1]}) with Python semantics. Placed ahead of jinjava's resolvers so
 * the Python meaning wins over Java's same-named methods ({@code split}, {@code strip}, {@code replace}).
 */
final class PyStrResolver extends LookupResolver {

  private static final Set<String> METHODS = Set.of(
    "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "upper", "lower", "replace", "title");

  @Override
  public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
    if (!(base instanceof String s) || !(method instanceof String name) || !METHODS.contains(name)) {
      return null;
    }
    Object[] args = params == null ? new Object[0] : params;
    for (Object arg : args) {
      if (arg instanceof NamedParameter named) {
        throw new ChatTemplateException("str." + name + "(): keyword argument '" + named.getName()
          + "' is not supported; pass it by position");
      }
    }
    Object result = switch (name) {
      case "strip" -> PyStr.strip(s, optStr(name, args, 0, 1));
      case "lstrip" -> PyStr.lstrip(s, optStr(name, args, 0, 1));
      case "rstrip" -> PyStr.rstrip(s, optStr(name, args, 0, 1));
      case "startswith" -> affix(s, name, args, true);
      case "endswith" -> affix(s, name, args, false);
      case "split" -> PyStr.split(s, optStr(name, args, 0, 2), optInt(name, args, 1, -1));
      case "upper" -> PyStr.upper(noArgs(s, name, args));
      case "lower" -> PyStr.lower(noArgs(s, name, args));
      case "title" -> PyStr.title(noArgs(s, name, args));
      case "replace" -> {
        arity(name, args, 2, 3);
        yield PyStr.replace(s, str(name, args[0]), str(name, args[1]), optInt(name, args, 2, -1));
      }
      default -> throw new IllegalStateException(name);
    };
    context.setPropertyResolved(true);
    return result;
  }

  /** {@code s.startswith(prefix)} / {@code s.endswith(suffix)}; the argument may be a tuple or list of strings. */
  private static boolean affix(String s, String name, Object[] args, boolean start) {
    arity(name, args, 1, 1);
    if (args[0] instanceof Collection<?> options) {
      for (Object option : options) {
        if (affix(s, str(name, option), start)) {
          return true;
        }
      }
      return false;
    }
    return affix(s, str(name, args[0]), start);
  }

  private static boolean affix(String s, String part, boolean start) {
    return start ? s.startsWith(part) : s.endsWith(part);
  }

  private static String noArgs(String s, String name, Object[] args) {
    arity(name, args, 0, 0);
    return s;
  }

  private static void arity(String name, Object[] args, int min, int max) {
    if (args.length < min || args.length > max) {
      throw new ChatTemplateException("str." + name + "() takes " + (min == max ? "" + min : min + " to " + max)
        + " arguments, got " + args.length);
    }
  }

  /** Argument {@code i} as a string, or null when absent or None; at most {@code max} arguments. */
  private static String optStr(String name, Object[] args, int i, int max) {
    arity(name, args, 0, max);
    return i < args.length && args[i] != null ? str(name, args[i]) : null;
  }

  private static int optInt(String name, Object[] args, int i, int absent) {
    if (i >= args.length || args[i] == null) {
      return absent;
    }
    if (!(args[i] instanceof Number n)) {
      throw new ChatTemplateException("str." + name + "(): expected an integer, got " + PyRepr.typeName(args[i]));
    }
    return n.intValue();
  }

  private static String str(String name, Object arg) {
    if (!(arg instanceof String s)) {
      throw new ChatTemplateException("str." + name + "(): expected a string, got " + PyRepr.typeName(arg));
    }
    return s;
  }

  /** {@code s[i]} with Python's negative indices; jinjava hands the index over as its decimal text. */
  @Override
  public Object getValue(ELContext context, Object base, Object property) {
    if (!(base instanceof String s) || !(property instanceof String p) || !p.matches("-?\\d{1,9}")) {
      return null;
    }
    int index = Integer.parseInt(p);
    int at = index < 0 ? index + s.length() : index;
    if (at < 0 || at >= s.length()) {
      throw new ChatTemplateException("string index " + index + " out of range for a string of length " + s.length());
    }
    context.setPropertyResolved(true);
    return String.valueOf(s.charAt(at));
  }
}
