package io.lora4j.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.JinjavaInterpreter.InterpreterScopeClosable;
import com.hubspot.jinjava.lib.tag.ElseTag;
import com.hubspot.jinjava.lib.tag.ForTag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.tree.parse.TagToken;
import com.hubspot.jinjava.util.ForLoop;
import com.hubspot.jinjava.util.ObjectIterator;
import com.hubspot.jinjava.util.ObjectTruthValue;
import java.util.ArrayList;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;

/**
 * jinja2's {@code for} on top of jinjava's: adds the loop filter ({@code for m in messages if m.role
 * != 'system'}) and the {@code else} block (rendered when nothing was iterated), both of which jinjava
 * silently mis-renders.
 */
final class PyForTag extends ForTag {

  private static final long serialVersionUID = 1L;

  @Override
  public String interpretUnchecked(TagNode tagNode, JinjavaInterpreter interpreter) {
    var varsAndExpression = getLoopVarsAndExpression((TagToken) tagNode.getMaster());
    List<String> loopVars = varsAndExpression.getLeft();
    String expression = varsAndExpression.getRight();
    int filterAt = topLevelIf(expression);
    String iterable = filterAt < 0 ? expression : expression.substring(0, filterAt).trim();

    // Like jinja2's Undefined, a missing value iterates as empty ({% for c in message.tool_calls %}).
    Object collection = interpreter.resolveELExpression(iterable, tagNode.getLineNumber());
    if (filterAt >= 0) {
      collection = select(interpreter, loopVars, collection, expression.substring(filterAt + 2).trim(),
        tagNode.getLineNumber());
    }

    List<Node> children = tagNode.getChildren();
    int elseAt = indexOfElse(children);
    if (elseAt < 0) {
      return renderForCollection(tagNode, interpreter, loopVars, collection);
    }
    if (ObjectIterator.getLoop(collection).hasNext()) {
      TagNode loopBody = new TagNode(this, (TagToken) tagNode.getMaster(), tagNode.getSymbols());
      loopBody.setChildren(new LinkedList<>(children.subList(0, elseAt)));
      return renderForCollection(loopBody, interpreter, loopVars, collection);
    }
    StringBuilder out = new StringBuilder();
    for (Node node : children.subList(elseAt + 1, children.size())) {
      out.append(node.render(interpreter).getValue());
    }
    return out.toString();
  }

  /** The items for which the loop filter holds, each tested with the loop variables bound to it. */
  private static List<Object> select(JinjavaInterpreter interpreter, List<String> loopVars, Object collection,
                                     String condition, int line) {
    List<Object> kept = new ArrayList<>();
    ForLoop items = ObjectIterator.getLoop(collection);
    while (items.hasNext()) {
      Object item = items.next();
      try (InterpreterScopeClosable _ = interpreter.enterScope()) {
        bind(interpreter, loopVars, item);
        if (ObjectTruthValue.evaluate(interpreter.resolveELExpression(condition, line))) {
          kept.add(item);
        }
      }
    }
    return kept;
  }

  /** Binds one loop item as jinja2 unpacks it: a single name, or key/value of a map entry, or a list's items. */
  private static void bind(JinjavaInterpreter interpreter, List<String> loopVars, Object item) {
    if (loopVars.size() == 1) {
      interpreter.getContext().put(loopVars.get(0), item);
      return;
    }
    List<?> parts = item instanceof Map.Entry<?, ?> e ? List.of(e.getKey(), e.getValue())
      : item instanceof List<?> list ? list : List.of();
    if (parts.size() != loopVars.size()) {
      throw new ChatTemplateException("cannot unpack " + PyRepr.repr(item) + " into " + loopVars);
    }
    for (int i = 0; i < parts.size(); i++) {
      interpreter.getContext().put(loopVars.get(i), parts.get(i));
    }
  }

  private static int indexOfElse(List<Node> children) {
    for (int i = 0; i < children.size(); i++) {
      if (children.get(i) instanceof TagNode tag && tag.getTag() instanceof ElseTag) {
        return i;
      }
    }
    return -1;
  }

  /** Where the loop filter's {@code if} starts: outside quotes and brackets, as a word; -1 if none. */
  private static int topLevelIf(String expression) {
    int depth = 0;
    char quote = 0;
    for (int i = 0; i < expression.length(); i++) {
      char c = expression.charAt(i);
      if (quote != 0) {
        if (c == '\\') {
          i++;
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '(' || c == '[' || c == '{') {
        depth++;
      } else if (c == ')' || c == ']' || c == '}') {
        depth--;
      } else if (depth == 0 && expression.startsWith("if", i)
        && (i == 0 || Character.isWhitespace(expression.charAt(i - 1)))
        && (i + 2 < expression.length() && Character.isWhitespace(expression.charAt(i + 2)))) {
        return i;
      }
    }
    return -1;
  }
}
