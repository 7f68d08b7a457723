package io.lora4j.chat;

/**
 * jinja2's {@code lstrip_blocks}, applied to the template source before jinjava parses it.
 *
 * <p>jinja2 strips the spaces and tabs between the start of a line and a block or comment tag when
 * nothing else precedes the tag on that line; {@code {%+} keeps them. jinjava's own option strips
 * trailing spaces before every tag, so {@code {% if x %}, {% endif %}} loses the space after the
 * comma there. Only spaces and tabs are removed (and the {@code +} markers), so line numbers in
 * error messages still match the source.
 */
final class LstripBlocks {

  private LstripBlocks() {}

  static String apply(String source) {
    StringBuilder out = new StringBuilder(source.length());
    int textStart = 0;
    int i = 0;
    while (i < source.length() - 1) {
      if (source.charAt(i) != '{') {
        i++;
        continue;
      }
      char kind = source.charAt(i + 1);
      if (kind != '%' && kind != '#' && kind != '{') {
        i++;
        continue;
      }
      String text = source.substring(textStart, i);
      boolean keep = i + 2 < source.length() && source.charAt(i + 2) == '+';
      if (kind != '{' && !keep) {
        text = stripLastLine(text, textStart == 0);
      }
      out.append(text).append('{').append(kind);
      int bodyStart = i + (keep ? 3 : 2);
      int end = kind == '#' ? commentEnd(source, bodyStart) : tagEnd(source, bodyStart, kind == '%' ? '%' : '}');
      String tag = source.substring(bodyStart, end);
      out.append(tag);
      i = end;
      if (kind == '%' && isRaw(tag)) {
        i = rawEnd(source, i);
        out.append(source, end, i);
      }
      textStart = i;
    }
    return out.append(source, textStart, source.length()).toString();
  }

  /** Removes the whitespace between the last line start and the tag, if that is all there is. */
  private static String stripLastLine(String text, boolean atSourceStart) {
    int lineStart = text.lastIndexOf('\n') + 1;
    if (lineStart == 0 && !atSourceStart) {
      return text;
    }
    for (int j = lineStart; j < text.length(); j++) {
      char c = text.charAt(j);
      if (c != ' ' && c != '\t') {
        return text;
      }
    }
    return text.substring(0, lineStart);
  }

  /** Index just past the {@code %}}/{@code }}} closing a tag or expression, skipping quoted strings. */
  private static int tagEnd(String s, int from, char closer) {
    char quote = 0;
    for (int j = from; j < s.length(); j++) {
      char c = s.charAt(j);
      if (quote != 0) {
        if (c == '\\') {
          j++;
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == closer && j + 1 < s.length() && s.charAt(j + 1) == '}') {
        return j + 2;
      }
    }
    return s.length(); // unclosed: jinjava reports it
  }

  private static int commentEnd(String s, int from) {
    int end = s.indexOf("#}", from);
    return end < 0 ? s.length() : end + 2;
  }

  private static boolean isRaw(String tag) {
    return stripControl(tag).equals("raw");
  }

  /** The tag's words without the whitespace-control markers and the closing {@code %}}. */
  private static String stripControl(String tag) {
    String body = tag.endsWith("%}") ? tag.substring(0, tag.length() - 2) : tag;
    body = body.strip();
    if (body.startsWith("-") || body.startsWith("+")) {
      body = body.substring(1);
    }
    if (body.endsWith("-") || body.endsWith("+")) {
      body = body.substring(0, body.length() - 1);
    }
    return body.strip();
  }

  /** Index of the {@code {% endraw %}} tag after a raw block's content (its text is left untouched). */
  private static int rawEnd(String s, int from) {
    int j = from;
    while ((j = s.indexOf("{%", j)) >= 0) {
      int end = tagEnd(s, j + 2, '%');
      if (stripControl(s.substring(j + 2, end)).equals("endraw")) {
        return j;
      }
      j = end;
    }
    return s.length();
  }
}
