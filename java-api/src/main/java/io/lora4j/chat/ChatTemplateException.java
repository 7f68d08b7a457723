package io.lora4j.chat;

/**
 * A chat template could not be compiled or rendered: a syntax error, an undefined value the template
 * prints, an unsupported construct, or the template itself called {@code raise_exception(msg)}.
 */
public class ChatTemplateException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String detail;
  private final int templateLine;

  /**
   * @param detail       what went wrong
   * @param templateLine 1-based line of the template source, or -1 when unknown
   */
  public ChatTemplateException(String detail, int templateLine) {
    super(templateLine > 0 ? detail + " (template line " + templateLine + ")" : detail);
    this.detail = detail;
    this.templateLine = templateLine;
  }

  public ChatTemplateException(String detail) {
    this(detail, -1);
  }

  /** What went wrong, without the line suffix of {@link #getMessage()}. */
  public String detail() {
    return detail;
  }

  /** The 1-based line of the template source the error comes from, or -1 when unknown. */
  public int templateLine() {
    return templateLine;
  }

  /** This error, or a copy carrying {@code line} when this one does not know its line. */
  ChatTemplateException atLine(int line) {
    if (templateLine > 0 || line <= 0) {
      return this;
    }
    ChatTemplateException located = new ChatTemplateException(detail, line);
    located.setStackTrace(getStackTrace());
    return located;
  }
}
