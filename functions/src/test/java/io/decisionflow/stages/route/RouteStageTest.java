package io.decisionflow.stages.route;

import static io.decisionflow.stages.Fixtures.CLOCK;
import static io.decisionflow.stages.Fixtures.ENRICHED_AT_MS;
import static io.decisionflow.stages.Fixtures.NOW;
import static io.decisionflow.stages.Fixtures.enriched;
import static io.decisionflow.stages.Fixtures.transaction;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.ScoringRequest;
import io.decisionflow.schemas.control.RoutingArm;
import io.decisionflow.schemas.control.RoutingTable;
import io.decisionflow.schemas.control.ShadowArm;
import io.decisionflow.stages.InvalidRecordException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class RouteStageTest {

  private static RouteStage stage(RouteConfig.Arm... arms) {
    RouteConfig config = new RouteConfig();
    config.arms = List.of(arms);
    config.validate();
    return new RouteStage(config, CLOCK);
  }

  private static EnrichedTransaction ofCard(String cardId) {
    return enriched(transaction().setCardId(cardId).build()).build();
  }

  private static Map<String, Integer> armCounts(RouteStage stage, int cards) {
    Map<String, Integer> counts = new HashMap<>();
    IntStream.range(0, cards)
        .forEach(i -> counts.merge(stage.route(ofCard("card-" + i)).getArm(), 1, Integer::sum));
    return counts;
  }

  @Test
  void routesStickyPerCard() {
    // Given
    RouteStage stage =
        stage(
            new RouteConfig.Arm("champion", null, 50), new RouteConfig.Arm("challenger", null, 50));
    RouteStage restarted =
        stage(
            new RouteConfig.Arm("champion", null, 50), new RouteConfig.Arm("challenger", null, 50));

    for (int i = 0; i < 200; i++) {
      String card = "card-" + i;

      // When
      String arm = stage.route(ofCard(card)).getArm();

      // Then: the same arm every time, and after a restart
      assertThat(stage.route(ofCard(card)).getArm()).isEqualTo(arm);
      assertThat(restarted.route(ofCard(card)).getArm()).isEqualTo(arm);
      assertThat(stage.armOf(card).getName()).isEqualTo(arm);
    }
  }

  @Test
  void routesCardsAtConfiguredWeights() {
    // Given
    RouteStage stage =
        stage(
            new RouteConfig.Arm("champion", null, 70), new RouteConfig.Arm("challenger", null, 30));

    // When
    Map<String, Integer> counts = armCounts(stage, 10_000);

    // Then: within 3 percentage points of 70/30
    assertThat(counts.get("champion") / 10_000.0).isCloseTo(0.70, within(0.03));
    assertThat(counts.get("challenger") / 10_000.0).isCloseTo(0.30, within(0.03));
  }

  @Test
  void armOfWeightZeroGetsNoCards() {
    // Given
    RouteStage stage =
        stage(
            new RouteConfig.Arm("champion", null, 50),
            new RouteConfig.Arm("shadow", null, 0),
            new RouteConfig.Arm("challenger", null, 50));

    // When
    Map<String, Integer> counts = armCounts(stage, 10_000);

    // Then
    assertThat(counts).doesNotContainKey("shadow").containsOnlyKeys("champion", "challenger");
  }

  @Test
  void singleArmOfWeightHundredGetsEveryCard() {
    // Given
    RouteStage stage = stage(new RouteConfig.Arm("champion", null, 100));

    // When
    Map<String, Integer> counts = armCounts(stage, 1_000);

    // Then
    assertThat(counts).containsExactly(Map.entry("champion", 1_000));
  }

  @Test
  void bucketsByFnv1aOfTheCardIdSoRoutingIsStableAcrossReleases() {
    // Buckets computed independently: FNV-1a 64 of the UTF-8 bytes, unsigned, modulo 100.
    assertThat(RouteStage.bucket("card-1")).isEqualTo(61);
    assertThat(RouteStage.bucket("card-2")).isEqualTo(28);
    assertThat(RouteStage.bucket("4111-0000")).isEqualTo(7);
  }

  @Test
  void armsOwnConsecutiveBucketRangesInListedOrder() {
    // Given: champion owns buckets 0..60, challenger 61..99
    RouteStage stage =
        stage(
            new RouteConfig.Arm("champion", null, 61), new RouteConfig.Arm("challenger", null, 39));

    // When / Then: card-2 is in bucket 28, card-1 in bucket 61
    assertThat(stage.armOf("card-2").getName()).isEqualTo("champion");
    assertThat(stage.armOf("card-1").getName()).isEqualTo("challenger");
  }

  @Test
  void stampsRoutedAtAndKeepsTheEnrichedRecord() {
    // Given
    RouteStage stage = stage(new RouteConfig.Arm("champion", null, 100));
    EnrichedTransaction enriched = ofCard("card-1");

    // When
    ScoringRequest request = stage.route(enriched);

    // Then
    assertThat(request.getEnriched().getLineage().getRoutedAtMs()).isEqualTo(NOW.toEpochMilli());
    assertThat(request.getEnriched().getLineage().getEnrichedAtMs()).isEqualTo(ENRICHED_AT_MS);
    assertThat(request.getEnriched().toBuilder().clearLineage().build())
        .isEqualTo(enriched.toBuilder().clearLineage().build());
    assertThat(request.getRoutingVersion()).isEqualTo("static-1");
  }

  @Test
  void slotDefaultsToTheArmName() {
    // Given
    RouteStage stage =
        stage(
            new RouteConfig.Arm("champion", null, 100), new RouteConfig.Arm("challenger", "v2", 0));

    // When
    ScoringRequest request = stage.route(ofCard("card-1"));

    // Then
    assertThat(request.getArm()).isEqualTo("champion");
    assertThat(request.getModelSlot()).isEqualTo("champion");
    assertThat(stage.slots()).containsExactly("champion", "v2");
  }

  @Test
  void writesTheConfiguredSlotAndRoutingVersion() {
    // Given
    RouteConfig config = new RouteConfig();
    config.arms = List.of(new RouteConfig.Arm("challenger", "fraud-v2", 100));
    config.routingVersion = "table-7";
    config.validate();
    RouteStage stage = new RouteStage(config, CLOCK);

    // When
    ScoringRequest request = stage.route(ofCard("card-1"));

    // Then
    assertThat(request.getArm()).isEqualTo("challenger");
    assertThat(request.getModelSlot()).isEqualTo("fraud-v2");
    assertThat(request.getRoutingVersion()).isEqualTo("table-7");
  }

  @Test
  void listsEachSlotOnceWhenArmsShareIt() {
    // Given
    RouteStage stage =
        stage(
            new RouteConfig.Arm("control", "champion", 50),
            new RouteConfig.Arm("holdout", "champion", 50));

    // When / Then
    assertThat(stage.slots()).containsExactly("champion");
  }

  @Test
  void rejectsRecordWithoutCardId() {
    // Given
    RouteStage stage = stage(new RouteConfig.Arm("champion", null, 100));
    EnrichedTransaction noCard = ofCard("");

    // When
    InvalidRecordException error =
        catchThrowableOfType(InvalidRecordException.class, () -> stage.route(noCard));

    // Then
    assertThat(error.field()).isEqualTo("transaction.card_id");
    assertThat(error.value()).isEqualTo("<empty>");
  }

  private static RoutingTable table(String version, int... weights) {
    RoutingTable.Builder table = RoutingTable.newBuilder().setVersion(version);
    for (int i = 0; i < weights.length; i++) {
      table.addArms(
          RoutingArm.newBuilder()
              .setName("arm" + i)
              .setModelSlot("slot" + i)
              .setWeight(weights[i]));
    }
    return table.build();
  }

  /** Share of {@code cards} card ids whose deciding arm differs between the two tables. */
  private static double movedShare(RoutingTable before, RoutingTable after, int cards) {
    RouteStage from = new RouteStage(before, CLOCK);
    RouteStage to = new RouteStage(after, CLOCK);
    long moved =
        IntStream.range(0, cards)
            .filter(i -> !from.armOf("card-" + i).getName().equals(to.armOf("card-" + i).getName()))
            .count();
    return moved / (double) cards;
  }

  @Test
  void movingFrom70To30To60To40MovesOnlyTheShiftedTenPercentFromTheShrinkingArm() {
    // Given
    RouteStage before = new RouteStage(table("a", 70, 30), CLOCK);
    RouteStage after = new RouteStage(table("b", 60, 40), CLOCK);
    int cards = 100_000;

    // When
    int moved = 0;
    int movedTheWrongWay = 0;
    for (int i = 0; i < cards; i++) {
      String card = "card-" + i;
      String from = before.armOf(card).getName();
      String to = after.armOf(card).getName();
      if (!from.equals(to)) {
        moved++;
        if (!from.equals("arm0")) {
          movedTheWrongWay++;
        }
      }
    }

    // Then: the share that moves is the weight shift, and only from the arm that shrinks
    assertThat(moved / (double) cards).isCloseTo(0.10, within(0.01));
    assertThat(movedTheWrongWay).isZero();
  }

  @Test
  void movementIsBoundedByTheShiftOfTheRangeBoundariesAndMinimalBetweenNeighbours() {
    Random random = new Random(42);
    for (int round = 0; round < 20; round++) {
      // Given two random tables of four arms
      int[] before = randomWeights(random, 4);
      int[] after = randomWeights(random, 4);
      int boundaryShift = 0;
      int minimal = 0;
      int cumulativeBefore = 0;
      int cumulativeAfter = 0;
      for (int i = 0; i < 4; i++) {
        cumulativeBefore += before[i];
        cumulativeAfter += after[i];
        boundaryShift += Math.abs(cumulativeBefore - cumulativeAfter);
        minimal += Math.abs(before[i] - after[i]);
      }
      minimal /= 2;

      // When the table changes
      double moved = movedShare(table("a", before), table("b", after), 50_000);

      // Then at least the minimum and at most the boundary shifts move (within sampling noise)
      assertThat(moved).as("round %d", round).isLessThanOrEqualTo(boundaryShift / 100.0 + 0.01);
      assertThat(moved).as("round %d", round).isGreaterThanOrEqualTo(minimal / 100.0 - 0.01);
    }

    // And weight traded between neighbours moves exactly the traded share
    assertThat(movedShare(table("a", 40, 20, 40), table("b", 40, 35, 25), 100_000))
        .isCloseTo(0.15, within(0.01));
    assertThat(movedShare(table("a", 25, 25, 25, 25), table("b", 15, 35, 25, 25), 100_000))
        .isCloseTo(0.10, within(0.01));
  }

  private static int[] randomWeights(Random random, int arms) {
    int[] weights = new int[arms];
    int left = 100;
    for (int i = 0; i < arms - 1; i++) {
      weights[i] = random.nextInt(left + 1);
      left -= weights[i];
    }
    weights[arms - 1] = left;
    return weights;
  }

  @Test
  void sameTableSameArmsWhateverItsVersion() {
    assertThat(movedShare(table("a", 70, 30), table("b", 70, 30), 10_000)).isZero();
  }

  @Test
  void shadowArmsMirrorAStickySampleOfTheCardsAsShadowCopies() {
    // Given 70/30 with a shadow arm mirroring 10% of the cards to slot "shadow"
    RoutingTable table =
        table("t", 70, 30).toBuilder()
            .addShadows(
                ShadowArm.newBuilder()
                    .setName("candidate")
                    .setModelSlot("shadow")
                    .setMirrorPercent(10))
            .build();
    RouteStage stage = new RouteStage(table, CLOCK);
    int cards = 50_000;

    // When
    Map<String, Integer> mirroredByArm = new HashMap<>();
    Map<String, Integer> cardsByArm = new HashMap<>();
    for (int i = 0; i < cards; i++) {
      List<ScoringRequest> routed = stage.routeAll(ofCard("card-" + i));
      ScoringRequest deciding = routed.get(0);
      cardsByArm.merge(deciding.getArm(), 1, Integer::sum);
      assertThat(deciding.getShadow()).isFalse();
      assertThat(routed).hasSizeLessThanOrEqualTo(2);
      if (routed.size() == 2) {
        ScoringRequest copy = routed.get(1);
        assertThat(copy.getShadow()).isTrue();
        assertThat(copy.getArm()).isEqualTo("candidate");
        assertThat(copy.getModelSlot()).isEqualTo("shadow");
        assertThat(copy.getRoutingVersion()).isEqualTo("t");
        assertThat(copy.getEnriched()).isEqualTo(deciding.getEnriched());
        mirroredByArm.merge(deciding.getArm(), 1, Integer::sum);
        // sticky: the same card is mirrored again
        assertThat(stage.routeAll(ofCard("card-" + i))).hasSize(2);
      }
    }

    // Then about 10% of the cards are mirrored, independently of their deciding arm
    int mirrored = mirroredByArm.values().stream().mapToInt(Integer::intValue).sum();
    assertThat(mirrored / (double) cards).isCloseTo(0.10, within(0.01));
    for (String arm : List.of("arm0", "arm1")) {
      assertThat(mirroredByArm.get(arm) / (double) cardsByArm.get(arm))
          .as(arm)
          .isCloseTo(0.10, within(0.015));
    }
  }

  @Test
  void raisingTheMirrorPercentOnlyAddsCards() {
    ShadowArm ten =
        ShadowArm.newBuilder().setName("s").setModelSlot("x").setMirrorPercent(10).build();
    ShadowArm twenty = ten.toBuilder().setMirrorPercent(20).build();
    for (int i = 0; i < 10_000; i++) {
      if (RouteStage.mirrors(ten, "card-" + i)) {
        assertThat(RouteStage.mirrors(twenty, "card-" + i)).isTrue();
      }
    }
  }

  @Test
  void aCardDecidedByTheShadowsSlotGetsNoCopy() {
    // Given the shadow mirrors every card to the slot that decides every card
    RoutingTable table =
        RoutingTable.newBuilder()
            .setVersion("t")
            .addArms(RoutingArm.newBuilder().setName("a").setModelSlot("champion").setWeight(100))
            .addShadows(
                ShadowArm.newBuilder().setName("s").setModelSlot("champion").setMirrorPercent(100))
            .build();

    // When / Then
    assertThat(new RouteStage(table, CLOCK).routeAll(ofCard("card-1"))).hasSize(1);
  }

  @Test
  void everyShadowArmGetsItsOwnCopy() {
    // Given two shadow arms mirroring every card
    RoutingTable table =
        table("t", 100).toBuilder()
            .addShadows(
                ShadowArm.newBuilder().setName("s1").setModelSlot("x").setMirrorPercent(100))
            .addShadows(
                ShadowArm.newBuilder().setName("s2").setModelSlot("y").setMirrorPercent(100))
            .build();

    // When
    List<ScoringRequest> routed = new RouteStage(table, CLOCK).routeAll(ofCard("card-1"));

    // Then
    assertThat(routed)
        .extracting(ScoringRequest::getModelSlot, ScoringRequest::getShadow)
        .containsExactly(
            org.assertj.core.api.Assertions.tuple("slot0", false),
            org.assertj.core.api.Assertions.tuple("x", true),
            org.assertj.core.api.Assertions.tuple("y", true));
  }
}
