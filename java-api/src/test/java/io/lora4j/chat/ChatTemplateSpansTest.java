package io.lora4j.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** renderWithSpans locates each assistant completion and its content in the rendered text. */
class ChatTemplateSpansTest {

  private static final List<ChatMessage> TWO_TURNS = List.of(
    TestTemplates.SYSTEM, TestTemplates.USER_1, TestTemplates.ASSISTANT_1,
    TestTemplates.USER_2, ChatMessage.assistant("3+3 equals 6."));

  private static String completion(RenderedChat chat, int i) {
    AssistantSpan s = chat.assistantSpans().get(i);
    return chat.text().substring(s.start(), s.end());
  }

  private static String content(RenderedChat chat, int i) {
    AssistantSpan s = chat.assistantSpans().get(i);
    return chat.text().substring(s.contentStart(), s.contentEnd());
  }

  @Test
  void qwen2Completions() {
    ChatTemplate t = TestTemplates.qwen2();
    RenderedChat chat = t.renderWithSpans(TWO_TURNS, false);
    assertEquals(t.render(TWO_TURNS, false), chat.text());
    assertEquals(2, chat.assistantSpans().size());
    assertEquals(2, chat.assistantSpans().get(0).messageIndex());
    assertEquals(4, chat.assistantSpans().get(1).messageIndex());
    assertEquals("2+2 equals 4.<|im_end|>\n", completion(chat, 0));
    assertEquals("3+3 equals 6.<|im_end|>\n", completion(chat, 1));
    assertEquals("2+2 equals 4.", content(chat, 0));
    assertEquals("3+3 equals 6.", content(chat, 1));
    assertTrue(chat.text().substring(0, chat.assistantSpans().get(0).start()).endsWith("<|im_start|>assistant\n"));
  }

  @Test
  void llama3CompletionsWithTrimmedContent() {
    List<ChatMessage> chatMessages = List.of(TestTemplates.USER_1, ChatMessage.assistant("  2+2 equals 4.\n"));
    RenderedChat chat = TestTemplates.llama3().renderWithSpans(chatMessages, false);
    assertEquals("2+2 equals 4.<|eot_id|>", completion(chat, 0));
    assertTrue(chat.assistantSpans().get(0).contentFound());
    assertEquals("2+2 equals 4.", content(chat, 0));
  }

  @Test
  void mistralAndGemmaCompletions() {
    List<ChatMessage> chatMessages = List.of(TestTemplates.USER_1, TestTemplates.ASSISTANT_1, TestTemplates.USER_2);
    assertEquals("2+2 equals 4.</s>", completion(TestTemplates.mistral().renderWithSpans(chatMessages, true), 0));
    assertEquals("2+2 equals 4.<end_of_turn>\n", completion(TestTemplates.gemma().renderWithSpans(chatMessages, true), 0));
    assertEquals("2+2 equals 4.<|end|>\n", completion(TestTemplates.phi3().renderWithSpans(chatMessages, true), 0));
  }

  @Test
  void generationPromptAtTheEndIsNoSpan() {
    RenderedChat chat = TestTemplates.qwen2().renderWithSpans(TestTemplates.WITH_SYSTEM, true);
    assertEquals(1, chat.assistantSpans().size());
    assertTrue(chat.text().endsWith("<|im_start|>assistant\n"));
    assertEquals("2+2 equals 4.<|im_end|>\n", completion(chat, 0));
  }

  @Test
  void completionMaskCoversExactlyTheCompletions() {
    RenderedChat chat = TestTemplates.qwen2().renderWithSpans(TWO_TURNS, false);
    boolean[] mask = chat.completionMask();
    StringBuilder masked = new StringBuilder();
    for (int i = 0; i < mask.length; i++) {
      if (mask[i]) {
        masked.append(chat.text().charAt(i));
      }
    }
    assertEquals("2+2 equals 4.<|im_end|>\n3+3 equals 6.<|im_end|>\n", masked.toString());
  }

  @Test
  void contentRewrittenByTheTemplateIsNotFound() {
    ChatTemplate upper = ChatTemplate.compile(
      "{% for m in messages %}<{{ m.role }}>{{ m.content.upper() }}</>{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}", "", "");
    RenderedChat chat = upper.renderWithSpans(List.of(ChatMessage.user("q"), ChatMessage.assistant("answer")), false);
    AssistantSpan span = chat.assistantSpans().get(0);
    assertEquals("ANSWER</>", completion(chat, 0));
    assertFalse(span.contentFound());
    assertEquals(-1, span.contentEnd());
  }

  @Test
  void noAssistantMessagesNoSpans() {
    RenderedChat chat = TestTemplates.qwen2().renderWithSpans(List.of(TestTemplates.USER_1), true);
    assertTrue(chat.assistantSpans().isEmpty());
  }

  @Test
  void systemPromptMovedIntoTheLastUserTurn() {
    // Rendering a prefix puts the system prompt into another user turn than the whole conversation
    // does, so the completion is found by search instead of by prefix.
    ChatTemplate lastUserGetsSystem = ChatTemplate.compile("""
      {%- set ns = namespace(last_user=-1) %}
      {%- for m in messages %}{% if m.role == 'user' %}{% set ns.last_user = loop.index0 %}{% endif %}{% endfor %}
      {%- for m in messages %}
          {%- if m.role == 'user' %}
              {{- '[INST] ' }}
              {%- if loop.index0 == ns.last_user and messages[0].role == 'system' %}{{ messages[0].content + '\\n\\n' }}{% endif %}
              {{- m.content + ' [/INST]' }}
          {%- elif m.role == 'assistant' %}
              {{- m.content + '</s>' }}
          {%- endif %}
      {%- endfor %}""", "", "");
    RenderedChat chat = lastUserGetsSystem.renderWithSpans(TWO_TURNS, false);
    assertEquals("[INST] What is 2+2? [/INST]2+2 equals 4.</s>[INST] You are a helpful assistant.\n\nAnd 3+3? [/INST]"
      + "3+3 equals 6.</s>", chat.text());
    assertEquals("2+2 equals 4.</s>", completion(chat, 0));
    assertEquals("3+3 equals 6.</s>", completion(chat, 1));
    assertEquals("2+2 equals 4.", content(chat, 0));
  }

  @Test
  void thinkBlockOnlyOnTheLastAnswer() {
    // Like Qwen3: the newest answer carries its (empty) think block, earlier ones lose it.
    ChatTemplate thinking = ChatTemplate.compile("""
      {%- for m in messages %}
          {%- if m.role == 'assistant' and loop.last %}
              {{- '<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n' + m.content + '<|im_end|>\\n' }}
          {%- else %}
              {{- '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}
          {%- endif %}
      {%- endfor %}
      {%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n' }}{% endif %}""", "", "");
    RenderedChat chat = thinking.renderWithSpans(TWO_TURNS, false);
    assertEquals("2+2 equals 4.<|im_end|>\n", completion(chat, 0));
    assertEquals("3+3 equals 6.<|im_end|>\n", completion(chat, 1));
    assertTrue(chat.text().substring(0, chat.assistantSpans().get(1).start()).endsWith("</think>\n\n"));
    assertTrue(chat.assistantSpans().get(0).end() <= chat.assistantSpans().get(1).start());
  }

  @Test
  void endOfConversationTextIsNotPartOfEarlierTurns() {
    // Like Phi-3.5/Phi-4: eos_token closes the conversation unless a generation prompt follows.
    ChatTemplate phi = ChatTemplate.compile("""
      {%- for m in messages %}{{ '<|' + m.role + '|>' + m.content + '<|end|>' }}{% endfor %}
      {%- if add_generation_prompt %}{{ '<|assistant|>' }}{% else %}{{ eos_token }}{% endif %}""", "", "<|endoftext|>");
    RenderedChat chat = phi.renderWithSpans(TWO_TURNS, false);
    assertEquals("2+2 equals 4.<|end|>", completion(chat, 0));
    assertEquals("3+3 equals 6.<|end|><|endoftext|>", completion(chat, 1));
  }

  @Test
  void answersRewrittenOnceFollowedAreNotLocated() {
    ChatTemplate shouting = ChatTemplate.compile(
      "{% for m in messages %}<{{ m.role }}>{{ m.content if loop.last else m.content.upper() }}</>{% endfor %}", "", "");
    ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> shouting.renderWithSpans(TWO_TURNS, false));
    assertTrue(e.getMessage().contains("cannot locate assistant message 2"), e.getMessage());
  }
}
