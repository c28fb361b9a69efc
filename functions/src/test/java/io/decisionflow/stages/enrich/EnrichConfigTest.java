package io.decisionflow.stages.enrich;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.stages.ConfigException;
import io.decisionflow.stages.StageConfigs;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class EnrichConfigTest {

  @Test
  void defaultsNeedNoSettings() {
    EnrichConfig config = StageConfigs.load(Map.of(), EnrichConfig.class);

    assertThat(config.featureSpecVersion).isEqualTo("v3");
    assertThat(config.allowedLatenessSeconds).isEqualTo(300);
    assertThat(config.maxCachedCards).isEqualTo(100_000);
    assertThat(config.stateKeyPrefix).isEqualTo("card:");
    assertThat(config.stateFlushDelayMs).isZero();
    assertThat(config.maxStateWritesInFlight).isEqualTo(512);
    assertThat(config.maxPendingRecords).isEqualTo(200_000);
    assertThat(config.outputBatchingDelayMicros).isEqualTo(1000);
  }

  @Test
  void acceptsSettingsAsTheyArriveFromUserConfig() {
    // --user-config JSON and the worker deliver numbers as strings or doubles
    EnrichConfig config =
        StageConfigs.load(
            Map.of(
                "maxCachedCards",
                "500",
                "stateKeyPrefix",
                "",
                "featureSpecVersion",
                "v3",
                "allowedLatenessSeconds",
                "60"),
            EnrichConfig.class);

    assertThat(config.allowedLatenessMs()).isEqualTo(60_000L);
    assertThat(config.maxCachedCards).isEqualTo(500);
    assertThat(config.stateKeyPrefix).isEmpty();
    assertThat(
            StageConfigs.load(Map.of("maxCachedCards", 250.0), EnrichConfig.class).maxCachedCards)
        .isEqualTo(250);
  }

  @Test
  void aConfigWrittenForFeatureSpecV2IsRefusedSayingWhatV3Adds() {
    assertThatThrownBy(
            () -> StageConfigs.load(Map.of("featureSpecVersion", "v2"), EnrichConfig.class))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("userConfig.featureSpecVersion: must be v3")
        .hasMessageContaining("merchant_risk and merchant_unknown")
        .hasMessageContaining("v2");
  }

  static Stream<Arguments> invalid() {
    return Stream.of(
        Arguments.of(Map.of("featureSpecVersion", "v9"), "userConfig.featureSpecVersion", "v9"),
        Arguments.of(Map.of("maxCachedCards", 0), "userConfig.maxCachedCards", "0"),
        Arguments.of(
            Map.of("allowedLatenessSeconds", -1), "userConfig.allowedLatenessSeconds", "-1"),
        Arguments.of(
            Map.of("allowedLatenessSeconds", 86_401), "userConfig.allowedLatenessSeconds", "86401"),
        Arguments.of(Map.of("maxCachedCards", "many"), "userConfig.maxCachedCards", "many"),
        Arguments.of(Map.of("stateFlushDelayMs", -1), "userConfig.stateFlushDelayMs", "-1"),
        Arguments.of(Map.of("maxStateWritesInFlight", 0), "userConfig.maxStateWritesInFlight", "0"),
        Arguments.of(Map.of("maxPendingRecords", 0), "userConfig.maxPendingRecords", "0"),
        Arguments.of(
            Map.of("maxPendingRecords", 600_000),
            "userConfig.maxPendingRecords",
            "unacknowledged messages the broker lets enrich hold"),
        Arguments.of(Map.of("maxStateReadsInFlight", 0), "userConfig.maxStateReadsInFlight", "0"),
        Arguments.of(
            Map.of("outputBatchingDelayMicros", 2_000_000),
            "userConfig.outputBatchingDelayMicros",
            "2000000"),
        Arguments.of(
            Map.of("outputBatchingDelayMicros", 999),
            "userConfig.outputBatchingDelayMicros",
            "at least 1 ms), was 999"),
        Arguments.of(
            Map.of("outputBatchingDelayMicros", -1),
            "userConfig.outputBatchingDelayMicros",
            "in [1000, 1000000] (a Pulsar producer batches for at least 1 ms), was -1"),
        Arguments.of(Map.of("maxCachedCard", 10), "userConfig.maxCachedCard", "unknown"));
  }

  @ParameterizedTest
  @MethodSource("invalid")
  void rejectsABadSettingNamingItsFieldAndValue(
      Map<String, Object> userConfig, String field, String mentioned) {
    assertThatThrownBy(() -> StageConfigs.load(userConfig, EnrichConfig.class))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(field)
        .hasMessageContaining(mentioned);
  }
}
