package io.decisionflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UserConfigOverridesTest {

  @Test
  void parseGroupsKeysByFunctionAndTypesTheValues() {
    // Given settings of three functions
    List<String> sets =
        List.of(
            "decide.threshold=0.6",
            "score-champion.modelLocation=/models/fraud-v1",
            "score-champion.maxBatchWaitMs=0",
            "route.debug=true",
            "enrich.featureSpecVersion=v3");

    // When they are parsed
    Map<String, Map<String, Object>> overrides = UserConfigOverrides.parse(sets);

    // Then each function has its keys, numbers and booleans typed, the rest as text
    assertThat(overrides)
        .containsExactly(
            Map.entry("decide", Map.of("threshold", 0.6)),
            Map.entry(
                "score-champion",
                Map.of("modelLocation", "/models/fraud-v1", "maxBatchWaitMs", 0L)),
            Map.entry("route", Map.of("debug", true)),
            Map.entry("enrich", Map.of("featureSpecVersion", "v3")));
  }

  @Test
  void parseKeepsTextThatOnlyLooksLikeANumberAsText() {
    // Given values Java would read as numbers, but that are not plain decimals
    List<String> sets =
        List.of("a.f=1f", "a.hex=0x10", "a.nan=NaN", "a.big=99999999999999999999", "a.exp=1e3");

    // When they are parsed
    Map<String, Object> a = UserConfigOverrides.parse(sets).get("a");

    // Then only the plain decimal becomes a number
    assertThat(a)
        .containsEntry("f", "1f")
        .containsEntry("hex", "0x10")
        .containsEntry("nan", "NaN")
        .containsEntry("big", "99999999999999999999")
        .containsEntry("exp", 1000.0);
  }

  @Test
  void parseKeepsEqualsSignsAndDotsInTheValue() {
    // Given a value that contains '=' and '.'
    List<String> sets = List.of("score-champion.modelLocation=file:/m/a=b.c");

    // When it is parsed
    Map<String, Map<String, Object>> overrides = UserConfigOverrides.parse(sets);

    // Then the value is everything after the first '='
    assertThat(overrides)
        .isEqualTo(Map.of("score-champion", Map.of("modelLocation", "file:/m/a=b.c")));
  }

  @Test
  void parseLetsALaterSettingOfTheSameKeyWin() {
    // Given the same key set twice, and a nested key set under a key that held a value
    List<String> sets =
        List.of("decide.threshold=0.6", "decide.threshold=0.7", "fused.x=1", "fused.x.y=2");

    // When they are parsed
    Map<String, Map<String, Object>> overrides = UserConfigOverrides.parse(sets);

    // Then the last one counts
    assertThat(overrides)
        .isEqualTo(
            Map.of("decide", Map.of("threshold", 0.7), "fused", Map.of("x", Map.of("y", 2L))));
  }

  @Test
  void parseTurnsADottedKeyIntoNestedSettings() {
    // Given two settings inside the fused function's enrich map
    List<String> sets =
        List.of("fused.enrich.stateFlushDelayMs=200", "fused.enrich.maxCachedCards=5000");

    // When they are parsed
    Map<String, Map<String, Object>> overrides = UserConfigOverrides.parse(sets);

    // Then both sit in one nested map
    assertThat(overrides)
        .isEqualTo(
            Map.of(
                "fused",
                Map.of("enrich", Map.of("stateFlushDelayMs", 200L, "maxCachedCards", 5000L))));
  }

  @Test
  void parseOfNothingIsEmpty() {
    assertThat(UserConfigOverrides.parse(List.of())).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"threshold=1", ".x=1", "a.b", "a=b.c", "=1", "decide.=1", "a..b=1", "a.b.=1", ""})
  void parseRejectsAMalformedEntryQuotingIt(String set) {
    // Given an entry that is not FUNCTION.KEY=VALUE

    // When it is parsed
    // Then it fails quoting the entry and showing the expected form
    assertThatThrownBy(() -> UserConfigOverrides.parse(List.of("decide.threshold=0.6", set)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + set + "'")
        .hasMessageContaining("FUNCTION.KEY=VALUE");
  }

  @Test
  void mergeMergesNestedMapsKeyByKeyAndReplacesEverythingElse() {
    // Given a base with a nested map, a list and a value
    Map<String, Object> base = new LinkedHashMap<>();
    base.put("enrich", Map.of("featureSpecVersion", "v3", "maxCachedCards", 100000));
    base.put("arms", List.of("champion", "challenger"));
    base.put("threshold", 0.2);
    Map<String, Object> before = Map.copyOf(base);

    // When overrides of one nested key, the list and the value are merged in
    Map<String, Object> merged =
        UserConfigOverrides.merge(
            base,
            Map.of(
                "enrich",
                Map.of("maxCachedCards", 5000L),
                "arms",
                List.of("champion"),
                "threshold",
                0.4,
                "debug",
                true));

    // Then the nested map keeps its other key, the list and the value are replaced, new keys
    // join, and the base is unchanged
    assertThat(merged)
        .containsEntry("enrich", Map.of("featureSpecVersion", "v3", "maxCachedCards", 5000L))
        .containsEntry("arms", List.of("champion"))
        .containsEntry("threshold", 0.4)
        .containsEntry("debug", true);
    assertThat(base).isEqualTo(before);
  }

  @Test
  void mergeReplacesAValueWithAMapAndAMapWithAValue() {
    Map<String, Object> merged =
        UserConfigOverrides.merge(
            Map.of("a", 1, "b", Map.of("x", 1)), Map.of("a", Map.of("y", 2), "b", "off"));

    assertThat(merged).isEqualTo(Map.of("a", Map.of("y", 2), "b", "off"));
  }

  @Test
  void mergeByFunctionMergesEachFunctionsOverrides() {
    // Given model locations for every score function and the fused slots, then --set settings
    Map<String, Map<String, Object>> earlier =
        Map.of(
            "score-champion", Map.of("modelLocation", "/m/v1"),
            "fused", Map.of("slots", Map.of("champion", Map.of("modelLocation", "/m/v1"))));
    Map<String, Map<String, Object>> later =
        UserConfigOverrides.parse(
            List.of("fused.slots.champion.maxBatchWaitMs=2", "decide.threshold=0.3"));

    // When they are merged
    Map<String, Map<String, Object>> merged = UserConfigOverrides.mergeByFunction(earlier, later);

    // Then each function has both, nested ones merged
    assertThat(merged)
        .isEqualTo(
            Map.of(
                "score-champion", Map.of("modelLocation", "/m/v1"),
                "fused",
                    Map.of(
                        "slots",
                        Map.of("champion", Map.of("modelLocation", "/m/v1", "maxBatchWaitMs", 2L))),
                "decide", Map.of("threshold", 0.3)));
  }
}
