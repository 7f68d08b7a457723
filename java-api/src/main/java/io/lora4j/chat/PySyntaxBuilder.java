package io.lora4j.chat;

import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.ext.AdditionOperator;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.objects.SafeString;
import java.util.Optional;
import jinjava.de.odysseus.el.misc.TypeConverter;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.Builder.Feature;
import jinjava.de.odysseus.el.tree.impl.ast.AstBinary;
import jinjava.de.odysseus.el.tree.impl.ast.AstIdentifier;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;

/**
 * jinjava's expression grammar with two Python rules it lacks:
 * {@code 'text' + x} fails unless both sides are strings (jinjava would print "textnull" for an
 * undefined x), and a filter or test name that does not exist is an error (jinjava silently
 * yields nothing).
 */
final class PySyntaxBuilder extends ExtendedSyntaxBuilder {

  private static final long serialVersionUID = 1L;

  PySyntaxBuilder(Feature... features) {
    super(features);
  }

  @Override
  protected Parser createParser(String expression) {
    return new PyParser(this, expression);
  }

  private static final class PyParser extends ExtendedParser {

    PyParser(PySyntaxBuilder builder, String input) {
      super(builder, input);
    }

    @Override
    protected AstBinary createAstBinary(AstNode left, AstNode right, AstBinary.Operator operator) {
      return super.createAstBinary(left, right, operator == AdditionOperator.OP ? PyAddition.OP : operator);
    }

    @Override
    protected AstIdentifier createAstIdentifier(String name, int index) {
      Optional<Context> context = JinjavaInterpreter.getCurrentMaybe().map(JinjavaInterpreter::getContext);
      if (context.isPresent()) {
        if (name.startsWith(FILTER_PREFIX) && context.get().getFilter(name.substring(FILTER_PREFIX.length())) == null) {
          throw new ChatTemplateException("no filter named '" + name.substring(FILTER_PREFIX.length()) + "'");
        }
        if (name.startsWith(EXPTEST_PREFIX) && context.get().getExpTest(name.substring(EXPTEST_PREFIX.length())) == null) {
          throw new ChatTemplateException("no test named '" + name.substring(EXPTEST_PREFIX.length()) + "'");
        }
      }
      return super.createAstIdentifier(name, index);
    }
  }

  /** {@code +} as Python: strings only concatenate with strings; lists, dicts and numbers as jinjava does. */
  private static final class PyAddition extends AdditionOperator {

    static final PyAddition OP = new PyAddition();

    @Override
    protected Object apply(TypeConverter converter, Object left, Object right) {
      if (isStr(left) != isStr(right)) {
        throw new ChatTemplateException("can only concatenate str to str with '+', got "
          + PyRepr.typeName(left) + " + " + PyRepr.typeName(right)
          + (left == null || right == null ? " (an undefined value or None)" : ""));
      }
      return super.apply(converter, left, right);
    }

    private static boolean isStr(Object value) {
      return value instanceof CharSequence || value instanceof SafeString;
    }
  }
}
