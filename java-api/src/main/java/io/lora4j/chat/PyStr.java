package io.lora4j.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Python's {@code str} methods with Python's semantics, for templates written against jinja2.
 * Java's look-alikes differ: {@code String.split} takes a regex and drops trailing empty parts,
 * {@code String.strip} leaves U+00A0 and U+0085 that Python strips.
 */
final class PyStr {

  private PyStr() {}

  /** Python's {@code str.isspace} for one char: Java whitespace, Unicode space separators, NEL. */
  static boolean isSpace(char c) {
    return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
  }

  private static boolean strips(char c, String chars) {
    return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
  }

  /** {@code s.strip(chars)}; {@code chars == null} strips whitespace. */
  static String strip(String s, String chars) {
    return rstrip(lstrip(s, chars), chars);
  }

  static String lstrip(String s, String chars) {
    int i = 0;
    while (i < s.length() && strips(s.charAt(i), chars)) {
      i++;
    }
    return s.substring(i);
  }

  static String rstrip(String s, String chars) {
    int end = s.length();
    while (end > 0 && strips(s.charAt(end - 1), chars)) {
      end--;
    }
    return s.substring(0, end);
  }

  /** {@code s.split(sep, maxsplit)}; {@code sep == null} splits on runs of whitespace. */
  static List<String> split(String s, String sep, int maxsplit) {
    List<String> parts = new ArrayList<>();
    if (sep == null) {
      int i = 0;
      while (true) {
        while (i < s.length() && isSpace(s.charAt(i))) {
          i++;
        }
        if (i == s.length()) {
          return parts;
        }
        if (maxsplit >= 0 && parts.size() == maxsplit) {
          parts.add(s.substring(i));
          return parts;
        }
        int start = i;
        while (i < s.length() && !isSpace(s.charAt(i))) {
          i++;
        }
        parts.add(s.substring(start, i));
      }
    }
    if (sep.isEmpty()) {
      throw new ChatTemplateException("str.split(): empty separator");
    }
    int start = 0;
    int at;
    while ((maxsplit < 0 || parts.size() < maxsplit) && (at = s.indexOf(sep, start)) >= 0) {
      parts.add(s.substring(start, at));
      start = at + sep.length();
    }
    parts.add(s.substring(start));
    return parts;
  }

  /** {@code s.replace(old, new, count)}; a negative count replaces all. */
  static String replace(String s, String old, String replacement, int count) {
    StringBuilder out = new StringBuilder(s.length());
    int done = 0;
    if (old.isEmpty()) {
      // Python inserts the replacement before every char and at the end.
      for (int i = 0; i <= s.length(); i++) {
        if (count < 0 || done < count) {
          out.append(replacement);
          done++;
        }
        if (i < s.length()) {
          out.append(s.charAt(i));
        }
      }
      return out.toString();
    }
    int start = 0;
    int at;
    while ((count < 0 || done < count) && (at = s.indexOf(old, start)) >= 0) {
      out.append(s, start, at).append(replacement);
      start = at + old.length();
      done++;
    }
    return out.append(s, start, s.length()).toString();
  }

  static String upper(String s) {
    return s.toUpperCase(Locale.ROOT);
  }

  static String lower(String s) {
    return s.toLowerCase(Locale.ROOT);
  }

  /** {@code s.title()}: words are runs of cased letters; the first of each is upper-cased, the rest lower. */
  static String title(String s) {
    StringBuilder out = new StringBuilder(s.length());
    boolean inWord = false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean cased = Character.isUpperCase(c) || Character.isLowerCase(c) || Character.isTitleCase(c);
      out.append(!cased ? c : inWord ? Character.toLowerCase(c) : Character.toTitleCase(c));
      inWord = cased;
    }
    return out.toString();
  }
}
