package io.decisionflow.stages.score;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.stages.enrich.FeatureSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelDigestTest {

  @TempDir Path model;

  @BeforeEach
  void aModelDirectory() throws IOException {
    Files.writeString(model.resolve("saved_model.pb"), "graph");
    Files.createDirectories(model.resolve("variables"));
    Files.writeString(model.resolve("variables/variables.index"), "index");
  }

  @Test
  void theDigestCoversTheModelFilesButNotTheManifest() throws IOException {
    String before = ModelDigest.of(model);

    manifest(before).write(model);

    assertThat(ModelDigest.of(model)).isEqualTo(before).hasSize(64);
  }

  @Test
  void anyChangedModelFileChangesTheDigest() throws IOException {
    String before = ModelDigest.of(model);

    Files.writeString(model.resolve("variables/variables.index"), "indeX");

    assertThat(ModelDigest.of(model)).isNotEqualTo(before);
  }

  @Test
  void aModelThatMatchesItsManifestPassesAndOneChangedAfterTrainingIsRefused() throws IOException {
    ModelManifest manifest = manifest(ModelDigest.of(model));
    assertThatCode(() -> ModelDigest.verify(model, manifest)).doesNotThrowAnyException();

    Files.writeString(model.resolve("saved_model.pb"), "tampered");

    assertThatThrownBy(() -> ModelDigest.verify(model, manifest))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(model.toString())
        .hasMessageContaining(
            "training.saved_model_sha256 is " + manifest.training().get("saved_model_sha256"))
        .hasMessageContaining("but the files hash to " + ModelDigest.of(model));
  }

  @Test
  void aManifestWithoutADigestIsNotChecked() {
    ModelManifest manifest =
        new ModelManifest(
            "fraud", "v1", FeatureSpec.VERSION, FeatureSpec.NAMES, 0.5, Map.of(), null);

    assertThatCode(() -> ModelDigest.verify(model, manifest)).doesNotThrowAnyException();
  }

  private static ModelManifest manifest(String digest) {
    return new ModelManifest(
        "fraud",
        "v1",
        FeatureSpec.VERSION,
        FeatureSpec.NAMES,
        0.5,
        Map.of(),
        Map.of(ModelDigest.MANIFEST_KEY, digest));
  }
}
