package io.decisionflow.functions;

import static org.assertj.core.api.Assertions.assertThat;

import io.decisionflow.schemas.DeadLetter;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.control.RoutingArm;
import io.decisionflow.schemas.control.RoutingTable;
import io.decisionflow.stages.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The guard function follows the routing table and publishes a rollback for a failing arm. */
class GuardFunctionTest {

  private static final String NS = "persistent://payments/fraud/";
  private static final String ROUTING = NS + "routing";

  private final MutableClock clock = new MutableClock(Instant.parse("2026-06-01T10:00:00Z"));
  private FakeContext context;
  private RouteFunctionTablesTest.FakeTables tables;
  private GuardFunction guard;

  private void start(Map<String, Object> config, RoutingTable... announcedBefore) throws Exception {
    context = new FakeContext(config).withFunction("guard", List.of(NS + "decisions"), null);
    tables = new RouteFunctionTablesTest.FakeTables(announcedBefore);
    guard = new GuardFunction((ctx, topic) -> tables, clock);
    guard.initialize(context);
  }

  @AfterEach
  void close() {
    if (guard != null) {
      guard.close();
    }
  }

  private static RoutingTable table(String version, int champion, int challenger) {
    return RoutingTable.newBuilder()
        .setVersion(version)
        .addArms(arm("champion", champion))
        .addArms(arm("challenger", challenger))
        .build();
  }

  private static RoutingArm arm(String name, int weight) {
    return RoutingArm.newBuilder().setName(name).setModelSlot(name).setWeight(weight).build();
  }

  private void decide(String version, String arm, boolean fallback, int times) {
    for (int i = 0; i < times; i++) {
      long now = clock.millis();
      Decision d =
          Decision.newBuilder()
              .setTransactionId(arm + "-" + i)
              .setArm(arm)
              .setModelSlot(arm)
              .setRoutingVersion(version)
              .setFallback(fallback)
              .setOutcome("OK")
              .setRoutedAtMs(now - 30)
              .setScoredAtMs(now - 10)
              .setDecidedAtMs(now)
              .build();
      guard.process(d.toByteArray(), context).join();
    }
  }

  private List<RoutingTable> published() {
    return context.outputsTo(ROUTING, RoutingTable.class);
  }

  @Test
  void aChallengerScoredByFallbackIsRolledBackOnceWithTheReason() throws Exception {
    // Given the guard following a published 50/50 table
    start(Map.of(), table("t-1", 50, 50));

    // When the challenger's decisions are all fallback scores for a while
    decide("t-1", "champion", false, 60);
    decide("t-1", "challenger", true, 60);
    clock.advance(Duration.ofSeconds(1));
    decide("t-1", "challenger", true, 5);
    // (the guard judges at most once a second: at the first record of the new second)

    // Then one table is published on routing, keyed "table": challenger 0, champion 100
    assertThat(published()).hasSize(1);
    RoutingTable rollback = published().get(0);
    assertThat(rollback.getVersion()).isEqualTo("t-1-rollback-challenger");
    assertThat(rollback.getArmsList()).containsExactly(arm("champion", 100), arm("challenger", 0));
    assertThat(rollback.getPublishedBy()).isEqualTo("guard");
    assertThat(rollback.getReason())
        .isEqualTo(
            "arm challenger: fallback rate 100.0% over the last 60 s (61 of 61 decisions) exceeds"
                + " 20%");
    assertThat(
            context.outputs().stream()
                .filter(o -> o.topic().equals(ROUTING))
                .map(FakeContext.Output::key))
        .containsExactly("table");
    assertThat(guard.rollbacks()).isEqualTo(1);

    // And more failing decisions of the same table publish nothing more
    clock.advance(Duration.ofSeconds(2));
    decide("t-1", "challenger", true, 60);
    assertThat(published()).hasSize(1);

    // And once the rollback table is read back, the arm (weight 0) is no longer judged
    tables.announce(rollback);
    clock.advance(Duration.ofSeconds(120));
    decide("t-1-rollback-challenger", "challenger", true, 100);
    decide("t-1-rollback-challenger", "champion", false, 100);
    assertThat(published()).hasSize(1);
  }

  @Test
  void decisionsReplicatedFromAnotherRegionAreNotJudged() throws Exception {
    // Given the guard following a published 50/50 table
    start(Map.of(), table("t-1", 50, 50));

    // When the other region's challenger falls back on every decision, replicated here
    context.withCurrentRecord(
        FakeContext.input(NS + "decisions", "k", new byte[0]).replicatedFrom("eu-west"));
    decide("t-1", "champion", false, 60);
    decide("t-1", "challenger", true, 60);
    clock.advance(Duration.ofSeconds(1));
    decide("t-1", "challenger", true, 5);

    // Then nothing is rolled back here, and the skipped decisions are counted
    assertThat(published()).isEmpty();
    assertThat(guard.replicatedSkipped()).isEqualTo(125);

    // While the same decisions made in this region are judged
    context.withCurrentRecord(FakeContext.input(NS + "decisions", "k", new byte[0]));
    decide("t-1", "champion", false, 60);
    decide("t-1", "challenger", true, 60);
    clock.advance(Duration.ofSeconds(1));
    decide("t-1", "challenger", true, 5);
    assertThat(published()).hasSize(1);
  }

  @Test
  void withoutAPublishedTableItJudgesTheRouteFunctionsInitialTable() throws Exception {
    // Given no table published, and the route function's table passed in by the deploy
    start(
        Map.of(
            "minRecords",
            10,
            "routing",
            Map.of(
                "routingVersion",
                "static-1",
                "arms",
                List.of(
                    Map.of("name", "champion", "weight", 70),
                    Map.of("name", "challenger", "weight", 30)))));

    // When the challenger falls back for over a second
    decide("static-1", "challenger", true, 10);
    clock.advance(Duration.ofSeconds(1));
    decide("static-1", "challenger", true, 1);

    // Then its weight goes to the champion
    assertThat(published()).hasSize(1);
    assertThat(published().get(0).getArmsList())
        .containsExactly(arm("champion", 100), arm("challenger", 0));
    assertThat(published().get(0).getVersion()).isEqualTo("static-1-rollback-challenger");
  }

  @Test
  void aRecordThatIsNoDecisionIsDeadLettered() throws Exception {
    start(Map.of(), table("t-1", 50, 50));

    guard.process(new byte[] {(byte) 0xff, 0x01}, context).join();

    List<DeadLetter> letters = context.outputsTo(NS + "dead-letters", DeadLetter.class);
    assertThat(letters).hasSize(1);
    assertThat(letters.get(0).getStage()).isEqualTo("guard");
    assertThat(letters.get(0).getReason()).contains("is not a Decision");
    assertThat(published()).isEmpty();
  }

  @Test
  void aTableTheRouteFunctionsRefuseLeavesTheTableBeforeInForce() throws Exception {
    // Given a valid table, then one whose weights add up to 90, announced before the start
    RoutingTable bad = table("t-2", 60, 30);
    start(Map.of(), table("t-1", 50, 50), bad);

    // When the challenger of t-1 falls back for over a second
    decide("t-1", "challenger", true, 60);
    clock.advance(Duration.ofSeconds(1));
    decide("t-1", "challenger", true, 1);

    // Then the guard judged t-1 and rolled it back
    assertThat(published())
        .extracting(RoutingTable::getVersion)
        .containsExactly("t-1-rollback-challenger");

    // And a live table with the version in force but other arms is ignored too
    tables.announce(table("t-1", 100, 0));
    assertThat(guard.totals("challenger").orElseThrow().decisions()).isEqualTo(61);
  }
}
