package io.lora4j.train.data;

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
     * {@code {% generation %}} blocks of a Hugging Face template do); {@link
     * RenderedChat#withEndOfTurn(String)} extends content-only spans that way.
     */
    RenderedChat render(List<ChatMessage> messages);
}
