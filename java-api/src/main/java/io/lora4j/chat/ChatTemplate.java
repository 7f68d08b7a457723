package io.lora4j.chat;

import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A chat template: the Jinja source a model ships in its GGUF metadata under
 * {@value #METADATA_KEY}, rendered as Hugging Face's {@code apply_chat_template} renders it.
 *
 * <p>Templates see {@code messages} (a list of {role, content} dicts), {@code add_generation_prompt},
 * {@code bos_token}, {@code eos_token} and any extra variables given to the builder or to
 * {@code render} (e.g. {@code tools}, {@code date_string}); a null extra behaves like Python's None.
 * The environment follows HF's jinja2 sandbox: {@code trim_blocks}, {@code lstrip_blocks}, loop
 * controls, {@code raise_exception}, {@code strftime_now}, HF's {@code tojson}, Python string methods.
 *
 * <p>Undefined values: as in jinja2, an undefined name or missing key is false in {@code if}, fails
 * {@code is defined}, takes {@code default(...)} and loops as empty. Unlike jinja2, printing one
 * ({@code {{ message.nokey }}}), adding it to a string or trimming it is a
 * {@link ChatTemplateException} naming the expression and the template line, never empty text.
 *
 * <p>Instances are immutable and safe to share between threads.
 */
public final class ChatTemplate {

  /** The GGUF metadata key holding the default chat template. */
  public static final String METADATA_KEY = "tokenizer.chat_template";

  private static final Set<String> RESERVED = Set.of("messages", "add_generation_prompt", "bos_token", "eos_token");

  private final String source;
  private final String body;
  private final String bosToken;
  private final String eosToken;
  private final Map<String, Object> variables;
  private final PyJinjava jinjava;

  private ChatTemplate(Builder b) {
    this.source = b.source;
    // jinja2 reads every line ending as \n and (keep_trailing_newline=False) drops a single
    // trailing newline of the source.
    String lines = source.replace("\r\n", "\n").replace('\r', '\n');
    this.body = BlockWhitespace.apply(lines.endsWith("\n") ? lines.substring(0, lines.length() - 1) : lines);
    this.bosToken = b.bosToken;
    this.eosToken = b.eosToken;
    this.variables = new HashMap<>(b.variables);
    this.jinjava = new PyJinjava(b.clock);
    failOn(jinjava.parseErrors(body));
  }

  /** Compiles {@code source} with the tokenizer's BOS and EOS token texts; fails on syntax errors. */
  public static ChatTemplate compile(String source, String bosToken, String eosToken) {
    return builder(source).bosToken(bosToken).eosToken(eosToken).build();
  }

  public static Builder builder(String source) {
    return new Builder(source);
  }

  /**
   * The template of a GGUF model: metadata key {@value #METADATA_KEY}.
   *
   * @throws ChatTemplateException when the model has none (pass a template explicitly then) or the
   *                               template does not compile
   */
  public static ChatTemplate fromMetadata(Map<String, ?> metadata, String bosToken, String eosToken) {
    Object source = metadata.get(METADATA_KEY);
    if (source == null) {
      throw new ChatTemplateException("model has no " + METADATA_KEY + "; pass a template explicitly");
    }
    if (!(source instanceof String text)) {
      throw new ChatTemplateException(METADATA_KEY + " must be a string, got " + source.getClass().getSimpleName());
    }
    return compile(text, bosToken, eosToken);
  }

  /** The Jinja source as given. */
  public String source() {
    return source;
  }

  /**
   * Renders a conversation.
   *
   * @param addGenerationPrompt append the header that starts an assistant turn (for inference)
   */
  public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
    return render(messages, addGenerationPrompt, Map.of());
  }

  /** Renders with extra template variables; they override the builder's. */
  public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> extraVariables) {
    Map<String, Object> context = new HashMap<>(variables);
    for (Map.Entry<String, ?> e : extraVariables.entrySet()) {
      context.put(checkName(e.getKey()), e.getValue());
    }
    context.put("messages", toDicts(messages));
    context.put("add_generation_prompt", addGenerationPrompt);
    context.put("bos_token", bosToken);
    context.put("eos_token", eosToken);
    RenderResult result = jinjava.renderForResult(body, context);
    failOn(result.getErrors());
    return result.getOutput();
  }

  /** {@link #renderWithSpans(List, boolean, Map)} without extra variables. */
  public RenderedChat renderWithSpans(List<ChatMessage> messages, boolean addGenerationPrompt) {
    return renderWithSpans(messages, addGenerationPrompt, Map.of());
  }

  /**
   * Renders a conversation and locates each assistant message in the text, to build loss masks
   * that cover completions only. Spans come from rendering prefixes of the conversation and
   * comparing them with the whole, as TRL does; {@link SpanLocator} documents the method, which
   * also copes with templates that render past turns differently (Qwen3).
   *
   * @throws ChatTemplateException when rendering fails or an assistant message cannot be located
   */
  public RenderedChat renderWithSpans(List<ChatMessage> messages, boolean addGenerationPrompt,
                                      Map<String, ?> extraVariables) {
    return SpanLocator.locate(messages, addGenerationPrompt, (prefix, gen) -> render(prefix, gen, extraVariables));
  }

  private static List<Map<String, Object>> toDicts(List<ChatMessage> messages) {
    List<Map<String, Object>> dicts = new ArrayList<>(messages.size());
    for (ChatMessage m : messages) {
      Map<String, Object> dict = new LinkedHashMap<>();
      dict.put("role", m.role());
      dict.put("content", m.content());
      dicts.add(dict);
    }
    return dicts;
  }

  private static String checkName(String name) {
    Objects.requireNonNull(name, "variable name");
    if (RESERVED.contains(name)) {
      throw new IllegalArgumentException("'" + name + "' is set by the renderer and cannot be an extra variable");
    }
    return name;
  }

  /** Turns jinjava's collected errors into an exception: the first failure wins, with its template line. */
  private static void failOn(List<TemplateError> errors) {
    TemplateError error = errors.stream().filter(PyJinjava::isFailure).findFirst().orElse(null);
    if (error == null) {
      return;
    }
    for (Throwable t = error.getException(); t != null; t = t.getCause()) {
      if (t instanceof ChatTemplateException e) {
        throw e.atLine(error.getLineno());
      }
    }
    throw new ChatTemplateException(error.getMessage(), error.getLineno());
  }

  /** Options of a {@link ChatTemplate}. */
  public static final class Builder {

    private final String source;
    private String bosToken = "";
    private String eosToken = "";
    private final Map<String, Object> variables = new HashMap<>();
    private Clock clock = Clock.systemDefaultZone();

    private Builder(String source) {
      this.source = Objects.requireNonNull(source, "source");
    }

    /** Text of the tokenizer's BOS token, as the template's {@code bos_token}; default empty. */
    public Builder bosToken(String bosToken) {
      this.bosToken = Objects.requireNonNull(bosToken, "bosToken");
      return this;
    }

    /** Text of the tokenizer's EOS token, as the template's {@code eos_token}; default empty. */
    public Builder eosToken(String eosToken) {
      this.eosToken = Objects.requireNonNull(eosToken, "eosToken");
      return this;
    }

    /** An extra template variable for every render (e.g. {@code tools}); null acts as Python's None. */
    public Builder variable(String name, Object value) {
      variables.put(checkName(name), value);
      return this;
    }

    /** The clock and zone {@code strftime_now} reads; default the system clock in the local zone. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** @throws ChatTemplateException on a syntax error in the template */
    public ChatTemplate build() {
      return new ChatTemplate(this);
    }
  }
}
