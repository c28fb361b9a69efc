package io.decisionflow.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DeployCommandTest {

  @Test
  void parseSetsGroupsKeysByFunction() {
    // Given settings of two functions
    List<String> sets =
        List.of(
            "decide.threshold=0.6",
            "score-champion.modelLocation=/models/fraud-v1",
            "decide.thresholds=0.7");

    // When they are parsed
    Map<String, Map<String, Object>> overrides = DeployCommand.parseSets(sets);

    // Then each function has its keys, as strings
    assertThat(overrides)
        .containsExactly(
            Map.entry("decide", Map.of("threshold", "0.6", "thresholds", "0.7")),
            Map.entry("score-champion", Map.of("modelLocation", "/models/fraud-v1")));
  }

  @Test
  void parseSetsKeepsEqualsSignsAndDotsInTheValue() {
    // Given a value that contains '=' and '.'
    List<String> sets = List.of("score-champion.modelLocation=file:/m/a=b.c");

    // When it is parsed
    Map<String, Map<String, Object>> overrides = DeployCommand.parseSets(sets);

    // Then the value is everything after the first '='
    assertThat(overrides)
        .isEqualTo(Map.of("score-champion", Map.of("modelLocation", "file:/m/a=b.c")));
  }

  @Test
  void parseSetsLetsALaterSettingOfTheSameKeyWin() {
    // Given the same key set twice
    List<String> sets = List.of("decide.threshold=0.6", "decide.threshold=0.7");

    // When they are parsed
    Map<String, Map<String, Object>> overrides = DeployCommand.parseSets(sets);

    // Then the last one counts
    assertThat(overrides).isEqualTo(Map.of("decide", Map.of("threshold", "0.7")));
  }

  @Test
  void parseSetsOfNothingIsEmpty() {
    // Given no settings
    // When they are parsed
    // Then there are no overrides
    assertThat(DeployCommand.parseSets(List.of())).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"threshold=1", ".x=1", "a.b", "a=b.c", "=1", "decide.=1", ""})
  void parseSetsRejectsAMalformedEntryQuotingIt(String set) {
    // Given an entry that is not FUNCTION.KEY=VALUE

    // When it is parsed
    // Then it fails quoting the entry and showing the expected form
    assertThatThrownBy(() -> DeployCommand.parseSets(List.of("decide.threshold=0.6", set)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + set + "'")
        .hasMessageContaining("FUNCTION.KEY=VALUE");
  }
}
