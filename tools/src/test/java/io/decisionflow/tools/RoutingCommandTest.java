package io.decisionflow.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.decisionflow.schemas.control.RoutingTable;
import io.decisionflow.stages.route.RoutingTables;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class RoutingCommandTest {

  private static RoutingCommand.SetTable parse(String... args) {
    RoutingCommand.SetTable set = new RoutingCommand.SetTable();
    new CommandLine(set).parseArgs(args);
    return set;
  }

  /** Runs {@code decisionflow <args>} without a cluster; returns exit code and stderr. */
  private static String[] run(String... args) {
    CommandLine cli = DecisionflowCli.commandLine();
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err));
    cli.setOut(new PrintWriter(new StringWriter()));
    int code = cli.execute(args);
    return new String[] {String.valueOf(code), err.toString()};
  }

  @Test
  void buildsTheTableFromArmsAndShadowsInOrder() {
    // When
    RoutingTable table =
        parse(
                "--unit",
                "payments",
                "--arm",
                "champion=champion:70",
                "--arm",
                "challenger:30",
                "--shadow",
                "candidate=challenger:10%",
                "--version",
                "t-2",
                "--reason",
                "more for v2")
            .table();

    // Then
    assertThat(RoutingTables.describe(table))
        .isEqualTo(
            "champion=champion:70, challenger=challenger:30; shadows candidate=challenger:10%");
    assertThat(table.getVersion()).isEqualTo("t-2");
    assertThat(table.getReason()).isEqualTo("more for v2");
    assertThat(RoutingTables.problems(table, Set.of("champion", "challenger"))).isEmpty();
  }

  @Test
  void anArmThatDoesNotParseIsNamedWithItsOptionAndValue() {
    String[] result = run("routing", "set", "--arm", "champion=70", "--version", "t");

    assertThat(result[0]).isEqualTo("2");
    assertThat(result[1])
        .contains("Invalid value for option '--arm'")
        .contains("'champion=70' is not <name>=<slot>:<percent>");
  }

  @Test
  void aWeightAbove100IsNamedWithItsOptionAndValue() {
    String[] result = run("routing", "set", "--arm", "a=champion:170", "--version", "t");

    assertThat(result[0]).isEqualTo("2");
    assertThat(result[1])
        .contains("Invalid value for option '--arm'")
        .contains("'a=champion:170': percent must be between 0 and 100, was 170");
  }

  @Test
  void aShadowThatDoesNotParseIsNamedWithItsOption() {
    String[] result =
        run(
            "routing",
            "set",
            "--arm",
            "champion:100",
            "--shadow",
            "candidate=challenger",
            "--version",
            "t");

    assertThat(result[0]).isEqualTo("2");
    assertThat(result[1])
        .contains("Invalid value for option '--shadow'")
        .contains("'candidate=challenger'");
  }

  @Test
  void armsAndVersionAreRequired() {
    String[] result = run("routing", "set", "--unit", "payments");

    assertThat(result[0]).isEqualTo("2");
    assertThat(result[1])
        .contains("Missing required options")
        .contains("--arm")
        .contains("--version");
  }

  @Test
  void aTableThatBreaksARuleIsRefusedBeforeAnyClusterIsContacted() {
    // Given weights of 90 and an unknown slot; the cluster URLs point nowhere
    String[] result =
        run(
            "routing",
            "set",
            "--project-dir",
            "..",
            "--service-url",
            "pulsar://127.0.0.1:1",
            "--arm",
            "champion:60",
            "--arm",
            "v9=fraud-v9:30",
            "--version",
            "t-3");

    // Then
    assertThat(result[0]).isEqualTo("1");
    assertThat(result[1])
        .contains("error: routing table 't-3' refused: ")
        .contains(
            "arms[1].model_slot: unknown slot 'fraud-v9'; the pipeline serves challenger, champion")
        .contains("arms[*].weight: must add up to 100, was 90");
  }

  @Test
  void showNamesWhoPublishedATableAndWhy() {
    // Given a table published by the guard
    RoutingTable rollback =
        RoutingTable.newBuilder()
            .setVersion("t-2-rollback-challenger")
            .addArms(
                io.decisionflow.schemas.control.RoutingArm.newBuilder()
                    .setName("champion")
                    .setModelSlot("champion")
                    .setWeight(100))
            .addArms(
                io.decisionflow.schemas.control.RoutingArm.newBuilder()
                    .setName("challenger")
                    .setModelSlot("challenger")
                    .setWeight(0))
            .setPublishedAtMs(0)
            .setPublishedBy("guard")
            .setReason(
                "arm challenger: fallback rate 100.0% over the last 60 s (63 of 63"
                    + " decisions) exceeds 20%")
            .build();

    // When / Then its line in `routing show` says by whom and why
    assertThat(RoutingCommand.ShowTable.line(rollback))
        .isEqualTo(
            "t-2-rollback-challenger: champion=champion:100, challenger=challenger:0  (published"
                + " 1970-01-01T00:00:00Z by guard; reason: arm challenger: fallback rate 100.0%"
                + " over the last 60 s (63 of 63 decisions) exceeds 20%)");
  }
}
