package io.lora4j.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.util.ObjectTruthValue;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code tojson} as Hugging Face defines it for chat templates:
 * {@code tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)} calling
 * Python's {@code json.dumps}. jinjava's own filter writes Jackson's compact form instead.
 */
final class PyTojsonFilter implements Filter {

  private static final List<String> PARAMETERS = List.of("ensure_ascii", "indent", "separators", "sort_keys");

  @Override
  public String getName() {
    return "tojson";
  }

  @Override
  public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
    if (args.length > PARAMETERS.size()) {
      throw new ChatTemplateException("tojson takes at most " + PARAMETERS.size() + " arguments, got " + args.length);
    }
    Map<String, Object> params = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      params.put(PARAMETERS.get(i), args[i]);
    }
    for (Map.Entry<String, Object> kw : kwargs.entrySet()) {
      if (!PARAMETERS.contains(kw.getKey())) {
        throw new ChatTemplateException("tojson: unknown argument '" + kw.getKey() + "'");
      }
      params.put(kw.getKey(), kw.getValue());
    }
    PyJson json = new PyJson(
      ObjectTruthValue.evaluate(params.get("ensure_ascii")),
      indent(params.get("indent")),
      separators(params.get("separators")),
      ObjectTruthValue.evaluate(params.get("sort_keys")));
    return json.dumps(var);
  }

  @Override
  public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
    return filter(var, interpreter, args, Map.of());
  }

  private static String indent(Object indent) {
    if (indent == null) {
      return null;
    }
    if (indent instanceof Number n) {
      return " ".repeat(Math.max(0, n.intValue()));
    }
    if (indent instanceof String s) {
      return s;
    }
    throw new ChatTemplateException("tojson: indent must be an int or a string, not " + PyRepr.typeName(indent));
  }

  private static List<String> separators(Object separators) {
    if (separators == null) {
      return null;
    }
    if (separators instanceof List<?> pair && pair.size() == 2
      && pair.get(0) instanceof String item && pair.get(1) instanceof String key) {
      return List.of(item, key);
    }
    throw new ChatTemplateException("tojson: separators must be a pair of strings, got " + PyRepr.repr(separators));
  }
}
