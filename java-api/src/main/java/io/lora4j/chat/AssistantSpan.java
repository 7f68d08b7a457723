package io.lora4j.chat;

/**
 * Where one assistant message sits in a rendered conversation, as char offsets into
 * {@link RenderedChat#text()} (half-open ranges).
 *
 * @param messageIndex index of the assistant message in the rendered list
 * @param start        start of the completion: the first char the template writes for this message
 *                     after its generation prompt (the assistant header)
 * @param end          end of the completion: content plus the template's end-of-turn text (e.g.
 *                     {@code <|eot_id|>}, {@code <|im_end|>\n}); train on [start, end) so the model
 *                     learns to stop
 * @param contentStart start of the message content within the completion, or -1 when the template
 *                     rewrote the content so that it cannot be found
 * @param contentEnd   end of the message content, or -1 with contentStart
 */
public record AssistantSpan(int messageIndex, int start, int end, int contentStart, int contentEnd) {

  /** Whether the message content was located inside the completion. */
  public boolean contentFound() {
    return contentStart >= 0;
  }
}
