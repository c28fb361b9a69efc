package io.decisionflow.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchmarkCommandTest {

  @Test
  void settingsBecomeTypedUserConfigOverridesPerFunction() {
    Map<String, Map<String, Object>> overrides =
        BenchmarkCommand.overrides(
            Map.of("fused", Map.of("slots", Map.of())),
            List.of(
                "score-champion.maxBatchWaitMs=0",
                "decide.threshold=0.3",
                "enrich.featureSpecVersion=v3",
                "route.debug=true",
                "score-champion.maxBatchSize=128"));

    assertThat(overrides.get("score-champion")).containsEntry("maxBatchWaitMs", 0L);
    assertThat(overrides.get("score-champion")).containsEntry("maxBatchSize", 128L);
    assertThat(overrides.get("decide")).containsEntry("threshold", 0.3);
    assertThat(overrides.get("enrich")).containsEntry("featureSpecVersion", "v3");
    assertThat(overrides.get("route")).containsEntry("debug", true);
    assertThat(overrides.get("fused")).containsKey("slots");
  }

  @Test
  void aNestedSettingOfTheFusedFunctionJoinsItsSlots() {
    Map<String, Map<String, Object>> overrides =
        BenchmarkCommand.overrides(
            Map.of("fused", Map.of("slots", Map.of("champion", Map.of("modelLocation", "/m")))),
            List.of("fused.slots.champion.maxBatchWaitMs=2", "fused.enrich.stateFlushDelayMs=200"));

    assertThat(overrides.get("fused"))
        .isEqualTo(
            Map.of(
                "slots", Map.of("champion", Map.of("modelLocation", "/m", "maxBatchWaitMs", 2L)),
                "enrich", Map.of("stateFlushDelayMs", 200L)));
  }

  @Test
  void aSettingWithoutFunctionOrValueIsRefused() {
    assertThatThrownBy(() -> BenchmarkCommand.overrides(Map.of(), List.of("threshold=0.3")))
        .hasMessageContaining("'threshold=0.3'")
        .hasMessageContaining("FUNCTION.KEY=VALUE");
    assertThatThrownBy(() -> BenchmarkCommand.overrides(Map.of(), List.of("decide.threshold")))
        .hasMessageContaining("FUNCTION.KEY=VALUE");
  }

  @Test
  void anUnknownTopologyIsRefusedBeforeAnythingRuns() {
    java.io.StringWriter err = new java.io.StringWriter();
    picocli.CommandLine cli = DecisionflowCli.commandLine();
    cli.setErr(new java.io.PrintWriter(err, true));

    int code =
        cli.execute("benchmark", "--topologies", "chained,turbo", "--admin-url", "http://x:1");

    assertThat(code).isNotZero();
    assertThat(err.toString())
        .contains("--topologies: unknown topology 'turbo'; known: ")
        .contains("fused");
  }
}
