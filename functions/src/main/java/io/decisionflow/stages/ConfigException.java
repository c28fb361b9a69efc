package io.decisionflow.stages;

/**
 * A function's configuration is wrong. Thrown at {@code initialize}, so a bad deploy fails at once
 * with a message that names the field and says what to fix.
 */
public final class ConfigException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Fails unless {@code condition} holds, with {@code "<field>: <problem>, was <value>"}. */
  public static void require(boolean condition, String field, Object value, String problem) {
    if (!condition) {
      throw new ConfigException(
          "userConfig."
              + field
              + ": "
              + problem
              + ", was "
              + (value == null ? "<missing>" : value));
    }
  }
}
