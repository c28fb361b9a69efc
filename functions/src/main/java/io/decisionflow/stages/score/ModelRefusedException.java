package io.decisionflow.stages.score;

/**
 * A model version that cannot serve: it cannot be fetched, its files do not match the announced
 * sha256, it is not a SavedModel with the expected signature, its manifest differs from the
 * announcement or from the enrich stage's feature spec, or it scores nonsense at warm-up. The
 * message says which version and why; whoever asked for it keeps serving what it served.
 */
public final class ModelRefusedException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public ModelRefusedException(String message) {
    super(message);
  }

  public ModelRefusedException(String message, Throwable cause) {
    super(message, cause);
  }
}
