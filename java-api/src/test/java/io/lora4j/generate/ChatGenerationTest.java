package io.lora4j.generate;

import io.lora4j.Model;
import io.lora4j.chat.ChatMessage;
import io.lora4j.chat.ChatTemplateException;
import io.lora4j.tools.SyntheticModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChatGenerationTest {
    @TempDir
    Path dir;

    private static final String TEMPLATE = "{{ bos_token }}{% for m in messages %}[{{ m.role }}]: {{ m.content }}\n"
            + "{% endfor %}{% if add_generation_prompt %}[assistant]:{% endif %}";

    @Test
    void chatUsesTheModelsTemplateWithoutADoubleBos() {
        Path file = dir.resolve("chat.gguf");
        SyntheticModel.builder().chatTemplate(TEMPLATE).write(file);
        try (Model m = Model.load(file)) {
            List<ChatMessage> msgs = List.of(ChatMessage.user("hi"));
            String rendered = m.chatTemplate().render(msgs, true);
            assertEquals("<s>[user]: hi\n[assistant]:", rendered);
            int[] ids = m.encodeChat(rendered);
            assertEquals(m.tokenizer().bosId(), ids[0]);
            assertTrue(ids[1] != m.tokenizer().bosId(), "BOS written once");
            Generation g = m.chat(msgs, Sampling.greedy(4));
            assertArrayEquals(ids, g.promptTokens());
            assertEquals(4, g.tokens().size());
        }
    }

    @Test
    void aModelWithoutATemplateSaysSo() {
        Path file = dir.resolve("plain.gguf");
        SyntheticModel.builder().write(file);
        try (Model m = Model.load(file)) {
            ChatTemplateException e = assertThrows(ChatTemplateException.class,
                    () -> m.chat(List.of(ChatMessage.user("hi")), Sampling.greedy(1)));
            assertTrue(e.getMessage().contains("chat_template"), e.getMessage());
        }
    }
}
