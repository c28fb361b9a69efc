package io.decisionflow.stages.decide;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Feature;
import io.decisionflow.schemas.Lineage;
import io.decisionflow.schemas.Score;
import io.decisionflow.schemas.ScoringRequest;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.stages.InvalidRecordException;
import java.time.Clock;

/**
 * Turns a score into a decision by the threshold of its model slot (ALERT or OK, which decides the
 * alert topic) and, if the config sets bands, into a band (APPROVE, REVIEW or DECLINE).
 */
public final class DecideStage {

  public static final String ALERT = "ALERT";
  public static final String OK = "OK";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final DecideConfig config;
  private final Clock clock;

  public DecideStage(DecideConfig config, Clock clock) {
    this.config = config;
    this.clock = clock;
  }

  /** The decision, carrying the lineage of the record. */
  public Decision decide(Score score) {
    double value = score.getScore();
    if (!Double.isFinite(value) || value < 0 || value > 1) {
      throw new InvalidRecordException("score", value, "must be a probability in [0, 1]");
    }
    ScoringRequest request = score.getRequest();
    EnrichedTransaction enriched = request.getEnriched();
    Transaction txn = enriched.getTransaction();
    Lineage lineage = enriched.getLineage();
    double threshold = config.thresholdFor(score.getModelSlot());
    DecideConfig.Bands bands = config.bandsFor(score.getModelSlot());
    return Decision.newBuilder()
        .setTransactionId(txn.getTransactionId())
        .setCardId(txn.getCardId())
        .setMerchantId(txn.getMerchantId())
        .setAmount(txn.getAmount())
        .setCurrency(txn.getCurrency())
        .setEventTimeMs(txn.getEventTimeMs())
        .setChannel(txn.getChannel().name())
        .setCountry(txn.getCountry())
        .setFeatureSpecVersion(enriched.getFeatureSpecVersion())
        .setFeaturesJson(featuresJson(enriched))
        .setLate(enriched.getLate())
        .setArm(request.getArm())
        .setModelSlot(score.getModelSlot())
        .setModelVersion(score.getModelVersion())
        .setRoutingVersion(request.getRoutingVersion())
        .setScore(value)
        .setFallback(score.getFallback())
        .setThreshold(threshold)
        .setOutcome(value >= threshold ? ALERT : OK)
        .setBand(bands == null ? "" : bands.of(value))
        .setEnrichedAtMs(lineage.getEnrichedAtMs())
        .setRoutedAtMs(lineage.getRoutedAtMs())
        .setScoredAtMs(lineage.getScoredAtMs())
        .setDecidedAtMs(clock.millis())
        .build();
  }

  /** Whether a decision is an alert. */
  public static boolean isAlert(Decision decision) {
    return ALERT.equals(decision.getOutcome());
  }

  static String featuresJson(EnrichedTransaction enriched) {
    ObjectNode json = JSON.createObjectNode();
    for (Feature feature : enriched.getFeaturesList()) {
      json.put(feature.getName(), feature.getValue());
    }
    return json.toString();
  }
}
