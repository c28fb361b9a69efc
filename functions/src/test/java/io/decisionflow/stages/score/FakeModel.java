package io.decisionflow.stages.score;

import io.decisionflow.stages.enrich.FeatureSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A {@link Model} without TensorFlow: scores each row with a fixed function of its values (the
 * first feature divided by ten, capped at 1) and remembers the rows it was given.
 */
class FakeModel implements Model {

  private final ModelManifest manifest;
  private final List<float[]> rows = new ArrayList<>();
  private final List<Integer> batchSizes = new ArrayList<>();
  private volatile boolean closed;

  FakeModel(ModelManifest manifest) {
    this.manifest = manifest;
  }

  /** Model {@code fraud v7} trained on the current feature spec. */
  static FakeModel ofCurrentSpec() {
    return new FakeModel(manifest(FeatureSpec.VERSION, FeatureSpec.NAMES));
  }

  /** Model {@code fraud <version>} trained on the current feature spec. */
  static FakeModel ofVersion(String version) {
    return new FakeModel(
        new ModelManifest(
            "fraud",
            version,
            FeatureSpec.VERSION,
            FeatureSpec.NAMES,
            0.5,
            Map.of("auc", 0.9),
            Map.of("seed", 1)));
  }

  /** Manifest of model {@code fraud v7} trained on a feature spec. */
  static ModelManifest manifest(String featureSpecVersion, List<String> features) {
    return new ModelManifest(
        "fraud", "v7", featureSpecVersion, features, 0.5, Map.of("auc", 0.9), Map.of("seed", 1));
  }

  /** The score this model gives a row. */
  static float scoreOf(float[] row) {
    return Math.min(1f, row[0] / 10f);
  }

  @Override
  public ModelManifest manifest() {
    return manifest;
  }

  @Override
  public float[] score(float[] batch, int count) {
    if (closed) {
      throw new IllegalStateException("model " + manifest.version() + " is closed");
    }
    batchSizes.add(count);
    int width = batch.length / count;
    float[] scores = new float[count];
    for (int i = 0; i < count; i++) {
      float[] row = Arrays.copyOfRange(batch, i * width, (i + 1) * width);
      rows.add(row);
      scores[i] = scoreOf(row);
    }
    return scores;
  }

  /** The rows scored so far. */
  List<float[]> rows() {
    return rows;
  }

  /** The batch sizes of the calls so far. */
  List<Integer> batchSizes() {
    return batchSizes;
  }

  boolean closed() {
    return closed;
  }

  @Override
  public void close() {
    closed = true;
  }
}
