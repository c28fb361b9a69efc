package io.decisionflow.stages.enrich;

import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Feature;
import io.decisionflow.schemas.Lineage;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.state.CardState;
import java.time.Clock;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Computes the features of each transaction from its card's state and updates that state.
 *
 * <p>Records of one card are applied one after the other, each on the state its predecessor left
 * (chained futures), while records of different cards proceed concurrently. The newest state of
 * each card stays in memory, so a card's state is read from the store once. The future of a record
 * completes only after the card's new state is durable, so acknowledging on completion never
 * acknowledges a record whose effect could be lost. A redelivered record (same transaction id as
 * the card's newest) does not count twice and gets the features it had the first time; a repeated
 * id among the card's {@value FeatureSpec#MAX_RECENT_IDS} newest does not count twice either and
 * gets features of the card's current state. Event time and lateness: see {@link FeatureSpec}.
 *
 * <p>The merchant features come from the merchant table the stage is given ({@link MerchantRisks}),
 * as it is when the record is applied: a join at processing time (see {@link FeatureSpec}).
 */
public final class EnrichStage {

  private final EnrichConfig config;
  private final CardStateStore store;
  private final MerchantRisks merchants;
  private final Clock clock;
  private final Map<String, CompletableFuture<CardState>> cards = new ConcurrentHashMap<>();

  /**
   * @param merchants the merchant table, looked up as each record is applied (online it changes
   *     while the stage runs)
   */
  public EnrichStage(
      EnrichConfig config, CardStateStore store, MerchantRisks merchants, Clock clock) {
    this.config = config;
    this.store = store;
    this.merchants = merchants;
    this.clock = clock;
  }

  /**
   * Enriches a transaction.
   *
   * @throws io.decisionflow.stages.InvalidRecordException if the transaction can never be processed
   *     (thrown at once, nothing is changed)
   */
  public CompletableFuture<EnrichedTransaction> enrich(Transaction txn) {
    TransactionValidator.validate(txn);
    String key = config.stateKeyPrefix + txn.getCardId();
    CompletableFuture<EnrichedTransaction> result = new CompletableFuture<>();
    cards.compute(
        key,
        (k, newest) -> {
          CompletableFuture<CardState> prior =
              newest == null ? load(k) : newest.exceptionallyCompose(failure -> load(k));
          CompletableFuture<CardState> next =
              prior.thenCompose(state -> applyAndSave(k, state, txn, result));
          // If the state could not be loaded, applyAndSave never ran: fail the record instead of
          // leaving its future pending forever (a save failure has completed it already).
          next.whenComplete(
              (state, failure) -> {
                if (failure != null) {
                  result.completeExceptionally(unwrap(failure));
                }
              });
          return next;
        });
    evictIfFull();
    return result;
  }

  /** Cards whose state is held in memory now. */
  public int cachedCards() {
    return cards.size();
  }

  private CompletableFuture<CardState> applyAndSave(
      String key, CardState state, Transaction txn, CompletableFuture<EnrichedTransaction> result) {
    Step step = step(state, txn, merchants, config.allowedLatenessMs(), clock.millis());
    if (step.next() == state) {
      result.complete(step.enriched());
      return CompletableFuture.completedFuture(state);
    }
    return store
        .save(key, step.next())
        .handle(
            (ok, failure) -> {
              if (failure != null) {
                result.completeExceptionally(failure);
                throw new IllegalStateException("state of " + key + " not saved", failure);
              }
              result.complete(step.enriched());
              return step.next();
            });
  }

  /**
   * What the stage does with one transaction of a card.
   *
   * @param enriched the record it emits
   * @param next the card's state afterwards; the very {@code prior} instance when the transaction
   *     is a repeat and nothing changes
   */
  public record Step(EnrichedTransaction enriched, CardState next) {}

  /**
   * The record emitted for {@code txn} and the card's next state, given the card's state before it
   * and the merchant table as it is now: the stage's logic without the store, for offline tools
   * (training, parity checks) that fold a transaction log. Applying a log's records of each card in
   * order with the tables the stage saw reproduces the stage exactly.
   */
  public static Step step(
      CardState prior,
      Transaction txn,
      MerchantRisks merchants,
      long allowedLatenessMs,
      long enrichedAtMs) {
    boolean late = FeatureSpec.isLate(txn, prior, allowedLatenessMs);
    if (txn.getTransactionId().equals(prior.getLastTransactionId())) {
      float[] first = new float[FeatureSpec.size()];
      int kept = prior.getLastFeaturesCount();
      if (kept == FeatureSpec.size() || kept == FeatureSpec.MERCHANT_FEATURES_OFFSET) {
        for (int i = 0; i < kept; i++) {
          first[i] = prior.getLastFeatures(i);
        }
        if (kept < FeatureSpec.size()) {
          // A state written by feature spec v2 keeps the features v3 starts with; the merchant
          // features of its record were never computed, so they come from the table now.
          FeatureSpec.merchantFeatures(txn, merchants, first, kept);
        }
      } else {
        // A state written by feature spec v1 keeps the state before its newest transaction.
        first = FeatureSpec.compute(txn, prior.getPrevious(), merchants, allowedLatenessMs);
      }
      return new Step(enriched(txn, first, late, enrichedAtMs), prior);
    }
    if (FeatureSpec.isRepeat(prior, txn)) {
      float[] current = FeatureSpec.compute(txn, prior, merchants, allowedLatenessMs);
      return new Step(enriched(txn, current, late, enrichedAtMs), prior);
    }
    CardState next = FeatureSpec.apply(prior, txn, merchants, allowedLatenessMs);
    float[] values = new float[FeatureSpec.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = next.getLastFeatures(i);
    }
    return new Step(enriched(txn, values, late, enrichedAtMs), next);
  }

  private static Throwable unwrap(Throwable failure) {
    return failure instanceof CompletionException && failure.getCause() != null
        ? failure.getCause()
        : failure;
  }

  private CompletableFuture<CardState> load(String key) {
    return store.load(key).thenApply(s -> s.orElse(CardState.getDefaultInstance()));
  }

  /**
   * The enriched record of {@code txn} given its card's state before it and the merchant table,
   * with the default allowed lateness: what this stage emits for a new transaction, and what
   * offline tools (training, benchmarks) build from a transaction log.
   */
  public static EnrichedTransaction enriched(
      Transaction txn, CardState prior, MerchantRisks merchants, long enrichedAtMs) {
    long lateness = FeatureSpec.DEFAULT_ALLOWED_LATENESS_MS;
    return enriched(
        txn,
        FeatureSpec.compute(txn, prior, merchants, lateness),
        FeatureSpec.isLate(txn, prior, lateness),
        enrichedAtMs);
  }

  private static EnrichedTransaction enriched(
      Transaction txn, float[] values, boolean late, long enrichedAtMs) {
    EnrichedTransaction.Builder out =
        EnrichedTransaction.newBuilder()
            .setTransaction(txn)
            .setFeatureSpecVersion(FeatureSpec.VERSION)
            .setLate(late)
            .setLineage(Lineage.newBuilder().setEnrichedAtMs(enrichedAtMs));
    for (int i = 0; i < values.length; i++) {
      out.addFeatures(Feature.newBuilder().setName(FeatureSpec.NAMES.get(i)).setValue(values[i]));
    }
    return out.build();
  }

  /** Drops settled cards once the cache is over its bound; in-flight cards always stay. */
  private void evictIfFull() {
    if (cards.size() <= config.maxCachedCards) {
      return;
    }
    int target = Math.max(1, config.maxCachedCards * 9 / 10);
    Iterator<Map.Entry<String, CompletableFuture<CardState>>> it = cards.entrySet().iterator();
    while (it.hasNext() && cards.size() > target) {
      Map.Entry<String, CompletableFuture<CardState>> entry = it.next();
      if (entry.getValue().isDone()) {
        cards.remove(entry.getKey(), entry.getValue());
      }
    }
  }
}
