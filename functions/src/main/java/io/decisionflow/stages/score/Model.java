package io.decisionflow.stages.score;

/** A loaded model: scores flat rows of features. Thread-safe. */
public interface Model extends AutoCloseable {

  /** What the model is and which features it takes, in which order. */
  ModelManifest manifest();

  /**
   * Scores {@code count} rows laid out one after the other in {@code rows}.
   *
   * @return one probability of fraud per row
   */
  float[] score(float[] rows, int count);

  @Override
  void close();
}
