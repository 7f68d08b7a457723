package io.lora4j.train.data;

import io.lora4j.chat.RenderedChat;

import io.lora4j.chat.ChatMessage;

import java.util.List;

/**
 * Renders a conversation with the model's chat template (no generation prompt) and says where
 * the assistant turns are, so that only they are trained. The integrator adapts the model's
 * chat template to it.
 */
@FunctionalInterface
public interface ChatRenderer {

    /**
     * The rendered conversation. Each span must cover the text the model should learn to produce
     * for one assistant turn: its content and the end-of-turn marker that closes it (as the
     * {@code {% generation %}} blocks of a Hugging Face template do), as
     * {@link io.lora4j.chat.ChatTemplate#renderWithSpans} gives them.
     */
    RenderedChat render(List<ChatMessage> messages);
}
