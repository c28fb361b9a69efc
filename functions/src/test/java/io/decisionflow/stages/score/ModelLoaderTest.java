package io.decisionflow.stages.score;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.schemas.control.ModelDeployment;
import io.decisionflow.stages.enrich.FeatureSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelLoaderTest {

  private static final Path DIR = Path.of("/models/fraud/v2");

  private final List<String> fetched = new ArrayList<>();
  private final List<FakeModel> opened = new ArrayList<>();

  private static ModelDeployment announced(String version) {
    return ModelDeployment.newBuilder()
        .setModelSlot("champion")
        .setModelName("fraud")
        .setModelVersion(version)
        .setUri("s3://models/fraud/" + version + "/")
        .setSha256("abc123")
        .setFeatureSpecVersion(FeatureSpec.VERSION)
        .build();
  }

  private ModelLoader loader(FakeModel model) {
    return new ModelLoader(
        (uri, sha) -> {
          fetched.add(uri + "#" + sha);
          return DIR;
        },
        dir -> {
          assertThat(dir).isEqualTo(DIR);
          opened.add(model);
          return model;
        },
        64);
  }

  @Test
  void fetchesTheAnnouncedArtifactAndWarmsItUpAtOneRowAndAtTheLargestBatch() {
    // Given
    FakeModel v2 = FakeModel.ofVersion("v2");

    // When
    Model loaded = loader(v2).load(announced("v2"));

    // Then
    assertThat(loaded).isSameAs(v2);
    assertThat(fetched).containsExactly("s3://models/fraud/v2/#abc123");
    assertThat(v2.batchSizes()).containsExactly(1, 64);
    assertThat(v2.closed()).isFalse();
  }

  @Test
  void refusesAnAnnouncementOfAnotherFeatureSpecWithoutFetchingIt() {
    ModelDeployment otherSpec = announced("v2").toBuilder().setFeatureSpecVersion("v0").build();

    assertThatThrownBy(() -> loader(FakeModel.ofVersion("v2")).load(otherSpec))
        .isInstanceOf(ModelRefusedException.class)
        .hasMessage(
            "model fraud v2 for slot champion (s3://models/fraud/v2/) takes feature spec 'v0' but"
                + " enrich computes v3; publish a model trained on feature spec v3");
    assertThat(fetched).isEmpty();
  }

  @Test
  void refusesAnArtifactThatCannotBeFetchedNamingItsUri() {
    ModelLoader loader =
        new ModelLoader(
            (uri, sha) -> {
              throw new IllegalArgumentException("no model at " + uri + ": the prefix is empty");
            },
            dir -> FakeModel.ofVersion("v2"),
            8);

    assertThatThrownBy(() -> loader.load(announced("v2")))
        .isInstanceOf(ModelRefusedException.class)
        .hasMessage(
            "model fraud v2 for slot champion (s3://models/fraud/v2/): no model at"
                + " s3://models/fraud/v2/: the prefix is empty");
  }

  @Test
  void refusesADirectoryThatDoesNotOpenAsAModel() {
    ModelLoader loader =
        new ModelLoader(
            (uri, sha) -> DIR,
            dir -> {
              throw new IllegalArgumentException("SavedModel has no signature 'serving_default'");
            },
            8);

    assertThatThrownBy(() -> loader.load(announced("v2")))
        .isInstanceOf(ModelRefusedException.class)
        .hasMessageEndingWith(
            "(s3://models/fraud/v2/): cannot open it: SavedModel has no signature"
                + " 'serving_default'");
  }

  @Test
  void refusesAndClosesAnArtifactWhoseManifestNamesAnotherVersion() {
    FakeModel v3 = FakeModel.ofVersion("v3");

    assertThatThrownBy(() -> loader(v3).load(announced("v2")))
        .isInstanceOf(ModelRefusedException.class)
        .hasMessageContaining("its manifest says fraud v3");
    assertThat(v3.closed()).isTrue();
  }

  @Test
  void refusesAndClosesAnArtifactTrainedOnOtherFeatures() {
    List<String> names = new ArrayList<>(FeatureSpec.NAMES);
    names.set(0, "amount");
    FakeModel other =
        new FakeModel(
            new ModelManifest("fraud", "v2", FeatureSpec.VERSION, names, 0.5, null, null));

    assertThatThrownBy(() -> loader(other).load(announced("v2")))
        .isInstanceOf(ModelRefusedException.class)
        .hasMessageContaining("takes feature spec " + FeatureSpec.VERSION + " " + names)
        .hasMessageContaining(
            "but enrich computes " + FeatureSpec.VERSION + " " + FeatureSpec.NAMES);
    assertThat(other.closed()).isTrue();
  }

  @Test
  void refusesAndClosesAModelThatScoresNanAtWarmUp() {
    FakeModel nan =
        new FakeModel(FakeModel.ofVersion("v2").manifest()) {
          @Override
          public float[] score(float[] batch, int count) {
            float[] scores = new float[count];
            Arrays.fill(scores, Float.NaN);
            return scores;
          }
        };

    assertThatThrownBy(() -> loader(nan).load(announced("v2")))
        .isInstanceOf(ModelRefusedException.class)
        .hasMessageEndingWith("warm-up scored NaN for a row of zeros, not a probability in [0, 1]");
    assertThat(nan.closed()).isTrue();
  }
}
