package io.decisionflow.stages.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.decisionflow.schemas.control.RoutingArm;
import io.decisionflow.schemas.control.RoutingTable;
import io.decisionflow.schemas.control.ShadowArm;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RoutingTablesTest {

  private static final Set<String> SLOTS = Set.of("champion", "challenger");

  private static RoutingArm arm(String name, String slot, int weight) {
    return RoutingArm.newBuilder().setName(name).setModelSlot(slot).setWeight(weight).build();
  }

  private static ShadowArm shadow(String name, String slot, int percent) {
    return ShadowArm.newBuilder()
        .setName(name)
        .setModelSlot(slot)
        .setMirrorPercent(percent)
        .build();
  }

  private static RoutingTable table(RoutingArm... arms) {
    return RoutingTable.newBuilder().setVersion("v2").addAllArms(List.of(arms)).build();
  }

  @Test
  void acceptsAValidTableWithShadows() {
    RoutingTable table =
        table(arm("champion", "champion", 70), arm("challenger", "challenger", 30)).toBuilder()
            .addShadows(shadow("candidate", "challenger", 10))
            .build();

    assertThat(RoutingTables.problems(table, SLOTS)).isEmpty();
    assertThat(RoutingTables.validate(table, SLOTS)).isSameAs(table);
  }

  static Stream<Arguments> invalidTables() {
    return Stream.of(
        arguments(
            "weights adding up to 90",
            table(arm("a", "champion", 60), arm("b", "challenger", 30)),
            "arms[*].weight: must add up to 100, was 90"),
        arguments(
            "an unknown slot",
            table(arm("a", "champion", 60), arm("b", "fraud-v9", 40)),
            "arms[1].model_slot: unknown slot 'fraud-v9'; the pipeline serves challenger,"
                + " champion"),
        arguments(
            "no deciding arm", table(), "arms: must list at least one deciding arm, was none"),
        arguments(
            "every weight 0",
            table(arm("a", "champion", 0)),
            "arms: leaves no deciding arm (every weight is 0)"),
        arguments(
            "a weight above 100",
            table(arm("a", "champion", 150), arm("b", "challenger", -50)),
            "arms[0].weight: must be between 0 and 100, was 150"),
        arguments(
            "duplicate arm names",
            table(arm("a", "champion", 50), arm("a", "challenger", 50)),
            "arms[1].name: must be unique among the arms and shadows, was a"),
        arguments(
            "an arm without name", table(arm("", "champion", 100)), "arms[0].name: is required"),
        arguments(
            "a slot that cannot be a topic",
            table(arm("a", "Champion", 100)),
            "arms[0].model_slot: model slot must be lower-case letters"),
        arguments(
            "no version",
            table(arm("a", "champion", 100)).toBuilder().setVersion(" ").build(),
            "version: is required"),
        arguments(
            "a shadow of an unknown slot",
            table(arm("a", "champion", 100)).toBuilder()
                .addShadows(shadow("s", "nowhere", 5))
                .build(),
            "shadows[0].model_slot: unknown slot 'nowhere'"),
        arguments(
            "a shadow named like an arm",
            table(arm("a", "champion", 100)).toBuilder()
                .addShadows(shadow("a", "challenger", 5))
                .build(),
            "shadows[0].name: must be unique among the arms and shadows, was a"),
        arguments(
            "a mirror percent above 100",
            table(arm("a", "champion", 100)).toBuilder()
                .addShadows(shadow("s", "challenger", 101))
                .build(),
            "shadows[0].mirror_percent: must be between 0 and 100, was 101"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidTables")
  void refusesNamingTheFieldAndTheValue(String problem, RoutingTable table, String reason) {
    assertThatThrownBy(() -> RoutingTables.validate(table, SLOTS))
        .as(problem)
        .isInstanceOf(RoutingTables.InvalidRoutingTableException.class)
        .hasMessageStartingWith("routing table '" + table.getVersion() + "' refused: ")
        .hasMessageContaining(reason);
  }

  @Test
  void listsEveryProblem() {
    RoutingTable table = table(arm("a", "nowhere", 60), arm("a", "champion", 30));

    RoutingTables.InvalidRoutingTableException refused =
        (RoutingTables.InvalidRoutingTableException)
            org.assertj.core.api.Assertions.catchThrowable(
                () -> RoutingTables.validate(table, SLOTS));

    assertThat(refused.problems())
        .containsExactly(
            "arms[0].model_slot: unknown slot 'nowhere'; the pipeline serves challenger, champion",
            "arms[1].name: must be unique among the arms and shadows, was a",
            "arms[*].weight: must add up to 100, was 90");
    assertThat(refused.reason()).isEqualTo(String.join("; ", refused.problems()));
  }
}
