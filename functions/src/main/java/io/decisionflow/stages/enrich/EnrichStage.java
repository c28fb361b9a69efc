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
 */
public final class EnrichStage {

  private final EnrichConfig config;
  private final CardStateStore store;
  private final Clock clock;
  private final Map<String, CompletableFuture<CardState>> cards = new ConcurrentHashMap<>();

  public EnrichStage(EnrichConfig config, CardStateStore store, Clock clock) {
    this.config = config;
    this.store = store;
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
    Step step = step(state, txn, config.allowedLatenessMs(), clock.millis());
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
   * The record emitted for {@code txn} and the card's next state, given the card's state before it:
   * the stage's logic without the store, for offline tools (training, parity checks) that fold a
   * transaction log. Applying a log's records of each card in order reproduces the stage exactly.
   */
  public static Step step(
      CardState prior, Transaction txn, long allowedLatenessMs, long enrichedAtMs) {
    boolean late = FeatureSpec.isLate(txn, prior, allowedLatenessMs);
    if (txn.getTransactionId().equals(prior.getLastTransactionId())) {
      float[] first;
      if (prior.getLastFeaturesCount() == FeatureSpec.size()) {
        first = new float[FeatureSpec.size()];
        for (int i = 0; i < first.length; i++) {
          first[i] = prior.getLastFeatures(i);
        }
      } else {
        // A state written by feature spec v1 keeps the state before its newest transaction.
        first = FeatureSpec.compute(txn, prior.getPrevious(), allowedLatenessMs);
      }
      return new Step(enriched(txn, first, late, enrichedAtMs), prior);
    }
    if (FeatureSpec.isRepeat(prior, txn)) {
      float[] current = FeatureSpec.compute(txn, prior, allowedLatenessMs);
      return new Step(enriched(txn, current, late, enrichedAtMs), prior);
    }
    CardState next = FeatureSpec.apply(prior, txn, allowedLatenessMs);
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
   * The enriched record of {@code txn} given its card's state before it, with the default allowed
   * lateness: what this stage emits for a new transaction, and what offline tools (training,
   * benchmarks) build from a transaction log.
   */
  public static EnrichedTransaction enriched(Transaction txn, CardState prior, long enrichedAtMs) {
    long lateness = FeatureSpec.DEFAULT_ALLOWED_LATENESS_MS;
    return enriched(
        txn,
        FeatureSpec.compute(txn, prior, lateness),
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
