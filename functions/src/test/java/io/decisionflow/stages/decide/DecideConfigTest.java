package io.decisionflow.stages.decide;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.decisionflow.stages.ConfigException;
import io.decisionflow.stages.StageConfigs;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Decide configs as a function's userConfig delivers them: numbers maybe as text. */
class DecideConfigTest {

  private static Map<String, Object> thresholds(String slot, Object threshold) {
    Map<String, Object> perSlot = new HashMap<>();
    perSlot.put(slot, threshold);
    return Map.of("threshold", 0.5, "thresholds", perSlot);
  }

  @Test
  void acceptsThresholdGivenAsText() {
    // Given
    Map<String, Object> userConfig = Map.of("threshold", "0.5");

    // When
    DecideConfig config = StageConfigs.load(userConfig, DecideConfig.class);

    // Then
    assertThat(config.threshold).isEqualTo(0.5);
    assertThat(config.thresholds).isEmpty();
  }

  @Test
  void acceptsThresholdsAtTheEdgesOfZeroToOne() {
    assertThat(StageConfigs.load(Map.of("threshold", 0), DecideConfig.class).threshold)
        .isEqualTo(0.0);
    assertThat(StageConfigs.load(Map.of("threshold", "1"), DecideConfig.class).threshold)
        .isEqualTo(1.0);
  }

  @Test
  void perSlotThresholdsOverrideTheDefault() {
    // Given
    Map<String, Object> userConfig = thresholds("challenger", "0.8");

    // When
    DecideConfig config = StageConfigs.load(userConfig, DecideConfig.class);

    // Then
    assertThat(config.thresholdFor("challenger")).isEqualTo(0.8);
    assertThat(config.thresholdFor("champion")).isEqualTo(0.5);
  }

  @Test
  void bandsGivenAsTextApplyToEverySlotUnlessASlotHasItsOwn() {
    // Given
    Map<String, Object> userConfig =
        Map.of(
            "threshold",
            "0.5",
            "bands",
            Map.of("review", "0.2", "decline", "0.6"),
            "slotBands",
            Map.of("challenger", Map.of("review", 0.3, "decline", 0.9)));

    // When
    DecideConfig config = StageConfigs.load(userConfig, DecideConfig.class);

    // Then
    assertThat(config.bandsFor("champion").review).isEqualTo(0.2);
    assertThat(config.bandsFor("champion").decline).isEqualTo(0.6);
    assertThat(config.bandsFor("challenger").review).isEqualTo(0.3);
    assertThat(StageConfigs.load(Map.of("threshold", 0.5), DecideConfig.class).bandsFor("x"))
        .isNull();
  }

  static Stream<Arguments> invalidConfigs() {
    return Stream.of(
        arguments(
            "missing threshold",
            Map.of(),
            "userConfig.threshold: is required, in [0, 1], was <missing>"),
        arguments(
            "negative threshold",
            Map.of("threshold", -0.1),
            "userConfig.threshold: must be in [0, 1], was -0.1"),
        arguments(
            "threshold above 1",
            Map.of("threshold", 1.5),
            "userConfig.threshold: must be in [0, 1], was 1.5"),
        arguments(
            "threshold above 1 as text",
            Map.of("threshold", "1.5"),
            "userConfig.threshold: must be in [0, 1], was 1.5"),
        arguments(
            "threshold that is not a number",
            Map.of("threshold", "abc"),
            "userConfig.threshold: expected Double, was 'abc'"),
        arguments(
            "threshold NaN",
            Map.of("threshold", "NaN"),
            "userConfig.threshold: must be in [0, 1], was NaN"),
        arguments(
            "per-slot threshold above 1",
            thresholds("challenger", 2.0),
            "userConfig.thresholds.challenger: must be in [0, 1], was 2.0"),
        arguments(
            "per-slot threshold below 0",
            thresholds("challenger", "-0.5"),
            "userConfig.thresholds.challenger: must be in [0, 1], was -0.5"),
        arguments(
            "per-slot threshold missing",
            thresholds("challenger", null),
            "userConfig.thresholds.challenger: must be in [0, 1], was <missing>"),
        arguments(
            "per-slot threshold that is not a number",
            thresholds("challenger", "high"),
            "userConfig.thresholds.challenger: expected Double, was 'high'"),
        arguments(
            "review band above the decline band",
            Map.of("threshold", 0.5, "bands", Map.of("review", "0.6", "decline", "0.4")),
            "userConfig.bands.decline: must be at least bands.review (0.6), was 0.4"),
        arguments(
            "decline band above 1",
            Map.of("threshold", 0.5, "bands", Map.of("review", 0.2, "decline", 1.5)),
            "userConfig.bands.decline: must be in [0, 1], was 1.5"),
        arguments(
            "output batching delay below -1",
            Map.of("threshold", 0.5, "outputBatchingDelayMicros", -2),
            "userConfig.outputBatchingDelayMicros: must be 0 (each record sent alone) or in [1000,"
                + " 1000000] (a Pulsar producer batches for at least 1 ms), or -1 for the function"
                + " runtime's producers, was -2"),
        arguments(
            "output batching delay under 1 ms",
            Map.of("threshold", 0.5, "outputBatchingDelayMicros", 500),
            "userConfig.outputBatchingDelayMicros: must be 0 (each record sent alone) or in [1000,"
                + " 1000000] (a Pulsar producer batches for at least 1 ms), or -1 for the function"
                + " runtime's producers, was 500"),
        arguments(
            "band without decline",
            Map.of("threshold", 0.5, "bands", Map.of("review", 0.2)),
            "userConfig.bands.decline: must be in [0, 1], was <missing>"),
        arguments(
            "per-slot band with an unknown bound",
            Map.of(
                "threshold",
                0.5,
                "slotBands",
                Map.of("challenger", Map.of("review", 0.2, "decline", 0.6, "block", 0.9))),
            "userConfig.slotBands.challenger.block: unknown setting for Bands; known settings are"
                + " decline, review"),
        arguments(
            "unknown setting",
            Map.of("threshhold", 0.5),
            "userConfig.threshhold: unknown setting for DecideConfig; known settings are"
                + " bands, outputBatchingDelayMicros, slotBands, threshold, thresholds"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidConfigs")
  void rejectsInvalidConfigNamingTheField(
      String problem, Map<String, Object> userConfig, String message) {
    assertThatThrownBy(() -> StageConfigs.load(userConfig, DecideConfig.class))
        .as(problem)
        .isInstanceOf(ConfigException.class)
        .hasMessage(message);
  }
}
