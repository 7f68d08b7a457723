package io.lora4j.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;

/**
 * {@code {% generation %}...{% endgeneration %}}, the block Hugging Face's templates use to mark
 * assistant output for its assistant-token mask. It renders its body unchanged; spans come from
 * {@link ChatTemplate#renderWithSpans}, which works for templates with or without these blocks.
 */
final class GenerationTag implements Tag {

  private static final long serialVersionUID = 1L;

  @Override
  public String getName() {
    return "generation";
  }

  @Override
  public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
    StringBuilder out = new StringBuilder();
    for (Node child : tagNode.getChildren()) {
      out.append(child.render(interpreter).getValue());
    }
    return out.toString();
  }
}
