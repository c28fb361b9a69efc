package io.decisionflow.models.train;

import java.nio.file.Path;

/** A model trained in a TensorFlow session, held in memory until closed. */
public interface TrainedModel extends AutoCloseable {

  /** Number of features per row. */
  int featureCount();

  /**
   * Scores {@code rows} rows of raw features.
   *
   * @param x {@code rows * featureCount()} raw features, row by row
   * @return one probability per row
   */
  float[] predict(float[] x, int rows);

  /**
   * Exports the model as a SavedModel (tag {@code serve}) into {@code dir}, with signature {@value
   * LogisticRegressionTrainer#SIGNATURE}: input {@value LogisticRegressionTrainer#INPUT} (float32
   * {@code [-1, F]}, raw features) and output {@value LogisticRegressionTrainer#OUTPUT} (float32
   * {@code [-1, 1]}).
   */
  void export(Path dir);

  /** Frees the graph and the session. Idempotent. */
  @Override
  void close();
}
