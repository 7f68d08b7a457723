package io.lora4j.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import java.util.Map;

/**
 * {@code trim(value, chars=None)} with Python's {@code str.strip}. jinjava's own filter turns an
 * undefined value into the text "null"; here that is an error, as printing it would be.
 */
final class PyTrimFilter implements Filter {

  @Override
  public String getName() {
    return "trim";
  }

  @Override
  public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
    if (var == null) {
      throw new ChatTemplateException("trim: the value is undefined or None");
    }
    Object chars = args.length > 0 ? args[0] : kwargs.get("chars");
    if (args.length > 1 || (chars != null && !(chars instanceof String))) {
      throw new ChatTemplateException("trim takes one optional string argument (chars)");
    }
    return PyStr.strip(PyRepr.str(var), (String) chars);
  }

  @Override
  public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
    return filter(var, interpreter, args, Map.of());
  }
}
