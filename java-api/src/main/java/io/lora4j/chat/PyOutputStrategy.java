package io.lora4j.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.expression.ExpressionStrategy;
import com.hubspot.jinjava.tree.output.RenderedOutputNode;
import com.hubspot.jinjava.tree.parse.ExpressionToken;

/**
 * Renders {{ expression }} the way the chat templates expect, and strictly:
 * an expression that is undefined (or None) is an error instead of empty text, values print as
 * Python prints them ({@code True}, {@code None} in lists), and printed text is never re-parsed as
 * a template (a message may well contain "{{").
 */
final class PyOutputStrategy implements ExpressionStrategy {

  private static final long serialVersionUID = 1L;

  @Override
  public RenderedOutputNode interpretOutput(ExpressionToken master, JinjavaInterpreter interpreter) {
    Object value = interpreter.resolveELExpression(master.getExpr(), master.getLineNumber());
    if (value == null) {
      if (PyJinjava.hasFailed(interpreter)) {
        // The render fails with its first error; this null is likely its consequence (jinjava
        // records a failed expression and goes on with null).
        return new RenderedOutputNode("");
      }
      throw new ChatTemplateException(
        "'" + master.getExpr().trim() + "' is undefined (or None) where the template prints it",
        master.getLineNumber());
    }
    return new RenderedOutputNode(PyRepr.str(value));
  }
}
