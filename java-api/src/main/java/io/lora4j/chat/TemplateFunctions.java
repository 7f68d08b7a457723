package io.lora4j.chat;

import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.Locale;

/** The global functions Hugging Face adds to the chat template environment. */
final class TemplateFunctions {

  private TemplateFunctions() {}

  /** {@code raise_exception(msg)}: the template rejects its input, e.g. a system role it does not support. */
  static Object raiseException(Object message) {
    throw new ChatTemplateException("template raised an error: " + PyRepr.str(message));
  }

  /**
   * {@code strftime_now(format)}: the current local time in Python's strftime format (English names),
   * read from the clock and zone the template was built with.
   */
  static String strftimeNow(String format) {
    if (format == null) {
      throw new ChatTemplateException("strftime_now: the format is undefined or None");
    }
    JinjavaConfig config = JinjavaInterpreter.getCurrent().getConfig();
    Instant now = Instant.ofEpochMilli(config.getDateTimeProvider().getCurrentTimeMillis());
    return StrftimeFormatter.format(ZonedDateTime.ofInstant(now, config.getTimeZone()), format, Locale.ENGLISH);
  }
}
