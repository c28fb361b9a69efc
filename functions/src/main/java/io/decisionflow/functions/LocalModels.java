package io.decisionflow.functions;

import io.decisionflow.schemas.control.ModelDeployment;
import io.decisionflow.stages.score.ModelDigest;
import io.decisionflow.stages.score.ModelManifest;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;

/** Model directories on the worker's own disk (a {@code file:} URI or an absolute path). */
final class LocalModels {

  private LocalModels() {}

  /** The directory at {@code uri}, checked to hold the model whose digest is {@code sha256}. */
  static Path localCopy(String uri, String sha256) {
    Path dir;
    if (uri.startsWith("file:")) {
      dir = Path.of(URI.create(uri));
    } else if (uri.startsWith("/")) {
      dir = Path.of(uri);
    } else {
      throw new IllegalArgumentException(
          "cannot fetch " + uri + ": only file: URIs and absolute paths are supported");
    }
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(
          "no model at " + uri + ": no such directory on this worker");
    }
    String actual = ModelDigest.of(dir);
    if (!sha256.isEmpty() && !actual.equals(sha256)) {
      throw new IllegalArgumentException(
          "the files at " + uri + " have sha256 " + actual + " but " + sha256 + " was announced");
    }
    return dir;
  }

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
