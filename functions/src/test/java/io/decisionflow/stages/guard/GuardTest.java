package io.decisionflow.stages.guard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.control.RoutingArm;
import io.decisionflow.schemas.control.RoutingTable;
import io.decisionflow.schemas.control.ShadowArm;
import io.decisionflow.stages.ConfigException;
import io.decisionflow.stages.MutableClock;
import io.decisionflow.stages.StageConfigs;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class GuardTest {

  private final MutableClock clock = new MutableClock(Instant.parse("2026-06-01T10:00:00Z"));

  private static RoutingTable table(String version, int champion, int challenger) {
    return RoutingTable.newBuilder()
        .setVersion(version)
        .addArms(arm("champion", champion))
        .addArms(arm("challenger", challenger))
        .addShadows(
            ShadowArm.newBuilder().setName("candidate").setModelSlot("v3").setMirrorPercent(10))
        .setPublishedBy("alice")
        .build();
  }

  private static RoutingArm arm(String name, int weight) {
    return RoutingArm.newBuilder().setName(name).setModelSlot(name).setWeight(weight).build();
  }

  private Decision decision(String arm, boolean fallback, boolean alert, long latencyMs) {
    long now = clock.millis();
    return Decision.newBuilder()
        .setArm(arm)
        .setModelSlot(arm)
        .setRoutingVersion("v1")
        .setFallback(fallback)
        .setOutcome(alert ? "ALERT" : "OK")
        .setRoutedAtMs(now - latencyMs - 5)
        .setScoredAtMs(now - 5)
        .setDecidedAtMs(now)
        .build();
  }

  private static GuardConfig config(Map<String, Object> settings) {
    return StageConfigs.load(settings, GuardConfig.class);
  }

  private Guard guard() {
    Guard guard = new Guard(config(Map.of()), clock);
    guard.table(table("v1", 50, 50));
    return guard;
  }

  private static void feed(Guard guard, int n, Decision d) {
    for (int i = 0; i < n; i++) {
      guard.record(d);
    }
  }

  @Test
  void theWindowForgetsDecisionsOlderThanItsLength() {
    // Given a 60 s window with 10 decisions now and 5 decisions 30 s later
    ArmWindow window = new ArmWindow(60, clock);
    for (int i = 0; i < 10; i++) {
      assertThat(window.add(clock.millis(), true, false, 20)).isTrue();
    }
    clock.advance(Duration.ofSeconds(30));
    for (int i = 0; i < 5; i++) {
      window.add(clock.millis(), false, true, 20);
    }
    assertThat(window.totals()).isEqualTo(new ArmWindow.Totals(15, 10, 5, 15, 30));

    // When 31 more seconds pass, the first ten are older than the window
    clock.advance(Duration.ofSeconds(31));
    // Then only the later five count, and a decision stamped 61 s ago is not counted
    assertThat(window.totals().decisions()).isEqualTo(5);
    assertThat(window.totals().fallbacks()).isZero();
    assertThat(window.add(clock.millis() - 61_000, true, false, 1)).isFalse();

    // And after 60 s without decisions the window is empty, its ring reused
    clock.advance(Duration.ofSeconds(60));
    assertThat(window.totals().decisions()).isZero();
    window.add(clock.millis(), true, false, -1);
    assertThat(window.totals()).isEqualTo(new ArmWindow.Totals(1, 1, 0, 0, 0));
  }

  @Test
  void p99IsTheUpperEdgeOfTheBinThatHoldsIt() {
    ArmWindow window = new ArmWindow(60, clock);
    for (int i = 0; i < 99; i++) {
      window.add(clock.millis(), false, false, 12);
    }
    window.add(clock.millis(), false, false, 5_000);
    assertThat(window.totals().p99Ms()).isEqualTo(20);
    window.add(clock.millis(), false, false, 5_000);
    assertThat(window.totals().p99Ms()).isEqualTo(6_000);
    assertThat(ArmWindow.upperEdge(ArmWindow.bin(120_000))).isEqualTo(60_000);
  }

  @Test
  void aChallengerAboveTheFallbackBoundIsRolledBackWithTheReason() {
    // Given 63 challenger decisions, all scored by the fallback rules
    Guard guard = guard();
    feed(guard, 60, decision("champion", false, false, 10));
    feed(guard, 63, decision("challenger", true, false, 10));

    // When the arms are judged
    Optional<Guard.Verdict> verdict = guard.judge();

    // Then the challenger breaks the fallback bound, and the reason names value and bound
    assertThat(verdict).isPresent();
    assertThat(verdict.get().breaches())
        .extracting(Guard.Breach::arm)
        .containsExactly("challenger");
    assertThat(verdict.get().reason())
        .isEqualTo(
            "arm challenger: fallback rate 100.0% over the last 60 s (63 of 63 decisions) exceeds"
                + " 20%");
  }

  @Test
  void fewerThanMinRecordsAreNotJudged() {
    Guard guard = guard();
    feed(guard, 49, decision("challenger", true, false, 10));
    assertThat(guard.judge()).isEmpty();
    feed(guard, 1, decision("challenger", true, false, 10));
    assertThat(guard.judge()).isPresent();
  }

  @Test
  void aFallbackRateAtTheBoundIsNotABreach() {
    Guard guard = guard();
    feed(guard, 80, decision("challenger", false, false, 10));
    feed(guard, 20, decision("challenger", true, false, 10));
    assertThat(guard.judge()).isEmpty();
    feed(guard, 1, decision("challenger", true, false, 10));
    assertThat(guard.judge()).isPresent();
  }

  @Test
  void theChampionIsNeverRolledBack() {
    // Given a champion whose every decision is a fallback, and a healthy challenger
    Guard guard = guard();
    feed(guard, 100, decision("champion", true, true, 900));
    feed(guard, 100, decision("challenger", false, false, 10));

    // When / Then
    assertThat(guard.judge()).isEmpty();
  }

  @Test
  void anAlertRateTooManyTimesTheChampionsBreaks() {
    // Given a champion alerting 4 of 200 (2%) and a challenger 14 of 200 (7%, 3.5 times)
    Guard guard = guard();
    feed(guard, 196, decision("champion", false, false, 10));
    feed(guard, 4, decision("champion", false, true, 10));
    feed(guard, 186, decision("challenger", false, false, 10));
    feed(guard, 14, decision("challenger", false, true, 10));

    // When / Then
    Guard.Verdict verdict = guard.judge().orElseThrow();
    assertThat(verdict.breaches().get(0).kpi()).isEqualTo("alert_rate_ratio");
    assertThat(verdict.reason())
        .isEqualTo(
            "arm challenger: alert rate 7.0% over the last 60 s (14 of 200 decisions) is 3.5"
                + " times the champion's 2.0% (4 of 200), exceeds 3x");
  }

  @Test
  void anAlertRateOnFewerThanMinAlertsIsNotJudged() {
    // Given a challenger alerting 9 of 100 against a champion's 1 of 100: 9 times, but 9 alerts
    Guard guard = guard();
    feed(guard, 99, decision("champion", false, false, 10));
    feed(guard, 1, decision("champion", false, true, 10));
    feed(guard, 91, decision("challenger", false, false, 10));
    feed(guard, 9, decision("challenger", false, true, 10));
    assertThat(guard.judge()).isEmpty();

    // When a tenth alert comes, it is judged
    feed(guard, 1, decision("challenger", false, true, 10));
    assertThat(guard.judge().orElseThrow().breaches().get(0).kpi()).isEqualTo("alert_rate_ratio");
  }

  @Test
  void aMachineSlowForEveryArmIsNotTheArmsFault() {
    // Given both arms at 700 ms p99, above the 500 ms bound
    Guard guard = guard();
    feed(guard, 100, decision("champion", false, false, 700));
    feed(guard, 100, decision("challenger", false, false, 700));
    assertThat(guard.judge()).isEmpty();

    // When the challenger alone gets more than twice as slow as the champion, it breaks
    feed(guard, 10, decision("challenger", false, false, 1500));
    assertThat(guard.judge().orElseThrow().reason())
        .isEqualTo(
            "arm challenger: p99 latency route to score 1510 ms over the last 60 s (110"
                + " decisions) exceeds 500 ms and 2x the champion's 710 ms");
  }

  @Test
  void theAlertRateIsNotJudgedUntilTheChampionHasMinRecords() {
    Guard guard = guard();
    feed(guard, 49, decision("champion", false, false, 10));
    feed(guard, 100, decision("challenger", false, true, 10));
    assertThat(guard.judge()).isEmpty();
    feed(guard, 1, decision("champion", false, false, 10));
    assertThat(guard.judge().orElseThrow().reason())
        .contains("is 50.0 times the champion's 0.0% (0 of 50, counted as 1)");
  }

  @Test
  void anAlertRateWithinTheRatioIsNotABreach() {
    Guard guard = guard();
    feed(guard, 90, decision("champion", false, false, 10));
    feed(guard, 10, decision("champion", false, true, 10));
    feed(guard, 70, decision("challenger", false, false, 10));
    feed(guard, 30, decision("challenger", false, true, 10));
    assertThat(guard.judge()).isEmpty();
  }

  @Test
  void aP99LatencyAboveTheBoundBreaks() {
    // Given a challenger whose route-to-score latency is 900 ms for 1, then 2, of 100 decisions
    Guard guard = guard();
    feed(guard, 99, decision("challenger", false, false, 40));
    feed(guard, 1, decision("challenger", false, false, 900));
    assertThat(guard.judge()).as("1%% slow: p99 still fast").isEmpty();
    feed(guard, 1, decision("challenger", false, false, 900));

    // When / Then
    assertThat(guard.judge().orElseThrow().reason())
        .isEqualTo(
            "arm challenger: p99 latency route to score 910 ms over the last 60 s (101 decisions)"
                + " exceeds 500 ms");
  }

  @Test
  void decisionsOfAnotherTableVersionOrArmDoNotCount() {
    Guard guard = guard();
    Decision old =
        decision("challenger", true, false, 10).toBuilder().setRoutingVersion("v0").build();
    assertThat(guard.record(old)).isFalse();
    assertThat(guard.record(decision("candidate", true, false, 10))).isFalse();
    assertThat(guard.totals("challenger").orElseThrow().decisions()).isZero();
  }

  @Test
  void actsOncePerTableVersionAndNotAgainWithinTheCooldown() {
    // Given a failing challenger that was rolled back
    Guard guard = guard();
    feed(guard, 60, decision("challenger", true, false, 10));
    Guard.Verdict verdict = guard.judge().orElseThrow();

    // When more failures of the same table come
    feed(guard, 60, decision("challenger", true, false, 10));
    // Then the guard does not act on that version again
    assertThat(guard.judge()).isEmpty();

    // And under a new table where it fails again, not within the cooldown
    RoutingTable next = table("v2", 50, 50);
    guard.table(next);
    for (int i = 0; i < 60; i++) {
      guard.record(
          decision("challenger", true, false, 10).toBuilder().setRoutingVersion("v2").build());
    }
    assertThat(guard.judge()).isEmpty();
    clock.advance(Duration.ofSeconds(30));
    for (int i = 0; i < 60; i++) {
      guard.record(
          decision("challenger", true, false, 10).toBuilder().setRoutingVersion("v2").build());
    }
    assertThat(guard.judge()).isEmpty();
    clock.advance(Duration.ofSeconds(31));
    for (int i = 0; i < 60; i++) {
      guard.record(
          decision("challenger", true, false, 10).toBuilder().setRoutingVersion("v2").build());
    }
    assertThat(guard.judge()).isPresent();

    // And a rollback that could not be published may be retried
    Guard again = guard();
    feed(again, 60, decision("challenger", true, false, 10));
    Guard.Verdict first = again.judge().orElseThrow();
    again.failed(first);
    assertThat(verdict.table().getVersion()).isEqualTo("v1");
    assertThat(new Guard(config(Map.of("cooldownSeconds", 0)), clock)).isNotNull();
  }

  @Test
  void aRetryAfterAFailedPublishWaitsForTheCooldown() {
    Guard guard = new Guard(config(Map.of("cooldownSeconds", 10)), clock);
    guard.table(table("v1", 50, 50));
    feed(guard, 60, decision("challenger", true, false, 10));
    guard.failed(guard.judge().orElseThrow());
    assertThat(guard.judge()).isEmpty();
    clock.advance(Duration.ofSeconds(10));
    assertThat(guard.judge()).isPresent();
  }

  @Test
  void observeJudgesAtMostOnceASecond() {
    Guard guard = guard();
    assertThat(guard.observe(decision("challenger", true, false, 10))).isEmpty();
    for (int i = 0; i < 60; i++) {
      assertThat(guard.observe(decision("challenger", true, false, 10))).isEmpty();
    }
    clock.advance(Duration.ofSeconds(1));
    assertThat(guard.observe(decision("challenger", true, false, 10))).isPresent();
  }

  @Test
  void theRollbackTableMovesTheArmsWeightToTheChampion() {
    // Given a verdict against the challenger of a 30/70 table (challenger listed first)
    Guard guard = new Guard(config(Map.of()), clock);
    RoutingTable old =
        RoutingTable.newBuilder()
            .setVersion("2026-06-01")
            .addArms(arm("challenger", 70))
            .addArms(arm("champion", 30))
            .addShadows(
                ShadowArm.newBuilder().setName("candidate").setModelSlot("v3").setMirrorPercent(10))
            .build();
    guard.table(old);
    feed(
        guard,
        60,
        decision("challenger", true, false, 10).toBuilder()
            .setRoutingVersion("2026-06-01")
            .build());
    Guard.Verdict verdict = guard.judge().orElseThrow();

    // When its rollback table is built
    RoutingTable rollback = guard.rollback(verdict);

    // Then the challenger weighs 0, the champion 100, in the same order, shadows kept
    assertThat(rollback.getArmsList()).containsExactly(arm("challenger", 0), arm("champion", 100));
    assertThat(rollback.getArmsList().stream().mapToInt(RoutingArm::getWeight).sum())
        .isEqualTo(100);
    assertThat(rollback.getShadowsList()).isEqualTo(old.getShadowsList());
    assertThat(rollback.getVersion()).isEqualTo("2026-06-01-rollback-challenger");
    assertThat(rollback.getPublishedBy()).isEqualTo("guard");
    assertThat(rollback.getPublishedAtMs()).isEqualTo(clock.millis());
    assertThat(rollback.getReason())
        .startsWith("arm challenger: fallback rate 100.0%")
        .isEqualTo(verdict.reason());
  }

  @Test
  void aTableWithoutTheChampionArmIsNeverJudged() {
    Guard guard = new Guard(config(Map.of("championArm", "incumbent")), clock);
    guard.table(table("v1", 50, 50));
    feed(guard, 60, decision("challenger", true, false, 10));
    assertThat(guard.judge()).isEmpty();
    Guard.Verdict forced =
        new Guard.Verdict(
            table("v1", 50, 50),
            java.util.List.of(new Guard.Breach("challenger", "fallback_rate", "x")));
    assertThatThrownBy(() -> guard.rollback(forced)).hasMessageContaining("has no arm 'incumbent'");
  }

  @Test
  void theConfigRefusesBadBoundsNamingTheField() {
    assertThatThrownBy(() -> config(Map.of("maxFallbackRatePercent", 120)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("userConfig.maxFallbackRatePercent")
        .hasMessageContaining("120");
    assertThatThrownBy(() -> config(Map.of("windowSeconds", "0")))
        .hasMessageContaining("userConfig.windowSeconds");
    assertThatThrownBy(() -> config(Map.of("minRecords", 0)))
        .hasMessageContaining("userConfig.minRecords");
    assertThatThrownBy(() -> config(Map.of("maxAlertRateRatio", 0)))
        .hasMessageContaining("userConfig.maxAlertRateRatio");
    assertThatThrownBy(() -> config(Map.of("championArm", " ")))
        .hasMessageContaining("userConfig.championArm");
    assertThatThrownBy(() -> config(Map.of("maxP99LatencyMs", -1)))
        .hasMessageContaining("userConfig.maxP99LatencyMs");
    assertThatThrownBy(() -> config(Map.of("cooldownSeconds", -1)))
        .hasMessageContaining("userConfig.cooldownSeconds");
    assertThatThrownBy(() -> config(Map.of("windowSecs", 60)))
        .hasMessageContaining("unknown setting");
    GuardConfig defaults = config(Map.of("windowSeconds", "30"));
    assertThat(defaults.windowSeconds).isEqualTo(30);
    assertThat(defaults.championArm).isEqualTo("champion");
  }
}
