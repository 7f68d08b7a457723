package io.lora4j.train.data;

import io.lora4j.chat.RenderedChat;

import io.lora4j.chat.ChatMessage;

import io.lora4j.chat.AssistantSpan;

import java.util.ArrayList;
import java.util.List;

/**
 * A character-level stand-in for the model tokenizer: every character is one token (its code + 10),
 * and the special texts {@code <s>} (BOS = 1), {@code </s>} (EOS = 2) and {@code <eot>} (3) are
 * single tokens.
 */
public final class CharEncoder implements TextEncoder {
    public static final int BOS = 1;
    public static final int EOS = 2;
    public static final int EOT = 3;

    private final boolean addsBos;

    public CharEncoder(boolean addsBos) {
        this.addsBos = addsBos;
    }

    public CharEncoder() {
        this(true);
    }

    public static int id(char c) {
        return c + 10;
    }

    @Override
    public int[] encode(String text, boolean addBos) {
        List<Integer> ids = new ArrayList<>();
        if (addBos && addsBos) ids.add(BOS);
        for (int i = 0; i < text.length(); ) {
            if (text.startsWith("<s>", i)) {
                ids.add(BOS);
                i += 3;
            } else if (text.startsWith("</s>", i)) {
                ids.add(EOS);
                i += 4;
            } else if (text.startsWith("<eot>", i)) {
                ids.add(EOT);
                i += 5;
            } else {
                ids.add(id(text.charAt(i)));
                i++;
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public int bosId() {
        return BOS;
    }

    @Override
    public int eosId() {
        return EOS;
    }

    /** A ChatML-like template: {@code <|role|>content<eot>\n} per message, assistant contents as spans. */
    public static ChatRenderer chatRenderer(boolean writesBos) {
        return messages -> {
            StringBuilder text = new StringBuilder(writesBos ? "<s>" : "");
            List<AssistantSpan> spans = new ArrayList<>();
            for (int i = 0; i < messages.size(); i++) {
                ChatMessage m = messages.get(i);
                text.append("<|").append(m.role()).append("|>");
                int start = text.length();
                text.append(m.content());
                int contentEnd = text.length();
                text.append("<eot>");
                if (m.role().equals("assistant")) spans.add(new AssistantSpan(i, start, text.length(), start, contentEnd));
                text.append("\n");
            }
            return new RenderedChat(text.toString(), spans);
        };
    }
}
