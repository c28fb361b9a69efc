package io.decisionflow.stages.decide;

import static io.decisionflow.stages.Fixtures.CLOCK;
import static io.decisionflow.stages.Fixtures.ENRICHED_AT_MS;
import static io.decisionflow.stages.Fixtures.NOW;
import static io.decisionflow.stages.Fixtures.ROUTED_AT_MS;
import static io.decisionflow.stages.Fixtures.SCORED_AT_MS;
import static io.decisionflow.stages.Fixtures.score;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.decisionflow.schemas.Channel;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.Feature;
import io.decisionflow.schemas.Score;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.stages.InvalidRecordException;
import io.decisionflow.stages.enrich.FeatureSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DecideStageTest {

  private static DecideStage stage(double threshold, Map<String, Double> perSlot) {
    DecideConfig config = new DecideConfig();
    config.threshold = threshold;
    config.thresholds = perSlot;
    config.validate();
    return new DecideStage(config, CLOCK);
  }

  @ParameterizedTest(name = "score {0} at threshold 0.5 is {1}")
  @CsvSource({"0.0, OK", "0.4999, OK", "0.5, ALERT", "0.5001, ALERT", "1.0, ALERT"})
  void alertsAtOrAboveTheThreshold(double value, String outcome) {
    // Given
    DecideStage stage = stage(0.5, Map.of());

    // When
    Decision decision = stage.decide(score().setScore(value).build());

    // Then
    assertThat(decision.getOutcome()).isEqualTo(outcome);
    assertThat(DecideStage.isAlert(decision)).isEqualTo(outcome.equals("ALERT"));
    assertThat(decision.getThreshold()).isEqualTo(0.5);
  }

  @ParameterizedTest(name = "score {0} with bands 0.2 / 0.6 is {1}")
  @CsvSource({
    "0.0, APPROVE",
    "0.1999, APPROVE",
    "0.2, REVIEW",
    "0.5999, REVIEW",
    "0.6, DECLINE",
    "1.0, DECLINE"
  })
  void bandsSplitScoresIntoApproveReviewAndDecline(double value, String band) {
    // Given: bands 0.2 / 0.6, and the alert threshold 0.5 independent of them
    DecideConfig config = new DecideConfig();
    config.threshold = 0.5;
    config.bands = new DecideConfig.Bands(0.2, 0.6);
    config.validate();
    DecideStage stage = new DecideStage(config, CLOCK);

    // When
    Decision decision = stage.decide(score().setScore(value).build());

    // Then
    assertThat(decision.getBand()).isEqualTo(band);
    assertThat(decision.getOutcome()).isEqualTo(value >= 0.5 ? DecideStage.ALERT : DecideStage.OK);
  }

  @Test
  void aSlotsOwnBandsOverrideTheUnitsAndNoBandsMeansNoBand() {
    // Given: unit bands 0.2 / 0.6, the challenger's 0.4 / 0.9
    DecideConfig config = new DecideConfig();
    config.threshold = 0.5;
    config.bands = new DecideConfig.Bands(0.2, 0.6);
    config.slotBands = Map.of("challenger", new DecideConfig.Bands(0.4, 0.9));
    config.validate();
    DecideStage stage = new DecideStage(config, CLOCK);

    // When
    Decision challenger = stage.decide(score().setModelSlot("challenger").setScore(0.7).build());
    Decision champion = stage.decide(score().setModelSlot("champion").setScore(0.7).build());
    Decision unbanded = stage(0.5, Map.of()).decide(score().setScore(0.7).build());

    // Then
    assertThat(challenger.getBand()).isEqualTo("REVIEW");
    assertThat(champion.getBand()).isEqualTo("DECLINE");
    assertThat(unbanded.getBand()).isEmpty();
  }

  @Test
  void usesThePerSlotThresholdOverTheDefault() {
    // Given: 0.5 by default, 0.8 for the challenger
    DecideStage stage = stage(0.5, Map.of("challenger", 0.8));

    // When
    Decision challenger = stage.decide(score().setModelSlot("challenger").setScore(0.6).build());
    Decision champion = stage.decide(score().setModelSlot("champion").setScore(0.6).build());

    // Then
    assertThat(challenger.getOutcome()).isEqualTo(DecideStage.OK);
    assertThat(challenger.getThreshold()).isEqualTo(0.8);
    assertThat(champion.getOutcome()).isEqualTo(DecideStage.ALERT);
    assertThat(champion.getThreshold()).isEqualTo(0.5);
  }

  @Test
  void carriesTheTransactionRoutingScoreAndLineage() {
    // Given
    DecideStage stage = stage(0.5, Map.of());
    Score.Builder score = score().setModelVersion("v7").setScore(0.75).setFallback(true);
    score
        .getRequestBuilder()
        .setArm("challenger")
        .setModelSlot("challenger")
        .setRoutingVersion("table-7");
    score.setModelSlot("challenger");
    score
        .getRequestBuilder()
        .getEnrichedBuilder()
        .getTransactionBuilder()
        .setChannel(Channel.ONLINE)
        .setCountry("NG");
    score.getRequestBuilder().getEnrichedBuilder().setLate(true);
    Transaction txn = score.getRequest().getEnriched().getTransaction();

    // When
    Decision decision = stage.decide(score.build());

    // Then
    assertThat(decision.getTransactionId()).isEqualTo(txn.getTransactionId());
    assertThat(decision.getCardId()).isEqualTo(txn.getCardId());
    assertThat(decision.getMerchantId()).isEqualTo(txn.getMerchantId());
    assertThat(decision.getAmount()).isEqualTo(txn.getAmount());
    assertThat(decision.getCurrency()).isEqualTo("EUR");
    assertThat(decision.getEventTimeMs()).isEqualTo(txn.getEventTimeMs());
    assertThat(decision.getChannel()).isEqualTo("ONLINE");
    assertThat(decision.getCountry()).isEqualTo("NG");
    assertThat(decision.getFeatureSpecVersion()).isEqualTo(FeatureSpec.VERSION);
    assertThat(decision.getLate()).isTrue();
    assertThat(decision.getArm()).isEqualTo("challenger");
    assertThat(decision.getModelSlot()).isEqualTo("challenger");
    assertThat(decision.getModelVersion()).isEqualTo("v7");
    assertThat(decision.getRoutingVersion()).isEqualTo("table-7");
    assertThat(decision.getScore()).isEqualTo(0.75);
    assertThat(decision.getFallback()).isTrue();
    assertThat(decision.getOutcome()).isEqualTo(DecideStage.ALERT);
    assertThat(decision.getEnrichedAtMs()).isEqualTo(ENRICHED_AT_MS);
    assertThat(decision.getRoutedAtMs()).isEqualTo(ROUTED_AT_MS);
    assertThat(decision.getScoredAtMs()).isEqualTo(SCORED_AT_MS);
    assertThat(decision.getDecidedAtMs()).isEqualTo(NOW.toEpochMilli());
  }

  @Test
  void writesFeaturesAsAJsonObjectInSpecOrder() throws Exception {
    // Given
    DecideStage stage = stage(0.5, Map.of());
    Score score = score().build();
    List<Feature> features = score.getRequest().getEnriched().getFeaturesList();

    // When
    Decision decision = stage.decide(score);

    // Then
    JsonNode json = new ObjectMapper().readTree(decision.getFeaturesJson());
    List<String> names = new ArrayList<>();
    json.fieldNames().forEachRemaining(names::add);
    assertThat(names).containsExactlyElementsOf(FeatureSpec.NAMES);
    for (Feature feature : features) {
      assertThat(json.get(feature.getName()).isNumber()).isTrue();
      assertThat(json.get(feature.getName()).doubleValue()).isEqualTo(feature.getValue());
    }
  }

  @ParameterizedTest(name = "score {0}")
  @ValueSource(
      doubles = {-0.1, 1.0001, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY})
  void rejectsScoreOutsideZeroToOneNamingScore(double value) {
    // Given
    DecideStage stage = stage(0.5, Map.of());
    Score score = score().setScore(value).build();

    // When
    InvalidRecordException error =
        catchThrowableOfType(InvalidRecordException.class, () -> stage.decide(score));

    // Then
    assertThat(error.field()).isEqualTo("score");
    assertThat(error.value()).isEqualTo(String.valueOf(value));
    assertThat(error.getMessage()).startsWith("score ").endsWith(", was " + value);
  }
}
