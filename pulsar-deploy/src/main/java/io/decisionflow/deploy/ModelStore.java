package io.decisionflow.deploy;

import io.decisionflow.stages.score.ModelManifest;
import io.decisionflow.stages.score.store.ObjectStoreSettings;
import io.decisionflow.stages.score.store.S3Location;
import java.net.URI;
import java.nio.file.Path;

/**
 * Where model versions are kept, as {@code <root>/<name>/<version>/}, each written once: putting
 * the same version again is a no-op, and a different model under a stored version is refused. The
 * root is a local directory ({@link LocalModelStore}) or an S3 folder ({@link S3ModelStore}).
 */
public interface ModelStore extends AutoCloseable {

  /**
   * A model version in the store.
   *
   * @param uri where score functions find it: a {@code file:} URI or {@code s3://bucket/prefix/}
   * @param manifest the model's manifest
   * @param sha256 digest of its files ({@code ModelDigest})
   * @param copied whether this call stored it (false: it was there already)
   */
  record Stored(String uri, ModelManifest manifest, String sha256, boolean copied) {}

  /**
   * Puts the model in {@code modelDir} into the store, after checking it against its manifest.
   *
   * @throws IllegalArgumentException if the model does not match its manifest, or the store holds
   *     another model under its version
   */
  Stored put(Path modelDir);

  /** The root, as a URI. */
  String root();

  @Override
  default void close() {}

  /**
   * The store at {@code root}: {@code s3://bucket/prefix} (reached with {@code s3}), a {@code
   * file:} URI or an absolute path.
   */
  static ModelStore open(String root, ObjectStoreSettings s3) {
    if (S3Location.isS3(root)) {
      return S3ModelStore.open(
          S3Location.parse(root), s3 == null ? ObjectStoreSettings.aws(null) : s3);
    }
    if (root.regionMatches(true, 0, "file:", 0, 5)) {
      return new LocalModelStore(Path.of(URI.create(root)));
    }
    return new LocalModelStore(Path.of(root));
  }

  /** Why another model cannot be stored as {@code manifest}'s version at {@code where}. */
  static IllegalArgumentException alreadyHolds(
      ModelManifest manifest, String where, String storedSha, String sha) {
    return new IllegalArgumentException(
        "model store already holds "
            + manifest.name()
            + " "
            + manifest.version()
            + " at "
            + where
            + " with other files (sha256 "
            + storedSha
            + ", this one "
            + sha
            + "); give the new model another version");
  }
}
