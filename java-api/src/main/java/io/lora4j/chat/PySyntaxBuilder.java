package io.lora4j.chat;

import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.ext.AdditionOperator;
import com.hubspot.jinjava.el.ext.AstNamedParameter;
import com.hubspot.jinjava.el.ext.AstTuple;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import com.hubspot.jinjava.el.ext.ExtendedScanner;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.objects.SafeString;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import jinjava.de.odysseus.el.misc.TypeConverter;
import jinjava.de.odysseus.el.tree.impl.Builder.Feature;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.Parser.ParseException;
import jinjava.de.odysseus.el.tree.impl.Scanner;
import jinjava.de.odysseus.el.tree.impl.Scanner.ScanException;
import jinjava.de.odysseus.el.tree.impl.Scanner.Symbol;
import jinjava.de.odysseus.el.tree.impl.Scanner.Token;
import jinjava.de.odysseus.el.tree.impl.ast.AstBinary;
import jinjava.de.odysseus.el.tree.impl.ast.AstBracket;
import jinjava.de.odysseus.el.tree.impl.ast.AstIdentifier;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstParameters;
import jinjava.de.odysseus.el.tree.impl.ast.AstUnary;

/**
 * jinjava's expression grammar with the jinja2 rules it lacks: {@code not} binds looser than
 * comparisons and tests ({@code not x is defined} is {@code not (x is defined)}, jinjava reads
 * {@code (not x) is defined}); {@code 'text' + x} fails unless both sides are strings (jinjava would
 * print "textnull" for an undefined x); a filter or test name that does not exist is an error
 * (jinjava silently yields nothing); keyword arguments take whole expressions
 * ({@code namespace(last=messages|length - 1)}); string literals take Python's escapes (jinjava
 * rejects backslash-newline continuations and hex, unicode and octal escapes); slices may have a
 * step ({@link PySlice}).
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
    protected Scanner createScanner(String expression) {
      return new PyScanner(expression);
    }

    @Override
    protected AstTuple createAstTuple(AstParameters parameters) throws ScanException, ParseException {
      PySlice.Spec slice = PySlice.Spec.of(parameters);
      return slice != null ? slice : super.createAstTuple(parameters);
    }

    @Override
    protected AstBracket createAstBracket(AstNode base, AstNode property, boolean lvalue, boolean strict) {
      PySlice slice = PySlice.of(base, property, lvalue, strict, context.isEnabled(Feature.IGNORE_RETURN_TYPE));
      return slice != null ? slice : super.createAstBracket(base, property, lvalue, strict);
    }

    /** Call arguments as jinja2 reads them: a keyword argument's value is a whole expression. */
    @Override
    protected AstParameters params(Symbol left, Symbol right) throws ScanException, ParseException {
      consumeToken(left);
      List<AstNode> args = new ArrayList<>();
      while (getToken().getSymbol() != right) {
        args.add(argument());
        if (getToken().getSymbol() != Symbol.COMMA) {
          break;
        }
        consumeToken();
      }
      consumeToken(right);
      return createAstParameters(args);
    }

    /** {@code name=value} or a positional expression; jinjava would read {@code n=a - 1} as {@code (n=a) - 1}. */
    private AstNode argument() throws ScanException, ParseException {
      Token next = lookahead(0);
      if (getToken().getSymbol() == Symbol.IDENTIFIER && next.getSymbol() == Symbol.EXTENSION
        && "=".equals(next.getImage())) {
        String name = consumeToken().getImage();
        consumeToken();
        return new AstNamedParameter(identifier(name), expr(true));
      }
      return expr(true);
    }

    /** jinja2's {@code not}: its operand is a whole comparison, tests and filters included. */
    @Override
    protected AstNode unary(boolean required) throws ScanException, ParseException {
      if (getToken().getSymbol() != Symbol.NOT) {
        return super.unary(required);
      }
      consumeToken();
      return createAstUnary(eq(true), AstUnary.NOT);
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

  /** Scans string literals with Python's escape sequences, as jinja2's lexer decodes them. */
  private static final class PyScanner extends ExtendedScanner {

    PyScanner(String input) {
      super(PySlice.rewrite(input));
    }

    @Override
    protected Token nextString() throws ScanException {
      builder.setLength(0);
      String in = getInput();
      char quote = in.charAt(getPosition());
      int i = getPosition() + 1;
      while (i < in.length()) {
        char c = in.charAt(i++);
        if (c == quote) {
          return token(Symbol.STRING, builder.toString(), i - getPosition());
        }
        if (c != '\\') {
          builder.append(c);
          continue;
        }
        if (i == in.length()) {
          break;
        }
        char e = in.charAt(i++);
        switch (e) {
          case '\n' -> { } // line continuation
          case '\\', '\'', '"' -> builder.append(e);
          case 'n' -> builder.append('\n');
          case 't' -> builder.append('\t');
          case 'r' -> builder.append('\r');
          case 'b' -> builder.append('\b');
          case 'f' -> builder.append('\f');
          case 'v' -> builder.append('\u000b');
          case 'a' -> builder.append('\u0007');
          case 'x', 'u', 'U' -> {
            int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
            if (i + digits > in.length() || !in.substring(i, i + digits).matches("[0-9a-fA-F]+")) {
              throw new ScanException(getPosition(), "truncated \\" + e + " escape", digits + " hex digits");
            }
            builder.appendCodePoint(Integer.parseInt(in.substring(i, i + digits), 16));
            i += digits;
          }
          case '0', '1', '2', '3', '4', '5', '6', '7' -> {
            int end = i - 1;
            while (end < in.length() && end < i + 2 && in.charAt(end) >= '0' && in.charAt(end) <= '7') {
              end++;
            }
            builder.append((char) Integer.parseInt(in.substring(i - 1, end), 8));
            i = end;
          }
          default -> builder.append('\\').append(e); // Python keeps unknown escapes as written
        }
      }
      throw new ScanException(getPosition(), "unterminated string", String.valueOf(quote));
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
