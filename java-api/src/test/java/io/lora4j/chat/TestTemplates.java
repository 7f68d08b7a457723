package io.lora4j.chat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The model templates under src/test/resources/chat and the conversation the tests render. */
final class TestTemplates {

  static final ChatMessage SYSTEM = ChatMessage.system("You are a helpful assistant.");
  static final ChatMessage USER_1 = ChatMessage.user("What is 2+2?");
  static final ChatMessage ASSISTANT_1 = ChatMessage.assistant("2+2 equals 4.");
  static final ChatMessage USER_2 = ChatMessage.user("And 3+3?");

  /** system, user, assistant, user. */
  static final List<ChatMessage> WITH_SYSTEM = List.of(SYSTEM, USER_1, ASSISTANT_1, USER_2);
  /** user, assistant, user. */
  static final List<ChatMessage> WITHOUT_SYSTEM = List.of(USER_1, ASSISTANT_1, USER_2);

  private TestTemplates() {}

  static String source(String name) {
    try (InputStream in = TestTemplates.class.getResourceAsStream("/chat/" + name + ".jinja")) {
      if (in == null) {
        throw new IllegalStateException("missing test resource chat/" + name + ".jinja");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static ChatTemplate llama3() {
    return ChatTemplate.compile(source("llama3"), "<|begin_of_text|>", "<|eot_id|>");
  }

  static ChatTemplate qwen2() {
    return ChatTemplate.compile(source("qwen2"), "", "<|im_end|>");
  }

  static ChatTemplate mistral() {
    return ChatTemplate.compile(source("mistral"), "<s>", "</s>");
  }

  static ChatTemplate phi3() {
    return ChatTemplate.compile(source("phi3"), "", "<|endoftext|>");
  }

  static ChatTemplate gemma() {
    return ChatTemplate.compile(source("gemma"), "<bos>", "<eos>");
  }
}
