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
import io.decisionflow.stages.InvalidRecordException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
      assertThat(stage.armOf(card).name).isEqualTo(arm);
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
    assertThat(stage.armOf("card-2").name).isEqualTo("champion");
    assertThat(stage.armOf("card-1").name).isEqualTo("challenger");
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
}
