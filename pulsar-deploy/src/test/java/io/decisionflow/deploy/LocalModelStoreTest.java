package io.decisionflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.stages.enrich.FeatureSpec;
import io.decisionflow.stages.score.ModelDigest;
import io.decisionflow.stages.score.ModelManifest;
import io.decisionflow.stages.score.store.ObjectStoreSettings;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalModelStoreTest {

  @TempDir Path work;

  @Test
  void storesAModelUnderItsNameAndVersionAndAgainIsANoOp() throws IOException {
    // Given
    Path model = model("v2", "weights-a");
    LocalModelStore store = new LocalModelStore(work.resolve("store"));

    // When
    ModelStore.Stored first = store.put(model);
    ModelStore.Stored again = store.put(model);

    // Then
    Path dir = Path.of(URI.create(first.uri()));
    assertThat(dir).isEqualTo(work.resolve("store/fraud/v2")).isEqualTo(store.dir("fraud", "v2"));
    assertThat(first.uri()).startsWith("file:").endsWith("/store/fraud/v2/");
    assertThat(again.uri()).isEqualTo(first.uri());
    assertThat(first.copied()).isTrue();
    assertThat(again.copied()).isFalse();
    assertThat(ModelDigest.of(dir)).isEqualTo(ModelDigest.of(model)).isEqualTo(first.sha256());
    assertThat(Files.readString(dir.resolve("variables/variables.data"))).isEqualTo("weights-a");
    assertThat(dir.resolveSibling(".v2.partial")).doesNotExist();
  }

  @Test
  void refusesOtherFilesUnderAVersionItAlreadyHolds() throws IOException {
    // Given v2 stored
    LocalModelStore store = new LocalModelStore(work.resolve("store"));
    store.put(model("v2", "weights-a"));

    // When another model claims to be v2
    Path other = model("v2", "weights-b", work.resolve("other"));

    // Then
    assertThatThrownBy(() -> store.put(other))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("already holds fraud v2")
        .hasMessageContaining("give the new model another version");
  }

  @Test
  void refusesAModelWhoseFilesDoNotMatchItsManifest() throws IOException {
    // Given a model changed after training
    Path model = model("v3", "weights-a");
    Files.writeString(model.resolve("variables/variables.data"), "tampered");

    // Then
    assertThatThrownBy(() -> new LocalModelStore(work.resolve("store")).put(model))
        .hasMessageContaining("does not match its manifest");
    assertThat(work.resolve("store/fraud/v3")).doesNotExist();
  }

  @Test
  void opensALocalStoreForAPathOrFileUriAndAnS3StoreForAnS3Uri() {
    try (ModelStore byPath = ModelStore.open(work.resolve("store").toString(), null);
        ModelStore byUri = ModelStore.open(work.resolve("store").toUri().toString(), null);
        ModelStore s3 =
            ModelStore.open(
                "s3://models/prod",
                ObjectStoreSettings.at("http://127.0.0.1:1", "access", "secret"))) {
      assertThat(byPath).isInstanceOf(LocalModelStore.class);
      assertThat(byPath.root()).isEqualTo(byUri.root()).endsWith("/store");
      assertThat(s3).isInstanceOf(S3ModelStore.class);
      assertThat(s3.root()).isEqualTo("s3://models/prod/");
    }
  }

  @Test
  void needsAnAbsoluteRoot() {
    assertThatThrownBy(() -> new LocalModelStore(Path.of("relative/store")))
        .hasMessageContaining("absolute")
        .hasMessageContaining("relative/store");
  }

  private Path model(String version, String weights) throws IOException {
    return model(version, weights, work.resolve("model-" + version));
  }

  private static Path model(String version, String weights, Path dir) throws IOException {
    Files.createDirectories(dir.resolve("variables"));
    Files.writeString(dir.resolve("saved_model.pb"), "graph");
    Files.writeString(dir.resolve("variables/variables.data"), weights);
    new ModelManifest(
            "fraud",
            version,
            FeatureSpec.VERSION,
            FeatureSpec.NAMES,
            0.5,
            Map.of(),
            Map.of(ModelDigest.MANIFEST_KEY, ModelDigest.of(dir)))
        .write(dir);
    return dir;
  }
}
