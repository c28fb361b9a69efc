package io.decisionflow.functions.probe;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProbeLinesTest {

  @Test
  void readsKeyValuePairsInOrderAndIgnoresOtherWords() {
    assertThat(ProbeLines.parse("  mode=put updates=200 noise inFlight=16 =x "))
        .containsExactly(
            java.util.Map.entry("mode", "put"),
            java.util.Map.entry("updates", "200"),
            java.util.Map.entry("inFlight", "16"));
  }
}
