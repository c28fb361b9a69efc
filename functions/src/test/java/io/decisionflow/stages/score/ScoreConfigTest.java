package io.decisionflow.stages.score;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.decisionflow.stages.ConfigException;
import io.decisionflow.stages.StageConfigs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Score configs as a function's userConfig delivers them. */
class ScoreConfigTest {

  @TempDir Path modelDir;

  private static Map<String, Object> userConfig(String slot, String location) {
    Map<String, Object> config = new HashMap<>();
    if (slot != null) {
      config.put("modelSlot", slot);
    }
    if (location != null) {
      config.put("modelLocation", location);
    }
    return config;
  }

  private static ConfigException rejection(Map<String, Object> userConfig) {
    return catchThrowableOfType(
        ConfigException.class, () -> StageConfigs.load(userConfig, ScoreConfig.class));
  }

  @Test
  void acceptsAnAbsolutePathOfAnExistingDirectory() {
    // Given
    Map<String, Object> userConfig = userConfig("champion", modelDir.toString());

    // When
    ScoreConfig config = StageConfigs.load(userConfig, ScoreConfig.class);

    // Then
    assertThat(config.modelSlot).isEqualTo("champion");
    assertThat(config.existingModelPath()).isEqualTo(modelDir);
  }

  @Test
  void acceptsAFileUriOfAnExistingDirectory() {
    // Given
    String uri = modelDir.toUri().toString();
    Map<String, Object> userConfig = userConfig("champion", uri);

    // When
    ScoreConfig config = StageConfigs.load(userConfig, ScoreConfig.class);

    // Then
    assertThat(uri).startsWith("file:");
    assertThat(config.existingModelPath()).isEqualTo(modelDir);
  }

  @Test
  void acceptsNoModelLocationSinceTheSlotsAnnouncedModelServes() {
    ScoreConfig config = StageConfigs.load(userConfig("champion", null), ScoreConfig.class);

    assertThat(config.modelLocation).isNull();
    assertThat(config.modelSlot).isEqualTo("champion");
  }

  @Test
  void rejectsABlankModelLocation() {
    assertThat(rejection(userConfig("champion", " ")))
        .hasMessageStartingWith("userConfig.modelLocation: must be a model directory")
        .hasMessageEndingWith("when given, was  ");
  }

  @Test
  void rejectsARelativePath() {
    assertThat(rejection(userConfig("champion", "models/fraud-v7")))
        .hasMessage(
            "userConfig.modelLocation: must be an absolute path or file: URI, was models/fraud-v7");
  }

  @Test
  void validatesWithoutTheModelButRejectsAMissingDirectoryWhereTheModelIsLoaded() {
    // Given: a location this machine does not hold
    String missing = modelDir.resolve("missing").toString();

    // When
    ScoreConfig config = StageConfigs.load(userConfig("champion", missing), ScoreConfig.class);

    // Then
    assertThatThrownBy(config::existingModelPath)
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "userConfig.modelLocation: must be an existing model directory on this worker, was "
                + missing);
  }

  @Test
  void rejectsAFileThatIsNotADirectoryWhereTheModelIsLoaded() throws IOException {
    // Given
    Path file = Files.writeString(modelDir.resolve("saved_model.pb"), "not a directory");

    // When
    ScoreConfig config =
        StageConfigs.load(userConfig("champion", file.toString()), ScoreConfig.class);

    // Then
    assertThatThrownBy(config::existingModelPath)
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("userConfig.modelLocation: must be an existing model directory");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"s3://models/fraud-v7", "hdfs://namenode/models/fraud-v7"})
  void rejectsRemoteUris(String location) {
    assertThat(rejection(userConfig("champion", location)))
        .hasMessage(
            "userConfig.modelLocation: only local paths and file: URIs are supported, was "
                + location);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"file:models/fraud-v7", "file://otherhost/models/fraud-v7"})
  void rejectsFileUrisThatAreNotLocalAbsolutePaths(String location) {
    assertThat(rejection(userConfig("champion", location)))
        .hasMessageStartingWith("userConfig.modelLocation:")
        .hasMessageContaining(location);
  }

  @Test
  void rejectsMissingModelSlot() {
    assertThat(rejection(userConfig(null, modelDir.toString())))
        .hasMessage("userConfig.modelSlot: is required, was <missing>");
  }

  @ParameterizedTest(name = "slot ''{0}''")
  @CsvSource({"Champion", "model_v2", "-v2", "' '"})
  void rejectsSlotThatCannotBeATopicName(String slot) {
    assertThat(rejection(userConfig(slot, modelDir.toString())))
        .hasMessageStartingWith("userConfig.modelSlot:")
        .hasMessageContaining(slot);
  }

  @Test
  void rejectsAnUnknownSetting() {
    // Given
    Map<String, Object> userConfig = userConfig("champion", modelDir.toString());
    userConfig.put("modelPath", modelDir.toString());

    // When / Then
    assertThatThrownBy(() -> StageConfigs.load(userConfig, ScoreConfig.class))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(
            "userConfig.modelPath: unknown setting for ScoreConfig; known settings are")
        .hasMessageContaining("modelLocation")
        .hasMessageContaining("maxBatchSize");
  }

  static Stream<Arguments> badBatchingAndBreaker() {
    return Stream.of(
        Arguments.of("maxBatchSize", 0),
        Arguments.of("maxBatchSize", 5000),
        Arguments.of("maxBatchWaitMs", -1),
        Arguments.of("latencyBudgetMs", 0),
        Arguments.of("failureRatePercent", 0),
        Arguments.of("slowCallRatePercent", 101),
        Arguments.of("breakerWindowCalls", 0),
        Arguments.of("breakerOpenSeconds", 0),
        Arguments.of("breakerProbes", 0));
  }

  @ParameterizedTest
  @MethodSource("badBatchingAndBreaker")
  void rejectsBatchingAndBreakerSettingsOutOfRange(String field, Object value) {
    // Given
    Map<String, Object> userConfig = userConfig("champion", modelDir.toString());
    userConfig.put(field, value);

    // When / Then
    assertThatThrownBy(() -> StageConfigs.load(userConfig, ScoreConfig.class))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("userConfig." + field)
        .hasMessageContaining(String.valueOf(value));
  }

  @Test
  void breakerSettingsFollowTheConfig() {
    // Given
    Map<String, Object> userConfig = userConfig("champion", modelDir.toString());
    userConfig.put("latencyBudgetMs", "20");
    userConfig.put("breakerWindowCalls", 10);
    userConfig.put("breakerOpenSeconds", 3);

    // When
    GuardedModel.Settings settings =
        StageConfigs.load(userConfig, ScoreConfig.class).breakerSettings();

    // Then
    assertThat(settings.latencyBudget()).isEqualTo(Duration.ofMillis(20));
    assertThat(settings.slidingWindowCalls()).isEqualTo(10);
    assertThat(settings.minimumCalls()).isEqualTo(5);
    assertThat(settings.openFor()).isEqualTo(Duration.ofSeconds(3));
  }
}
