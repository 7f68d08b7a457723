package io.lora4j.chat;

import static io.lora4j.chat.TestTemplates.WITHOUT_SYSTEM;
import static io.lora4j.chat.TestTemplates.WITH_SYSTEM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Each model's template renders its documented prompt format exactly. */
class ChatTemplateFormatsTest {

  @Test
  void llama3() {
    String conversation = "<|begin_of_text|>"
      + "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant.<|eot_id|>"
      + "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>"
      + "<|start_header_id|>assistant<|end_header_id|>\n\n2+2 equals 4.<|eot_id|>"
      + "<|start_header_id|>user<|end_header_id|>\n\nAnd 3+3?<|eot_id|>";
    ChatTemplate t = TestTemplates.llama3();
    assertEquals(conversation, t.render(WITH_SYSTEM, false));
    assertEquals(conversation + "<|start_header_id|>assistant<|end_header_id|>\n\n", t.render(WITH_SYSTEM, true));
  }

  @Test
  void llama3TrimsContent() {
    String out = TestTemplates.llama3().render(List.of(ChatMessage.user("  \n Hi there \t\n")), false);
    assertEquals("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>", out);
  }

  @Test
  void qwen2() {
    String conversation = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
      + "<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
      + "<|im_start|>assistant\n2+2 equals 4.<|im_end|>\n"
      + "<|im_start|>user\nAnd 3+3?<|im_end|>\n";
    ChatTemplate t = TestTemplates.qwen2();
    assertEquals(conversation, t.render(WITH_SYSTEM, false));
    assertEquals(conversation + "<|im_start|>assistant\n", t.render(WITH_SYSTEM, true));
  }

  @Test
  void qwen2AddsDefaultSystemPrompt() {
    ChatTemplate t = TestTemplates.qwen2();
    assertEquals(t.render(WITH_SYSTEM, true), t.render(WITHOUT_SYSTEM, true));
    String custom = t.render(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi")), true);
    assertEquals("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", custom);
  }

  @Test
  void mistral() {
    ChatTemplate t = TestTemplates.mistral();
    String withSystem = "<s>[INST] You are a helpful assistant.\n\nWhat is 2+2? [/INST]2+2 equals 4.</s>[INST] And 3+3? [/INST]";
    // [/INST] already hands the turn to the model: there is no separate generation prompt.
    assertEquals(withSystem, t.render(WITH_SYSTEM, false));
    assertEquals(withSystem, t.render(WITH_SYSTEM, true));
    assertEquals("<s>[INST] What is 2+2? [/INST]2+2 equals 4.</s>[INST] And 3+3? [/INST]", t.render(WITHOUT_SYSTEM, true));
  }

  @Test
  void phi3() {
    String conversation = "<|system|>\nYou are a helpful assistant.<|end|>\n"
      + "<|user|>\nWhat is 2+2?<|end|>\n"
      + "<|assistant|>\n2+2 equals 4.<|end|>\n"
      + "<|user|>\nAnd 3+3?<|end|>\n";
    ChatTemplate t = TestTemplates.phi3();
    assertEquals(conversation, t.render(WITH_SYSTEM, false));
    assertEquals(conversation + "<|assistant|>\n", t.render(WITH_SYSTEM, true));
  }

  @Test
  void gemma() {
    String conversation = "<bos>"
      + "<start_of_turn>user\nWhat is 2+2?<end_of_turn>\n"
      + "<start_of_turn>model\n2+2 equals 4.<end_of_turn>\n"
      + "<start_of_turn>user\nAnd 3+3?<end_of_turn>\n";
    ChatTemplate t = TestTemplates.gemma();
    assertEquals(conversation, t.render(WITHOUT_SYSTEM, false));
    assertEquals(conversation + "<start_of_turn>model\n", t.render(WITHOUT_SYSTEM, true));
  }

  @Test
  void oneTemplateRendersFromManyThreads() throws Exception {
    ChatTemplate t = TestTemplates.qwen2();
    String expected = t.render(WITH_SYSTEM, true);
    List<Callable<String>> jobs = Collections.nCopies(64, () -> t.render(WITH_SYSTEM, true));
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      for (Future<String> f : pool.invokeAll(jobs)) {
        assertEquals(expected, f.get());
      }
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void gemmaRejectsSystemRole() {
    ChatTemplateException e = assertThrows(ChatTemplateException.class,
      () -> TestTemplates.gemma().render(WITH_SYSTEM, true));
    assertTrue(e.getMessage().contains("System role not supported"), e.getMessage());
    assertEquals(3, e.templateLine());
  }

  @Test
  void mistralRejectsRolesThatDoNotAlternate() {
    List<ChatMessage> twoUsers = List.of(ChatMessage.user("a"), ChatMessage.user("b"));
    ChatTemplateException e = assertThrows(ChatTemplateException.class,
      () -> TestTemplates.mistral().render(twoUsers, true));
    assertTrue(e.detail().contains("Conversation roles must alternate user/assistant/user/assistant/..."), e.getMessage());
    assertEquals(11, e.templateLine());
  }

  @Test
  void phi3RejectsUnknownRoles() {
    List<ChatMessage> tool = List.of(ChatMessage.user("a"), new ChatMessage("tool", "42"));
    ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> TestTemplates.phi3().render(tool, false));
    assertTrue(e.getMessage().contains("Unknown role: tool"), e.getMessage());
  }
}
