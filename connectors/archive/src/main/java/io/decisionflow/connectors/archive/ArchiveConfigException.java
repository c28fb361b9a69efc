package io.decisionflow.connectors.archive;

/**
 * The archive sink's configuration is wrong. Thrown from {@code open()}, so a bad deploy fails at
 * once with a message that names the field, its value, and what to fix.
 */
public final class ArchiveConfigException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  public ArchiveConfigException(String message) {
    super(message);
  }

  public ArchiveConfigException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * Fails unless {@code condition} holds, with {@code "configs.<field>: <problem>, was <value>"}.
   */
  static void require(boolean condition, String field, Object value, String problem) {
    if (!condition) {
      throw new ArchiveConfigException(
          "configs." + field + ": " + problem + ", was " + (value == null ? "<missing>" : value));
    }
  }
}
