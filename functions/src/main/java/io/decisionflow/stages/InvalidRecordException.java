package io.decisionflow.stages;

/**
 * A record that can never be processed, whatever the retries: it goes to the dead-letter topic at
 * once with this reason. The message names the field and the offending value.
 */
public final class InvalidRecordException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String field;
  private final String value;

  public InvalidRecordException(String field, Object value, String problem) {
    this(field, value, problem, null);
  }

  public InvalidRecordException(String field, Object value, String problem, Throwable cause) {
    super(field + " " + problem + ", was " + render(value), cause);
    this.field = field;
    this.value = render(value);
  }

  /** The field at fault, e.g. {@code amount}. */
  public String field() {
    return field;
  }

  /** The offending value as text. */
  public String value() {
    return value;
  }

  private static String render(Object value) {
    if (value == null) {
      return "<missing>";
    }
    if (value instanceof String s) {
      return s.isEmpty() ? "<empty>" : "'" + s + "'";
    }
    return String.valueOf(value);
  }
}
