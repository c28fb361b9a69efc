package io.decisionflow.stages.score.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.stages.enrich.FeatureSpec;
import io.decisionflow.stages.score.ModelDigest;
import io.decisionflow.stages.score.ModelManifest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelArtifactsTest {

  private static final String OTHER_SHA = "0".repeat(64);

  @TempDir Path work;

  @Test
  void aFileUriOrAbsolutePathIsCheckedInPlace() throws IOException {
    // Given a model and its digest
    Path model = model(work.resolve("fraud-v1"));
    String sha = ModelDigest.of(model);

    try (ModelArtifacts artifacts = new ModelArtifacts(null, work.resolve("cache"))) {
      // When
      Path byUri = artifacts.localCopy(model.toUri().toString(), sha);
      Path byPath = artifacts.localCopy(model.toString(), sha.toUpperCase());

      // Then the model is used where it is: nothing is copied
      assertThat(byUri).isEqualTo(model);
      assertThat(byPath).isEqualTo(model);
      assertThat(work.resolve("cache")).doesNotExist();
    }
  }

  @Test
  void refusesALocalModelWhoseFilesDoNotMatchTheAnnouncedSha256() throws IOException {
    // Given a model whose weights changed after it was announced
    Path model = model(work.resolve("fraud-v1"));
    String announced = ModelDigest.of(model);
    Files.writeString(model.resolve("variables/variables.data"), "other weights");
    String uri = model.toUri().toString();

    // Then
    try (ModelArtifacts artifacts = new ModelArtifacts(null, work.resolve("cache"))) {
      assertThatThrownBy(() -> artifacts.localCopy(uri, announced))
          .isInstanceOf(ModelArtifactException.class)
          .hasMessageContaining("model at " + uri)
          .hasMessageContaining("does not match its announced sha256")
          .hasMessageContaining("expected " + announced)
          .hasMessageContaining("hash to " + ModelDigest.of(model));
    }
  }

  @Test
  void refusesAMissingDirectoryAndADirectoryWithoutManifest() throws IOException {
    Path empty = Files.createDirectories(work.resolve("empty"));
    try (ModelArtifacts artifacts = new ModelArtifacts(null, work.resolve("cache"))) {
      assertThatThrownBy(() -> artifacts.localCopy(work.resolve("absent").toString(), OTHER_SHA))
          .isInstanceOf(ModelArtifactException.class)
          .hasMessageContaining("no model at " + work.resolve("absent"))
          .hasMessageContaining("is not a directory");
      assertThatThrownBy(() -> artifacts.localCopy(empty.toUri().toString(), OTHER_SHA))
          .hasMessageContaining("no model at " + empty.toUri())
          .hasMessageContaining("has no manifest.json");
    }
  }

  @Test
  void refusesUnsupportedSchemesAndRelativePaths() {
    try (ModelArtifacts artifacts = new ModelArtifacts(null, work.resolve("cache"))) {
      assertThatThrownBy(() -> artifacts.localCopy("https://models.example/fraud/v1/", OTHER_SHA))
          .isInstanceOf(ModelArtifactException.class)
          .hasMessageContaining("scheme 'https' is not supported")
          .hasMessageContaining("https://models.example/fraud/v1/");
      assertThatThrownBy(() -> artifacts.localCopy("models/fraud-v1", OTHER_SHA))
          .hasMessageContaining("must be an absolute path")
          .hasMessageContaining("models/fraud-v1");
      assertThatThrownBy(() -> artifacts.localCopy(" ", OTHER_SHA))
          .hasMessageContaining("model URI is required");
    }
  }

  @Test
  void refusesAnAnnouncedSha256ThatIsNotOne() {
    try (ModelArtifacts artifacts = new ModelArtifacts(null, work.resolve("cache"))) {
      assertThatThrownBy(() -> artifacts.localCopy("/models/fraud/v1", "abc"))
          .isInstanceOf(ModelArtifactException.class)
          .hasMessageContaining("model at /models/fraud/v1")
          .hasMessageContaining("64 hex digits, was abc");
    }
  }

  @Test
  void refusesAnS3UriWhenNoObjectStoreIsConfigured() {
    try (ModelArtifacts artifacts = new ModelArtifacts(null, work.resolve("cache"))) {
      assertThatThrownBy(() -> artifacts.localCopy("s3://models/fraud/v9/", OTHER_SHA))
          .isInstanceOf(ModelArtifactException.class)
          .hasMessageContaining("model at s3://models/fraud/v9/")
          .hasMessageContaining("no object store is configured");
    }
  }

  @Test
  void refusesAnInvalidS3UriOrAWholeBucket() {
    ObjectStoreSettings local = ObjectStoreSettings.at("http://127.0.0.1:1", "a", "s");
    try (ModelArtifacts artifacts = new ModelArtifacts(local, work.resolve("cache"))) {
      assertThatThrownBy(() -> artifacts.localCopy("s3://Models/fraud/v1/", OTHER_SHA))
          .isInstanceOf(ModelArtifactException.class)
          .hasMessageContaining("s3://Models/fraud/v1/");
      assertThatThrownBy(() -> artifacts.localCopy("s3://models/", OTHER_SHA))
          .hasMessageContaining("not a whole bucket");
    }
  }

  @Test
  void aCachedCopyThatStillMatchesIsReusedWithoutAskingTheStore() throws IOException {
    // Given a model already downloaded into the cache, and a store that cannot be reached
    Path cache = work.resolve("cache");
    String sha = ModelDigest.of(model(work.resolve("fraud-v1")));
    model(cacheOf(cache, "s3://models/fraud/v1/").resolve(sha));
    ObjectStoreSettings unreachable = ObjectStoreSettings.at("http://127.0.0.1:1", "a", "s");

    // When / Then
    try (ModelArtifacts artifacts = new ModelArtifacts(unreachable, cache)) {
      assertThat(artifacts.localCopy("s3://models/fraud/v1/", sha))
          .isEqualTo(cacheOf(cache, "s3://models/fraud/v1/").resolve(sha));
    }
  }

  @Test
  void aCachedCopyThatNoLongerMatchesIsDiscardedAndFetchedAgain() throws IOException {
    // Given a cached copy damaged since it was stored, and a store that cannot be reached
    Path cache = work.resolve("cache");
    String sha = ModelDigest.of(model(work.resolve("fraud-v1")));
    Path cached = model(cacheOf(cache, "s3://models/fraud/v1/").resolve(sha));
    Files.writeString(cached.resolve("variables/variables.data"), "damaged");
    ObjectStoreSettings unreachable = ObjectStoreSettings.at("http://127.0.0.1:1", "a", "s");

    // When it is asked for
    try (ModelArtifacts artifacts = new ModelArtifacts(unreachable, cache)) {
      assertThatThrownBy(() -> artifacts.localCopy("s3://models/fraud/v1/", sha))
          // Then the store is asked (and cannot be reached) ...
          .isInstanceOf(UncheckedIOException.class)
          .hasMessageContaining(
              "cannot read model at s3://models/fraud/v1/ (at http://127.0.0.1:1)");
    }
    // ... and nothing is left that a later call could take for the model
    try (Stream<Path> entries = Files.list(cacheOf(cache, "s3://models/fraud/v1/"))) {
      assertThat(entries).isEmpty();
    }
  }

  private static Path model(Path dir) throws IOException {
    Files.createDirectories(dir.resolve("variables"));
    Files.writeString(dir.resolve("saved_model.pb"), "graph");
    Files.writeString(dir.resolve("variables/variables.data"), "weights");
    new ModelManifest(
            "fraud",
            "v1",
            FeatureSpec.VERSION,
            FeatureSpec.NAMES,
            0.5,
            Map.of(),
            Map.of(ModelDigest.MANIFEST_KEY, ModelDigest.of(dir)))
        .write(dir);
    return dir;
  }

  private static Path cacheOf(Path cache, String uri) {
    return new ModelArtifacts(null, cache).cacheFolder(uri);
  }
}
