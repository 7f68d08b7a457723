package io.lora4j.train.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A rendered conversation and the character spans of its assistant turns, in order.
 *
 * @param text the whole rendered conversation
 * @param assistantSpans {@code [start, end)} character ranges of {@code text}, sorted, not overlapping
 */
public record RenderedChat(String text, List<Span> assistantSpans) {

    /** A {@code [start, end)} range of characters. */
    public record Span(int start, int end) {
        public Span {
            if (start < 0 || end < start) {
                throw new IllegalArgumentException("bad span [" + start + ", " + end + ")");
            }
        }
    }

    public RenderedChat {
        Objects.requireNonNull(text, "text");
        assistantSpans = List.copyOf(assistantSpans);
        int previousEnd = 0;
        for (Span s : assistantSpans) {
            if (s.start() < previousEnd || s.end() > text.length() || s.start() == s.end()) {
                throw new IllegalArgumentException("assistant span [" + s.start() + ", " + s.end()
                        + ") is empty, overlaps the previous one, is out of order or lies outside the "
                        + text.length() + "-character text");
            }
            previousEnd = s.end();
        }
    }

    /**
     * Extends each span through {@code marker} (e.g. {@code <|im_end|>}, {@code <|eot_id|>},
     * {@code </s>}) when the marker follows the span, possibly after spaces or tabs, so that the
     * model also learns to end its turn. A span not followed by the marker is left as it is.
     */
    public RenderedChat withEndOfTurn(String marker) {
        if (marker.isEmpty()) {
            throw new IllegalArgumentException("end-of-turn marker must not be empty");
        }
        List<Span> extended = new ArrayList<>(assistantSpans.size());
        for (Span s : assistantSpans) {
            int at = s.end();
            while (at < text.length() && (text.charAt(at) == ' ' || text.charAt(at) == '\t')) {
                at++;
            }
            extended.add(text.startsWith(marker, at) ? new Span(s.start(), at + marker.length()) : s);
        }
        return new RenderedChat(text, extended);
    }
}
