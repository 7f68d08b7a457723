package io.lora4j.chat;

import com.hubspot.jinjava.util.ForLoop;
import java.util.Set;
import jinjava.javax.el.ELContext;

/**
 * Rejects the jinja2 loop attributes jinjava's loop object lacks ({@code loop.previtem},
 * {@code loop.nextitem}, {@code loop.changed(...)}): jinjava would read them as undefined and a
 * template testing them would silently take the wrong branch.
 */
final class PyLoopResolver extends LookupResolver {

  private static final Set<String> UNSUPPORTED = Set.of("previtem", "nextitem", "changed");

  @Override
  public Object getValue(ELContext context, Object base, Object property) {
    return reject(base, property);
  }

  @Override
  public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
    return reject(base, method);
  }

  private static Object reject(Object base, Object name) {
    if (base instanceof ForLoop && UNSUPPORTED.contains(String.valueOf(name))) {
      throw new ChatTemplateException("loop." + name + " is not supported");
    }
    return null;
  }
}
