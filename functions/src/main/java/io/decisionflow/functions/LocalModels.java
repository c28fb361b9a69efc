package io.decisionflow.functions;

import io.decisionflow.schemas.control.ModelDeployment;
import io.decisionflow.stages.score.ModelDigest;
import io.decisionflow.stages.score.ModelManifest;
import java.nio.file.Path;

/** Model directories on the worker's own disk (a {@code file:} URI or an absolute path). */
final class LocalModels {

  private LocalModels() {}

  /** A deployment record for a model directory given in the function's config. */
  static ModelDeployment describe(String slot, Path dir) {
    ModelManifest manifest = ModelManifest.read(dir);
    return ModelDeployment.newBuilder()
        .setModelSlot(slot)
        .setModelName(manifest.name())
        .setModelVersion(manifest.version())
        .setUri(dir.toUri().toString())
        .setSha256(ModelDigest.of(dir))
        .setFeatureSpecVersion(manifest.featureSpecVersion())
        .setAnnouncedBy("userConfig.modelLocation")
        .build();
  }
}
