package io.lora4j.chat;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds the assistant messages of a rendered conversation, treating the template as a black box
 * (as TRL does), for loss masks over completions.
 *
 * <p>For assistant message k: P renders messages[0..k) with the generation prompt, Q renders
 * messages[0..k] without it. The completion is what Q adds after the longest common prefix of P
 * and Q: the content plus the template's end-of-turn text. When Q is a prefix of the whole
 * rendering (the template is prefix-stable there), that is the span. Otherwise the template
 * renders earlier turns differently once later ones follow (some Mistral templates move the
 * system prompt into the last user turn, Phi-4 ends with eos_token unless generating): the
 * content is then searched in the whole rendering after the previous assistant span, followed by
 * the end-of-turn text it has in Q, and the completion starts at the content. Content is matched
 * as given, else stripped of surrounding whitespace (templates often {@code | trim} it). A template
 * that rewrites a past answer's content (Qwen3 drops its think block) cannot be matched: that is
 * an exception, never a guessed span.
 */
final class SpanLocator {

  /** Renders a list of messages, as {@link ChatTemplate#render} with fixed extra variables. */
  interface Renderer {
    String render(List<ChatMessage> messages, boolean addGenerationPrompt);
  }

  private record Range(int start, int end) {}

  private SpanLocator() {}

  static RenderedChat locate(List<ChatMessage> messages, boolean addGenerationPrompt, Renderer renderer) {
    String text = renderer.render(messages, addGenerationPrompt);
    List<AssistantSpan> spans = new ArrayList<>();
    int searchFrom = 0;
    for (int k = 0; k < messages.size(); k++) {
      ChatMessage message = messages.get(k);
      if (!message.role().equals("assistant")) {
        continue;
      }
      String prompt = renderer.render(messages.subList(0, k), true);
      String through = renderer.render(messages.subList(0, k + 1), false);
      int start = commonPrefix(prompt, through);
      AssistantSpan span = text.startsWith(through)
        ? inPrefix(k, message.content(), through, start)
        : bySearch(k, message.content(), through.substring(start), text, searchFrom);
      spans.add(span);
      searchFrom = span.end();
    }
    return new RenderedChat(text, spans);
  }

  private static AssistantSpan inPrefix(int k, String content, String through, int start) {
    Range c = find(through, content, start);
    return new AssistantSpan(k, start, through.length(), c == null ? -1 : c.start(), c == null ? -1 : c.end());
  }

  /**
   * Finds the content in the whole rendering, after the previous span, where it is followed by the
   * longest part of the end-of-turn text that follows it in Q. Q may end with text a template only
   * writes at the very end (Phi-3.5 and Phi-4 add eos_token unless generating), so the end of turn
   * is the part both share, cut before a marker it ends inside ({@code <|end|><} becomes
   * {@code <|end|>}).
   */
  private static AssistantSpan bySearch(int k, String content, String completion, String text, int from) {
    Range c = find(completion, content, 0);
    if (c == null) {
      throw new ChatTemplateException("cannot locate assistant message " + k + ": the template rewrites its"
        + " content (e.g. drops a think block) differently once later messages follow; render conversations"
        + " that end at each assistant turn instead");
    }
    String rendered = completion.substring(c.start(), c.end());
    String endOfTurn = completion.substring(c.end());
    int best = -1;
    int bestLength = -1;
    for (int at = text.indexOf(rendered, from); at >= 0; at = text.indexOf(rendered, at + 1)) {
      int length = sharedEndOfTurn(endOfTurn, text, at + rendered.length());
      if (length > bestLength) {
        best = at;
        bestLength = length;
      }
    }
    if (best < 0) {
      throw new ChatTemplateException("cannot locate assistant message " + k + ": its content is not in the"
        + " rendered conversation after the previous assistant message");
    }
    return new AssistantSpan(k, best, best + rendered.length() + bestLength, best, best + rendered.length());
  }

  /** Length of the common start of {@code endOfTurn} and {@code text} at {@code at}, not ending inside a marker. */
  private static int sharedEndOfTurn(String endOfTurn, String text, int at) {
    int n = commonPrefix(endOfTurn, text.substring(at));
    String shared = endOfTurn.substring(0, n);
    int open = Math.max(shared.lastIndexOf('<'), shared.lastIndexOf('['));
    int close = Math.max(shared.lastIndexOf('>'), shared.lastIndexOf(']'));
    return open > close ? open : n;
  }

  /** Where {@code content} (as given, else stripped) first occurs in {@code s} from {@code from}; null if nowhere. */
  private static Range find(String s, String content, int from) {
    int at = s.indexOf(content, from);
    if (at >= 0) {
      return new Range(at, at + content.length());
    }
    String stripped = PyStr.strip(content, null);
    at = s.indexOf(stripped, from);
    return at >= 0 ? new Range(at, at + stripped.length()) : null;
  }

  private static int commonPrefix(String a, String b) {
    int n = Math.min(a.length(), b.length());
    int i = 0;
    while (i < n && a.charAt(i) == b.charAt(i)) {
      i++;
    }
    return i;
  }
}
