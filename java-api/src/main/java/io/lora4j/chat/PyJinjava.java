package io.lora4j.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.interpret.TemplateError.ErrorItem;
import com.hubspot.jinjava.interpret.TemplateError.ErrorType;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.mode.ExecutionMode;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.TreeStore;
import jinjava.de.odysseus.el.tree.impl.Builder.Feature;
import jinjava.de.odysseus.el.tree.impl.Cache;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ExpressionFactory;

/**
 * jinjava set up to render Hugging Face chat templates as their jinja2 sandbox does
 * ({@code trim_blocks}, {@code lstrip_blocks}, loop controls, {@code raise_exception},
 * {@code strftime_now}, HF's {@code tojson}), with Python's semantics where jinjava's differ,
 * and strict about undefined values where jinja2 would print nothing.
 */
final class PyJinjava extends Jinjava {

  private final ExpressionFactory expressions = new ExpressionFactoryImpl(
    new TreeStore(new PySyntaxBuilder(Feature.METHOD_INVOCATIONS, Feature.VARARGS), new Cache(1000)),
    new TruthyTypeConverter());

  PyJinjava(Clock clock) {
    super(config(clock));
    Context globals = getGlobalContext();
    globals.registerFunction(new ELFunctionDefinition(
      "", "raise_exception", TemplateFunctions.class, "raiseException", Object.class));
    globals.registerFunction(new ELFunctionDefinition(
      "", "strftime_now", TemplateFunctions.class, "strftimeNow", String.class));
    globals.registerFilter(new PyTojsonFilter());
    globals.registerFilter(new PyTrimFilter());
    globals.registerTag(new PyForTag());
    globals.registerTag(new GenerationTag());
  }

  private static JinjavaConfig config(Clock clock) {
    CompositeELResolver resolver = new CompositeELResolver();
    resolver.add(new PyStrResolver());
    resolver.add(new PyLoopResolver());
    resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
    return JinjavaConfig.newBuilder()
      // trim_blocks and lstrip_blocks are applied to the source by BlockWhitespace: jinjava's
      // lstrip strips too much and its trim breaks line numbers.
      .withTrimBlocks(false)
      .withLstripBlocks(false)
      // jinja2 drops one trailing newline of the *source*; jinjava would drop it from the output.
      // ChatTemplate strips the source, so jinjava must keep what the template renders.
      .withKeepTrailingNewline(true)
      .withNestedInterpretationEnabled(false)
      // jinjava's option fails on any expression that is null, `{% if message.tool_calls %}` and
      // `tools=None` included; PyOutputStrategy is strict where it matters, at printing.
      .withFailOnUnknownTokens(false)
      .withElResolver(resolver)
      .withExecutionMode(new PyExecutionMode())
      .withDateTimeProvider(clock::millis)
      .withTimeZone(clock.getZone())
      .withLocale(Locale.ENGLISH)
      .withLegacyOverrides(LegacyOverrides.newBuilder()
        .withEvaluateMapKeys(true)
        .withIterateOverMapKeys(true)
        .withUsePyishObjectMapper(true)
        .withUseNaturalOperatorPrecedence(true)
        .withParseWhitespaceControlStrictly(true)
        .withUseTrimmingForNotesAndExpressions(true)
        .withKeepNullableLoopValues(true)
        .withHandleBackslashInQuotesOnly(true)
        .build())
      .build();
  }

  @Override
  public ExpressionFactory getExpressionFactory() {
    return expressions;
  }

  /**
   * Whether a recorded error fails the render. All do except jinjava's warning for a property an
   * object lacks ({@code 'text'.content}): jinja2 yields Undefined there, and templates test it
   * with {@code is defined}; printing it still fails in {@link PyOutputStrategy}.
   */
  static boolean isFailure(TemplateError error) {
    return error.getSeverity() == ErrorType.FATAL || error.getItem() != ErrorItem.PROPERTY;
  }

  /** Whether this render has already recorded a failure (and will be reported by it). */
  static boolean hasFailed(JinjavaInterpreter interpreter) {
    return interpreter.getErrors().stream().anyMatch(PyJinjava::isFailure);
  }

  /** Parses {@code source} without rendering it, so unknown tags and unclosed blocks fail at compile time. */
  List<TemplateError> parseErrors(String source) {
    JinjavaInterpreter interpreter = newInterpreter();
    try (var current = JinjavaInterpreter.closeablePushCurrent(interpreter).get()) {
      current.value().parse(source);
    }
    return interpreter.getErrorsCopy();
  }

  /** Installs the Python-style printing of {{ expressions }} in every render's context. */
  private static final class PyExecutionMode implements ExecutionMode {
    @Override
    public void prepareContext(Context context) {
      context.setExpressionStrategy(new PyOutputStrategy());
    }
  }
}
