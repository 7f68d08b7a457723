package io.lora4j.chat;

/**
 * jinja2's {@code trim_blocks} and {@code lstrip_blocks}, applied to the template source before
 * jinjava parses it, with jinjava's own options off.
 *
 * <p>jinja2 removes the first newline after a block or comment tag ({@code trim_blocks}), and the
 * spaces and tabs between a line start and a block or comment tag when nothing else precedes it on
 * that line ({@code lstrip_blocks}); {@code {%+} and {@code +%}} opt a tag out. jinjava's versions
 * differ: its lstrip strips trailing spaces before every tag ({@code {% if x %}, {% endif %}} loses
 * the space after the comma), and its trim loses count of lines, so error lines drift.
 *
 * <p>Here a trimmed newline moves into a comment after its tag ({@code %}\n} becomes
 * <code>%}{#\n#}</code>): it leaves the output but still counts as a line, and only spaces and tabs
 * are removed otherwise, so jinjava's line numbers match the source.
 */
final class BlockWhitespace {

  /** A comment holding a trimmed newline: renders nothing, but jinjava still counts the line. */
  private static final String LINE_KEEPER = "{#\n#}";

  private BlockWhitespace() {}

  static String apply(String source) {
    StringBuilder out = new StringBuilder(source.length());
    int textStart = 0;
    boolean lineStarting = true;
    int i = 0;
    while (i < source.length() - 1) {
      char kind = source.charAt(i + 1);
      if (source.charAt(i) != '{' || (kind != '%' && kind != '#' && kind != '{')) {
        i++;
        continue;
      }
      boolean block = kind != '{';
      String text = source.substring(textStart, i);
      boolean keepIndent = i + 2 < source.length() && source.charAt(i + 2) == '+';
      out.append(block && !keepIndent ? stripIndent(text, lineStarting) : text).append('{').append(kind);
      int bodyStart = i + (keepIndent ? 3 : 2);
      int end = kind == '#' ? commentEnd(source, bodyStart) : tagEnd(source, bodyStart, kind == '%' ? '%' : '}');
      boolean closed = end - 2 >= bodyStart && source.startsWith(kind == '#' ? "#}" : "%}", end - 2);
      if (!block || !closed) {
        out.append(source, bodyStart, end);
        i = end;
        lineStarting = false;
      } else {
        String closer = source.substring(end - 2, end);
        int markerAt = end - 3;
        char marker = markerAt >= bodyStart ? source.charAt(markerAt) : 0;
        String body = source.substring(bodyStart, marker == '+' || marker == '-' ? markerAt : end - 2);
        boolean raw = kind == '%' && words(body).equals("raw");
        // jinja2 keeps the newline after {% raw %} and after a tag closed with +%}; after -%} jinjava
        // strips it when rendering, keeping its line count.
        boolean trim = end < source.length() && source.charAt(end) == '\n' && marker != '+' && marker != '-' && !raw;
        out.append(body).append(marker == '-' ? "-" : "").append(closer).append(trim ? LINE_KEEPER : "");
        i = trim ? end + 1 : end;
        lineStarting = trim;
        if (raw) {
          int rawEnd = rawEnd(source, i);
          out.append(source, i, rawEnd);
          i = rawEnd;
        }
      }
      textStart = i;
    }
    return out.append(source, textStart, source.length()).toString();
  }

  /** Removes the spaces and tabs between the last line start and the tag, if that is all there is. */
  private static String stripIndent(String text, boolean lineStarting) {
    int lineStart = text.lastIndexOf('\n') + 1;
    if (lineStart == 0 && !lineStarting) {
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

  /** A tag body's words, without whitespace and a leading control marker. */
  private static String words(String body) {
    String b = body.strip();
    return (b.startsWith("-") || b.startsWith("+") ? b.substring(1) : b).strip();
  }

  /** Index of the {@code {% endraw %}} tag ending a raw block's content, which is left untouched. */
  private static int rawEnd(String s, int from) {
    int j = from;
    while ((j = s.indexOf("{%", j)) >= 0) {
      int end = tagEnd(s, j + 2, '%');
      String body = s.substring(j + 2, Math.max(j + 2, end - 2));
      if (words(body.endsWith("-") || body.endsWith("+") ? body.substring(0, body.length() - 1) : body).equals("endraw")) {
        return j;
      }
      j = end;
    }
    return s.length();
  }
}
