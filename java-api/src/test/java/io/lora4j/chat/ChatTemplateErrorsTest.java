package io.lora4j.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Template errors surface as exceptions with the message and the template line, never as empty text. */
class ChatTemplateErrorsTest {

  private static final List<ChatMessage> CHAT = List.of(ChatMessage.user("Hi"));

  private static ChatTemplateException renderFails(String template) {
    ChatTemplate t = ChatTemplate.compile(template, "<s>", "</s>");
    return assertThrows(ChatTemplateException.class, () -> t.render(CHAT, true));
  }

  private static void assertMentions(ChatTemplateException e, String... parts) {
    for (String part : parts) {
      assertTrue(e.getMessage().contains(part), () -> "'" + part + "' not in: " + e.getMessage());
    }
  }

  @Test
  void printingAnUndefinedVariableFails() {
    ChatTemplateException e = renderFails("Hello\n{{ name }}!");
    assertMentions(e, "'name' is undefined");
    assertEquals(2, e.templateLine());
    assertTrue(e.getMessage().endsWith("(template line 2)"), e.getMessage());
  }

  @Test
  void printingAMissingKeyFails() {
    ChatTemplateException e = renderFails("{% for m in messages %}\n{{ m.role }}: {{ m.tool_calls }}\n{% endfor %}");
    assertMentions(e, "'m.tool_calls' is undefined");
    assertEquals(2, e.templateLine());
  }

  @Test
  void concatenatingAnUndefinedValueFails() {
    ChatTemplateException e = renderFails("{{ '<|im_start|>' + messages[0].name + '\\n' }}");
    assertMentions(e, "can only concatenate str", "NoneType");
  }

  @Test
  void trimmingAnUndefinedValueFails() {
    ChatTemplateException e = renderFails("{{ bos_token }}\n{{ messages[0].nothing | trim }}");
    assertMentions(e, "trim", "undefined");
    assertEquals(2, e.templateLine());
  }

  @Test
  void undefinedValuesStillWorkInTests() {
    ChatTemplate t = ChatTemplate.compile("""
      {%- if tools is defined and tools %}T{% endif %}
      {%- if messages[0].tool_calls %}C{% endif %}
      {{- extra | default('-') }}
      {%- for call in messages[0].tool_calls %}{{ call }}{% endfor %}""", "", "");
    assertEquals("-", t.render(CHAT, false));
    assertEquals("-", t.render(CHAT, false, Collections.singletonMap("tools", null)));
    assertEquals("T-", t.render(CHAT, false, Map.of("tools", List.of("x"))));
  }

  @Test
  void unsupportedLoopAttributesFail() {
    assertMentions(renderFails("{% for m in messages %}{% if loop.previtem is defined %}x{% endif %}{% endfor %}"),
      "loop.previtem is not supported");
  }

  @Test
  void missingAttributeOfAStringIsUndefinedNotAnError() {
    // Mistral's templates test message.content.content on string contents.
    ChatTemplate t = ChatTemplate.compile("{{ 'y' if messages[0].content.content is defined else 'n' }}", "", "");
    assertEquals("n", t.render(CHAT, false));
    ChatTemplateException e = renderFails("{% if messages[0].content.content %}{% endif %}\n{{ nope }}");
    assertMentions(e, "'nope' is undefined");
    assertEquals(2, e.templateLine());
  }

  @Test
  void raiseExceptionCarriesTheMessageAndLine() {
    ChatTemplateException e = renderFails("{% if messages[0].role != 'system' %}\n  {{ raise_exception('need a system prompt') }}\n{% endif %}");
    assertMentions(e, "need a system prompt");
    assertEquals("template raised an error: need a system prompt", e.detail());
    assertEquals(2, e.templateLine());
  }

  @Test
  void theFirstErrorWins() {
    ChatTemplateException e = renderFails("{{ raise_exception('first') }}\n{{ raise_exception('second') }}\n{{ nope }}");
    assertMentions(e, "first");
    assertEquals(1, e.templateLine());
  }

  @Test
  void syntaxErrorsFailAtCompileTime() {
    ChatTemplateException unclosed = assertThrows(ChatTemplateException.class,
      () -> ChatTemplate.compile("a\n{% if true %}\nb", "", ""));
    assertMentions(unclosed, "endif", "{% if true %}");
    assertEquals(2, unclosed.templateLine());
    assertMentions(assertThrows(ChatTemplateException.class,
      () -> ChatTemplate.compile("{% frobnicate %}", "", "")), "frobnicate");
  }

  @Test
  void badExpressionsFailAtRender() {
    assertMentions(renderFails("{{ messages | no_such_filter }}"), "no filter named 'no_such_filter'");
    assertMentions(renderFails("{% if messages is no_such_test %}x{% endif %}"), "no test named 'no_such_test'");
    assertMentions(renderFails("{{ undefined_function(1) }}"), "undefined_function");
    assertMentions(renderFails("{{ messages[0].content.split('a', 'b', 'c') }}"), "str.split()");
    assertMentions(renderFails("{{ (1 + ) }}"), "Error parsing");
    assertMentions(renderFails("{{ messages[1:2:3:4] }}"), "Error parsing");
  }

  @Test
  void metadataWithoutTemplate() {
    ChatTemplateException e = assertThrows(ChatTemplateException.class,
      () -> ChatTemplate.fromMetadata(Map.of("general.architecture", "llama"), "<s>", "</s>"));
    assertEquals("model has no tokenizer.chat_template; pass a template explicitly", e.getMessage());
    assertMentions(assertThrows(ChatTemplateException.class,
      () -> ChatTemplate.fromMetadata(Map.of(ChatTemplate.METADATA_KEY, 42L), "", "")), "must be a string");
  }

  @Test
  void metadataWithTemplate() {
    ChatTemplate t = ChatTemplate.fromMetadata(Map.of(ChatTemplate.METADATA_KEY, TestTemplates.source("qwen2")), "", "<|im_end|>");
    assertEquals(TestTemplates.qwen2().render(CHAT, true), t.render(CHAT, true));
    assertEquals(TestTemplates.source("qwen2"), t.source());
  }

  @Test
  void reservedNamesCannotBeExtraVariables() {
    ChatTemplate t = ChatTemplate.compile("x", "", "");
    assertThrows(IllegalArgumentException.class, () -> t.render(CHAT, false, Map.of("messages", List.of())));
    assertThrows(IllegalArgumentException.class, () -> ChatTemplate.builder("x").variable("bos_token", "<s>"));
  }
}
