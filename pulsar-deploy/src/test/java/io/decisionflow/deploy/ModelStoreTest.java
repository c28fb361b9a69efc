package io.decisionflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.stages.enrich.FeatureSpec;
import io.decisionflow.stages.score.ModelDigest;
import io.decisionflow.stages.score.ModelManifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelStoreTest {

  @TempDir Path work;

  @Test
  void storesAModelUnderItsNameAndVersionAndAgainIsANoOp() throws IOException {
    // Given
    Path model = model("v2", "weights-a");
    ModelStore store = new ModelStore(work.resolve("store"));

    // When
    ModelStore.Stored first = store.put(model);
    ModelStore.Stored again = store.put(model);

    // Then
    assertThat(first.dir()).isEqualTo(work.resolve("store/fraud/v2"));
    assertThat(first.copied()).isTrue();
    assertThat(again.copied()).isFalse();
    assertThat(ModelDigest.of(first.dir()))
        .isEqualTo(ModelDigest.of(model))
        .isEqualTo(first.sha256());
    assertThat(Files.readString(first.dir().resolve("variables/variables.data")))
        .isEqualTo("weights-a");
    assertThat(first.dir().resolveSibling(".v2.partial")).doesNotExist();
  }

  @Test
  void refusesOtherFilesUnderAVersionItAlreadyHolds() throws IOException {
    // Given v2 stored
    ModelStore store = new ModelStore(work.resolve("store"));
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
    assertThatThrownBy(() -> new ModelStore(work.resolve("store")).put(model))
        .hasMessageContaining("does not match its manifest");
    assertThat(work.resolve("store/fraud/v3")).doesNotExist();
  }

  @Test
  void needsAnAbsoluteRoot() {
    assertThatThrownBy(() -> new ModelStore(Path.of("relative/store")))
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
