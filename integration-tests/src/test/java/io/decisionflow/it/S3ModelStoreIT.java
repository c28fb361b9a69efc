package io.decisionflow.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.deploy.ModelStore;
import io.decisionflow.deploy.S3ModelStore;
import io.decisionflow.stages.score.ModelDigest;
import io.decisionflow.stages.score.ModelManifest;
import io.decisionflow.stages.score.TensorFlowModel;
import io.decisionflow.stages.score.store.ModelArtifactException;
import io.decisionflow.stages.score.store.ModelArtifacts;
import io.decisionflow.stages.score.store.S3Location;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * Models published to S3-compatible object storage (a local S3Proxy) and served from it: stored
 * once under {@code <prefix>/<name>/<version>/}, downloaded into the score function's cache,
 * checked against the announced sha256 and loaded by TensorFlow. No Pulsar: announcing is covered
 * by {@link ModelRegistryIT}.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class S3ModelStoreIT {

  @TempDir Path work;

  private S3Server s3;
  private String bucket;
  private Path model;

  @BeforeEach
  void setUp() throws Exception {
    s3 = S3Server.get();
    bucket = "models-" + UUID.randomUUID().toString().substring(0, 8);
    s3.createBucket(bucket);
    model = trainedModel();
  }

  @Test
  void aPublishedModelIsDownloadedCheckedAndScoredByTheScoreFunctionsLoader() throws Exception {
    // Given the trained model published to an S3 store
    String sha = ModelDigest.of(model);
    ModelStore.Stored stored;
    try (ModelStore store = store()) {
      stored = store.put(model);
    }
    assertThat(stored.uri()).isEqualTo("s3://" + bucket + "/decisionflow/fraud/v1/");
    assertThat(stored.copied()).isTrue();
    assertThat(stored.sha256()).isEqualTo(sha);
    assertThat(keys("decisionflow/"))
        .containsExactly(
            "decisionflow/fraud/v1/manifest.json",
            "decisionflow/fraud/v1/saved_model.pb",
            "decisionflow/fraud/v1/variables/variables.data-00000-of-00001",
            "decisionflow/fraud/v1/variables/variables.index");

    // When a score function asks for a local copy of the announced model, twice
    Path cache = work.resolve("cache");
    Path copy;
    Path again;
    try (ModelArtifacts artifacts = new ModelArtifacts(s3.settings(), cache)) {
      copy = artifacts.localCopy(stored.uri(), stored.sha256());
      again = artifacts.localCopy(stored.uri(), stored.sha256());
    }

    // Then it is downloaded once into the cache under its sha256, with nothing else left there
    assertThat(copy).isEqualTo(again);
    assertThat(copy.getFileName().toString()).isEqualTo(sha);
    assertThat(copy.getParent().getParent()).isEqualTo(cache);
    assertThat(ModelDigest.of(copy)).isEqualTo(sha);
    try (Stream<Path> entries = Files.list(copy.getParent())) {
      assertThat(entries.map(p -> p.getFileName().toString())).containsExactly(sha);
    }

    // And TensorFlow loads it and scores as the original does
    int features = ModelManifest.read(model).features().size();
    float[] rows = new float[2 * features];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = (i % 7) * 0.3f;
    }
    try (TensorFlowModel downloaded = TensorFlowModel.load(copy);
        TensorFlowModel original = TensorFlowModel.load(model)) {
      float[] scores = downloaded.score(rows, 2);
      assertThat(scores).hasSize(2).containsExactly(original.score(rows, 2));
      assertThat(scores[0]).isBetween(0f, 1f);
      assertThat(downloaded.manifest().version()).isEqualTo("v1");
    }
  }

  @Test
  void publishingTheSameVersionAgainIsANoOpAndAnotherModelUnderItIsRefused() throws Exception {
    // Given v1 stored
    try (ModelStore store = store()) {
      String uri = store.put(model).uri();

      // When the same model is published again
      ModelStore.Stored again = store.put(model);

      // Then nothing is uploaded
      assertThat(again.copied()).isFalse();
      assertThat(again.uri()).isEqualTo(uri);

      // When another model claims to be v1
      Path other = retrained(model, work.resolve("other-v1"));

      // Then it is refused, and v1 keeps its files
      assertThatThrownBy(() -> store.put(other))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("model store already holds fraud v1 at " + uri)
          .hasMessageContaining("sha256 " + ModelDigest.of(model))
          .hasMessageContaining("this one " + ModelDigest.of(other))
          .hasMessageContaining("give the new model another version");
      try (ModelArtifacts artifacts = new ModelArtifacts(s3.settings(), work.resolve("cache"))) {
        assertThat(ModelDigest.of(artifacts.localCopy(uri, ModelDigest.of(model))))
            .isEqualTo(ModelDigest.of(model));
      }
    }
  }

  @Test
  void anUnfinishedUploadIsNotServedAndTheNextPublishCompletesIt() throws Exception {
    // Given the model files of v1 without its manifest (an upload that stopped), plus a stray file
    String prefix = "decisionflow/fraud/v1/";
    put(prefix + "saved_model.pb", model.resolve("saved_model.pb"));
    put(prefix + "variables/stray", model.resolve("saved_model.pb"));
    String uri = "s3://" + bucket + "/" + prefix;
    String sha = ModelDigest.of(model);

    try (ModelArtifacts artifacts = new ModelArtifacts(s3.settings(), work.resolve("cache"))) {
      // Then it is not served
      assertThatThrownBy(() -> artifacts.localCopy(uri, sha))
          .isInstanceOf(ModelArtifactException.class)
          .hasMessageContaining("no model at " + uri + ": the prefix holds no manifest.json");

      // When the model is published
      try (ModelStore store = store()) {
        assertThat(store.put(model).copied()).isTrue();
      }

      // Then the version holds exactly the model, and is served
      assertThat(keys(prefix)).doesNotContain(prefix + "variables/stray");
      assertThat(ModelDigest.of(artifacts.localCopy(uri, sha))).isEqualTo(sha);
    }
  }

  @Test
  void aMissingPrefixAWrongSha256AndAMissingBucketAreRefusedWithTheirReason() throws Exception {
    // Given v1 stored
    String uri;
    try (ModelStore store = store()) {
      uri = store.put(model).uri();
    }
    String sha = ModelDigest.of(model);
    String wrong = "0".repeat(64);
    Path cache = work.resolve("cache");

    try (ModelArtifacts artifacts = new ModelArtifacts(s3.settings(), cache)) {
      // A version that was never published
      String v9 = "s3://" + bucket + "/decisionflow/fraud/v9/";
      assertThatThrownBy(() -> artifacts.localCopy(v9, sha))
          .isInstanceOf(ModelArtifactException.class)
          .hasMessage("no model at " + v9 + ": the prefix holds no objects");

      // An announcement whose sha256 is not the stored model's
      assertThatThrownBy(() -> artifacts.localCopy(uri, wrong))
          .isInstanceOf(ModelArtifactException.class)
          .hasMessage(
              "model at "
                  + uri
                  + " does not match its announced sha256: expected "
                  + wrong
                  + " but its files hash to "
                  + sha);

      // A bucket that does not exist
      String noBucket = "s3://no-such-bucket-" + bucket + "/decisionflow/fraud/v1/";
      assertThatThrownBy(() -> artifacts.localCopy(noBucket, sha))
          .isInstanceOf(ModelArtifactException.class)
          .hasMessageContaining("no model at " + noBucket)
          .hasMessageContaining("bucket no-such-bucket-" + bucket + " does not exist");
    }

    // Then nothing was left in the cache that a later call could take for a model
    if (Files.exists(cache)) {
      try (Stream<Path> entries = Files.walk(cache)) {
        // <cache>/<uri folder>/<sha256 or partial download>: none of the latter
        assertThat(entries.filter(p -> cache.relativize(p).getNameCount() >= 2)).isEmpty();
      }
    }

    // And publishing to a bucket that does not exist is refused before anything is announced
    try (ModelStore store =
        S3ModelStore.open(
            S3Location.parse("s3://no-such-bucket-" + bucket + "/decisionflow"), s3.settings())) {
      assertThatThrownBy(() -> store.put(model))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("model store s3://no-such-bucket-" + bucket + "/decisionflow/")
          .hasMessageContaining("bucket no-such-bucket-" + bucket + " does not exist")
          .hasMessageContaining("create it first");
    }
  }

  private ModelStore store() {
    return S3ModelStore.open(S3Location.parse("s3://" + bucket + "/decisionflow"), s3.settings());
  }

  private List<String> keys(String prefix) {
    return s3
        .client()
        .listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix))
        .contents()
        .stream()
        .map(o -> o.key())
        .sorted()
        .toList();
  }

  private void put(String key, Path file) {
    s3.client().putObject(b -> b.bucket(bucket).key(key), RequestBody.fromFile(file));
  }

  /** A copy of {@code model} with other weights, its manifest's digest updated: a valid model. */
  private static Path retrained(Path model, Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(model)) {
      for (Path source : walk.sorted().toList()) {
        Path dest = dir.resolve(model.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(dest);
        } else {
          Files.copy(source, dest, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
    Path weights = dir.resolve("variables/variables.data-00000-of-00001");
    byte[] bytes = Files.readAllBytes(weights);
    bytes[bytes.length - 1] ^= 0x01;
    Files.write(weights, bytes);
    ModelManifest m = ModelManifest.read(dir);
    Map<String, Object> training = new HashMap<>(m.training());
    training.put(ModelDigest.MANIFEST_KEY, ModelDigest.of(dir));
    new ModelManifest(
            m.name(),
            m.version(),
            m.featureSpecVersion(),
            m.features(),
            m.threshold(),
            m.metrics(),
            training)
        .write(dir);
    return dir;
  }

  private static Path trainedModel() {
    Path project =
        Path.of(System.getProperty("decisionflow.projectDir", "..")).toAbsolutePath().normalize();
    Path model = project.resolve("models/target/models/fraud-v1");
    if (!Files.isDirectory(model)) {
      throw new IllegalStateException(model + " missing: the models module trains it at package");
    }
    return model;
  }
}
