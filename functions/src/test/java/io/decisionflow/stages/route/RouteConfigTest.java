package io.decisionflow.stages.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.decisionflow.stages.ConfigException;
import io.decisionflow.stages.StageConfigs;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Route configs as a function's userConfig delivers them: maps, lists, numbers maybe as text. */
class RouteConfigTest {

  private static Map<String, Object> arm(String name, Object weight) {
    return Map.of("name", name, "weight", weight);
  }

  private static Map<String, Object> arm(String name, String slot, Object weight) {
    return Map.of("name", name, "slot", slot, "weight", weight);
  }

  private static Map<String, Object> arms(Object... arms) {
    return Map.of("arms", Arrays.asList(arms));
  }

  @Test
  void loadsArmsWithWeightsGivenAsText() {
    // Given
    Map<String, Object> userConfig =
        Map.of(
            "arms",
            List.of(arm("champion", "70"), arm("challenger", "model-v2", "30")),
            "routingVersion",
            "table-7");

    // When
    RouteConfig config = StageConfigs.load(userConfig, RouteConfig.class);

    // Then
    assertThat(config.arms)
        .extracting(a -> a.name, RouteConfig.Arm::slot, a -> a.weight)
        .containsExactly(tuple("champion", "champion", 70), tuple("challenger", "model-v2", 30));
    assertThat(config.routingVersion).isEqualTo("table-7");
  }

  @Test
  void defaultsRoutingVersionAndSlot() {
    // Given
    Map<String, Object> userConfig = arms(arm("champion", 100));

    // When
    RouteConfig config = StageConfigs.load(userConfig, RouteConfig.class);

    // Then
    assertThat(config.routingVersion).isEqualTo("static-1");
    assertThat(config.arms.get(0).slot).isNull();
    assertThat(config.arms.get(0).slot()).isEqualTo("champion");
  }

  @Test
  void acceptsASingleArmNotWrappedInAList() {
    // Given
    Map<String, Object> userConfig = Map.of("arms", arm("champion", 100));

    // When
    RouteConfig config = StageConfigs.load(userConfig, RouteConfig.class);

    // Then
    assertThat(config.arms).singleElement().satisfies(a -> assertThat(a.weight).isEqualTo(100));
  }

  static Stream<Arguments> invalidConfigs() {
    return Stream.of(
        arguments(
            "weights adding up to 90",
            arms(arm("champion", 60), arm("challenger", 30)),
            "userConfig.arms[*].weight: must add up to 100, was 90"),
        arguments(
            "weights adding up to 110",
            arms(arm("champion", "80"), arm("challenger", "30")),
            "userConfig.arms[*].weight: must add up to 100, was 110"),
        arguments(
            "duplicate arm names",
            arms(arm("champion", 50), arm("champion", 50)),
            "userConfig.arms[1].name: must be unique among the arms, was champion"),
        arguments(
            "negative weight",
            arms(arm("champion", -10), arm("challenger", 110)),
            "userConfig.arms[0].weight: must be between 0 and 100, was -10"),
        arguments(
            "slot that cannot be a topic name",
            arms(arm("champion", "Model_V2", 100)),
            "userConfig.arms[0].slot: model slot must be lower-case letters, digits or '-',"
                + " was 'Model_V2'"),
        arguments(
            "arm name that cannot be a slot",
            arms(arm("Champion", 100)),
            "userConfig.arms[0].slot:"),
        arguments(
            "arm without name",
            arms(Map.of("weight", 100)),
            "userConfig.arms[0].name: is required, was <missing>"),
        arguments(
            "arm that is null",
            arms(arm("champion", 100), null),
            "userConfig.arms[1]: must be an arm {name, slot, weight}"),
        arguments(
            "missing arms", Map.of(), "userConfig.arms: must list at least one arm, was <missing>"),
        arguments("no arms", arms(), "userConfig.arms: must list at least one arm, was []"),
        arguments(
            "weight that is not a number",
            arms(arm("champion", "all")),
            "userConfig.arms[0].weight: expected int, was 'all'"),
        arguments(
            "blank routing version",
            Map.of("arms", List.of(arm("champion", 100)), "routingVersion", " "),
            "userConfig.routingVersion: is required"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidConfigs")
  void rejectsInvalidConfigNamingTheField(
      String problem, Map<String, Object> userConfig, String message) {
    assertThatThrownBy(() -> StageConfigs.load(userConfig, RouteConfig.class))
        .as(problem)
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(message);
  }

  @Test
  void rejectsAnUnknownSettingNamingItAndTheKnownOnes() {
    // Given: a typo of "arms"
    Map<String, Object> userConfig = Map.of("arm", List.of(arm("champion", 100)));

    // When / Then
    assertThatThrownBy(() -> StageConfigs.load(userConfig, RouteConfig.class))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "userConfig.arm: unknown setting for RouteConfig; known settings are arms,"
                + " outputBatchingDelayMicros, routingVersion, shadows, slots");
  }

  @Test
  void rejectsAnUnknownSettingOfAnArmNamingItsPath() {
    // Given: a typo of "weight" in the second arm
    Map<String, Object> userConfig =
        arms(arm("champion", 100), Map.of("name", "challenger", "wieght", 0));

    // When / Then
    assertThatThrownBy(() -> StageConfigs.load(userConfig, RouteConfig.class))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "userConfig.arms[1].wieght: unknown setting for Arm; known settings are name, slot,"
                + " weight");
  }

  @Test
  void validatesArmsBuiltInCode() {
    // Given
    RouteConfig config = new RouteConfig();
    config.arms = List.of(new RouteConfig.Arm("champion", null, 70));

    // When / Then
    assertThatThrownBy(config::validate)
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("arms[*].weight")
        .hasMessageContaining("was 70");
  }

  @Test
  void loadsShadowsAndKnownSlotsIntoTheInitialTable() {
    // Given
    Map<String, Object> userConfig =
        Map.of(
            "arms",
            List.of(arm("champion", 100)),
            "shadows",
            List.of(Map.of("name", "candidate", "slot", "challenger", "mirrorPercent", "10")),
            "slots",
            List.of("champion", "challenger", "spare"),
            "routingVersion",
            "t1");

    // When
    RouteConfig config = StageConfigs.load(userConfig, RouteConfig.class);

    // Then
    assertThat(config.knownSlots()).containsExactly("champion", "challenger", "spare");
    assertThat(config.toTable().getVersion()).isEqualTo("t1");
    assertThat(config.toTable().getArms(0).getModelSlot()).isEqualTo("champion");
    assertThat(config.toTable().getShadows(0).getMirrorPercent()).isEqualTo(10);
    assertThat(config.toTable().getShadows(0).getModelSlot()).isEqualTo("challenger");
  }

  @Test
  void knownSlotsDefaultToThoseOfTheInitialTable() {
    RouteConfig config =
        StageConfigs.load(
            Map.of(
                "arms",
                List.of(arm("champion", 70), arm("challenger", "v2", 30)),
                "shadows",
                List.of(Map.of("name", "v3", "mirrorPercent", 5))),
            RouteConfig.class);

    assertThat(config.knownSlots()).containsExactly("champion", "v2", "v3");
  }

  static Stream<Arguments> invalidShadowsAndSlots() {
    return Stream.of(
        arguments(
            "an arm outside the slots",
            Map.of("arms", List.of(arm("champion", 100)), "slots", List.of("challenger")),
            "userConfig.arms[0].slot: must be one of the slots [challenger], was champion"),
        arguments(
            "a shadow outside the slots",
            Map.of(
                "arms",
                List.of(arm("champion", 100)),
                "shadows",
                List.of(Map.of("name", "x", "mirrorPercent", 5)),
                "slots",
                List.of("champion")),
            "userConfig.shadows[0].slot: must be one of the slots [champion], was x"),
        arguments(
            "a mirror percent above 100",
            Map.of(
                "arms",
                List.of(arm("champion", 100)),
                "shadows",
                List.of(Map.of("name", "x", "mirrorPercent", 101))),
            "userConfig.shadows[0].mirrorPercent: must be between 0 and 100, was 101"),
        arguments(
            "a shadow named like an arm",
            Map.of(
                "arms",
                List.of(arm("champion", 100)),
                "shadows",
                List.of(Map.of("name", "champion", "mirrorPercent", 1))),
            "userConfig.shadows[0].name: must be unique among the arms and shadows, was champion"),
        arguments(
            "no slots",
            Map.of("arms", List.of(arm("champion", 100)), "slots", List.of()),
            "userConfig.slots: must list at least one slot"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidShadowsAndSlots")
  void rejectsInvalidShadowsAndSlotsNamingTheField(
      String problem, Map<String, Object> userConfig, String message) {
    assertThatThrownBy(() -> StageConfigs.load(userConfig, RouteConfig.class))
        .as(problem)
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(message);
  }
}
