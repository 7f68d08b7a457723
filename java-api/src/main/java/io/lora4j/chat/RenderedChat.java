package io.lora4j.chat;

import java.util.Arrays;
import java.util.List;

/**
 * A rendered conversation with the positions of its assistant messages.
 *
 * @param text           the rendered prompt, as {@link ChatTemplate#render} returns it
 * @param assistantSpans one span per assistant message, in message order
 */
public record RenderedChat(String text, List<AssistantSpan> assistantSpans) {

  public RenderedChat {
    assistantSpans = List.copyOf(assistantSpans);
    int previousEnd = 0;
    for (AssistantSpan s : assistantSpans) {
      if (s.start() < previousEnd || s.end() > text.length() || s.start() > s.end()) {
        throw new IllegalArgumentException("assistant span [" + s.start() + ", " + s.end()
            + ") is reversed, overlaps the previous one or lies outside the "
            + text.length() + "-character text");
      }
      previousEnd = s.end();
    }
  }

  /** Per char of {@link #text()}: whether it belongs to an assistant completion (a loss mask, before tokenizing). */
  public boolean[] completionMask() {
    boolean[] mask = new boolean[text.length()];
    for (AssistantSpan span : assistantSpans) {
      Arrays.fill(mask, span.start(), span.end(), true);
    }
    return mask;
  }
}
