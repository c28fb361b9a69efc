package io.decisionflow.stages;

import io.decisionflow.schemas.Channel;
import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Feature;
import io.decisionflow.schemas.Lineage;
import io.decisionflow.schemas.Score;
import io.decisionflow.schemas.ScoringRequest;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.state.CardState;
import io.decisionflow.stages.enrich.FeatureSpec;
import io.decisionflow.stages.enrich.MerchantRisks;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

/**
 * Shared test data: valid records of every stage, built from one valid transaction, and a fixed
 * clock. Tests change only the fields their case is about.
 */
public final class Fixtures {

  /** What every stage's clock says: 2025-03-14T12:00:00Z. */
  public static final Instant NOW = Instant.parse("2025-03-14T12:00:00Z");

  public static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  /** Event time of {@link #transaction()}: one minute before {@link #NOW}, in daytime UTC. */
  public static final long EVENT_TIME_MS = NOW.minusSeconds(60).toEpochMilli();

  /** Lineage stamps of the records upstream of the stage under test. */
  public static final long ENRICHED_AT_MS = NOW.minusMillis(30).toEpochMilli();

  public static final long ROUTED_AT_MS = NOW.minusMillis(20).toEpochMilli();
  public static final long SCORED_AT_MS = NOW.minusMillis(10).toEpochMilli();

  private Fixtures() {}

  /** A valid POS transaction of 100 EUR in Germany, one minute before {@link #NOW}. */
  public static Transaction.Builder transaction() {
    return Transaction.newBuilder()
        .setTransactionId("txn-1")
        .setCardId("card-1")
        .setMerchantId("merchant-1")
        .setAmount(100.0)
        .setCurrency("EUR")
        .setEventTimeMs(EVENT_TIME_MS)
        .setChannel(Channel.POS)
        .setCountry("DE")
        .setMerchantCategory("5411");
  }

  /** {@code transaction()} of a card with an id and amount, at an event time. */
  public static Transaction transaction(String cardId, String id, double amount, long eventTimeMs) {
    return transaction()
        .setCardId(cardId)
        .setTransactionId(id)
        .setAmount(amount)
        .setEventTimeMs(eventTimeMs)
        .build();
  }

  /** {@code transaction()} enriched as a new card's first transaction. */
  public static EnrichedTransaction.Builder enriched() {
    return enriched(transaction().build());
  }

  /**
   * {@code txn} enriched as a new card's first transaction at a merchant not in the merchant table,
   * stamped at {@link #ENRICHED_AT_MS}.
   */
  public static EnrichedTransaction.Builder enriched(Transaction txn) {
    EnrichedTransaction.Builder out =
        EnrichedTransaction.newBuilder()
            .setTransaction(txn)
            .setFeatureSpecVersion(FeatureSpec.VERSION)
            .setLineage(Lineage.newBuilder().setEnrichedAtMs(ENRICHED_AT_MS));
    float[] values = FeatureSpec.compute(txn, CardState.getDefaultInstance(), MerchantRisks.NONE);
    for (int i = 0; i < values.length; i++) {
      out.addFeatures(Feature.newBuilder().setName(FeatureSpec.NAMES.get(i)).setValue(values[i]));
    }
    return out;
  }

  /** {@code enriched()} routed by arm {@code champion} to slot {@code champion}. */
  public static ScoringRequest.Builder scoringRequest() {
    EnrichedTransaction.Builder enriched = enriched();
    enriched.getLineageBuilder().setRoutedAtMs(ROUTED_AT_MS);
    return ScoringRequest.newBuilder()
        .setEnriched(enriched)
        .setArm("champion")
        .setModelSlot("champion")
        .setRoutingVersion("static-1");
  }

  /** {@code scoringRequest()} scored 0.25 by model {@code v7} of slot {@code champion}. */
  public static Score.Builder score() {
    ScoringRequest.Builder request = scoringRequest();
    request.getEnrichedBuilder().getLineageBuilder().setScoredAtMs(SCORED_AT_MS);
    return Score.newBuilder()
        .setRequest(request)
        .setModelSlot("champion")
        .setModelVersion("v7")
        .setScore(0.25)
        .setFallback(false);
  }
}
