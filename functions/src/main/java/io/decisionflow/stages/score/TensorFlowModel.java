package io.decisionflow.stages.score;

import java.nio.file.Path;

/** A decisionflow model directory (SavedModel plus manifest) served by TensorFlow Java. */
public final class TensorFlowModel implements Model {

  private final ModelManifest manifest;
  private final SavedModelScorer scorer;

  private TensorFlowModel(ModelManifest manifest, SavedModelScorer scorer) {
    this.manifest = manifest;
    this.scorer = scorer;
  }

  /**
   * Loads the model in {@code dir} after checking its files against the digest in its manifest, and
   * checks that the manifest matches the SavedModel's input.
   */
  public static TensorFlowModel load(Path dir) {
    ModelManifest manifest = ModelManifest.read(dir);
    ModelDigest.verify(dir, manifest);
    SavedModelScorer scorer = SavedModelScorer.load(dir);
    if (manifest.features() == null || scorer.featureCount() != manifest.features().size()) {
      int declared = manifest.features() == null ? 0 : manifest.features().size();
      scorer.close();
      throw new IllegalArgumentException(
          "model at "
              + dir
              + " takes "
              + scorer.featureCount()
              + " features but its manifest lists "
              + declared);
    }
    return new TensorFlowModel(manifest, scorer);
  }

  @Override
  public ModelManifest manifest() {
    return manifest;
  }

  @Override
  public float[] score(float[] rows, int count) {
    return scorer.score(rows, count);
  }

  @Override
  public void close() {
    scorer.close();
  }
}
