package io.decisionflow.stages.score.store;

/**
 * A model artifact is refused: there is no model at its URI, it does not match its announced
 * sha256, or its URI cannot be served here. Retrying does not help; announcing a correct deployment
 * does. (A store that cannot be reached is an {@link java.io.UncheckedIOException}.)
 */
public final class ModelArtifactException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  public ModelArtifactException(String message) {
    super(message);
  }

  public ModelArtifactException(String message, Throwable cause) {
    super(message, cause);
  }
}
