package io.decisionflow.stages.enrich;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Feature;
import io.decisionflow.schemas.Lineage;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.state.CardState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Computes the features of each transaction from its card's state and keeps that state durable.
 *
 * <p><b>State path.</b> Table-service calls cost milliseconds (one blocking write per record
 * manages about a hundred records a second), so the stage never waits for the store on the record
 * path once a card is cached:
 *
 * <ul>
 *   <li>Each card's newest state lives in memory (read from the store once, when the card is first
 *       seen or after eviction, with at most {@link EnrichConfig#maxStateReadsInFlight} reads at
 *       once). Records of one card are applied one after the other, in arrival order; records of a
 *       card whose state is still loading wait for it, in order.
 *   <li>A record's enriched form is ready as soon as it is applied ({@link Outcome#record()}), so
 *       the function can emit it at once.
 *   <li>Writes are asynchronous and coalesce: a changed card waits {@link
 *       EnrichConfig#stateFlushDelayMs} (and for a free slot among {@link
 *       EnrichConfig#maxStateWritesInFlight}), and a card has at most one write in flight; every
 *       record applied meanwhile rides along with the next write. A hot card costs one write per
 *       write round trip, not one per record.
 *   <li>{@link Outcome#durable()} completes once a write that includes the record is durable: the
 *       function acknowledges the input record only then, so an acknowledged record's effect is
 *       never lost. If a write fails, every record of the card not yet durable fails, the card
 *       leaves the cache, and the card's next record reloads the durable state; redelivered records
 *       are applied again on it.
 * </ul>
 *
 * <p>A redelivered record (same transaction id as the card's newest) does not count twice and gets
 * the features it had the first time; a repeated id among the card's {@value
 * FeatureSpec#MAX_RECENT_IDS} newest does not count twice either and gets features of the card's
 * current state. Event time and lateness: see {@link FeatureSpec}. Thread-safe: records come from
 * the function's thread, store completions from the client's threads.
 *
 * <p>The merchant features come from the merchant table the stage is given ({@link MerchantRisks}),
 * as it is when the record is applied: a join at processing time (see {@link FeatureSpec}).
 */
public final class EnrichStage {

  /**
   * What becomes of one transaction.
   *
   * @param record the enriched record, complete once the transaction is applied to its card
   * @param durable complete once the card's state including the transaction is durable
   */
  public record Outcome(
      CompletableFuture<EnrichedTransaction> record, CompletableFuture<Void> durable) {}

  private record Pending(Transaction txn, Outcome outcome) {}

  private record Waiter(long version, CompletableFuture<Void> durable) {}

  /**
   * A card in the cache. Guarded by the stage's lock. Its state is kept serialized: one array of a
   * few hundred bytes instead of a graph of Protobuf objects several times that size (with 100,000
   * cards cached, the heap after a young collection held 630 MB as objects at two transactions a
   * card, 390 MB as arrays at four). Parsing and serializing it costs microseconds a record.
   *
   * <p>A change is serialized into the card's own array when it fits (arrays get some slack), not
   * into a new one: cached cards live long enough to reach the old generation, and a new array per
   * record made each young collection scan the old cards pointing to it (at 1,000 records/s over
   * 100,000 cards, two thirds of the enrich instance's pause) and copy it, then left it as old
   * garbage. A write therefore stores a copy.
   */
  private static final class Card {
    final String key;
    byte[] state; // serialized CardState in state[0, length), null until loaded
    int length;
    boolean loading;
    final ArrayDeque<Pending> pending = new ArrayDeque<>(1); // arrived while loading
    long applied; // changes applied in memory
    long durable; // changes known durable
    boolean writing;
    boolean queued;
    long dirtySinceMs;
    boolean dropped;
    final ArrayDeque<Waiter> waiters = new ArrayDeque<>(1);

    Card(String key) {
      this.key = key;
    }

    boolean settled() {
      return !loading && !writing && !queued && pending.isEmpty() && waiters.isEmpty();
    }
  }

  /** A card never seen: the empty state, serialized. */
  private static final byte[] NEW_CARD = new byte[0];

  private final EnrichConfig config;
  private final CardStateStore store;
  private final MerchantRisks merchants;
  private final Clock clock;
  private final LinkedHashMap<String, Card> cards = new LinkedHashMap<>(1024, 0.75f, true);
  private final ArrayDeque<Card> dirty = new ArrayDeque<>();
  private final ArrayDeque<Card> toLoad = new ArrayDeque<>();
  private int loadsInFlight;
  private int writesInFlight;
  private long writes;
  private long appliedChanges;

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
  public Outcome enrich(Transaction txn) {
    TransactionValidator.validate(txn);
    String key = config.stateKeyPrefix + txn.getCardId();
    Outcome outcome = new Outcome(new CompletableFuture<>(), new CompletableFuture<>());
    List<Runnable> after = new ArrayList<>(2);
    synchronized (this) {
      Card card = cards.get(key);
      if (card == null) {
        card = new Card(key);
        cards.put(key, card);
      }
      if (card.state == null) {
        card.pending.add(new Pending(txn, outcome));
        if (!card.loading) {
          card.loading = true;
          toLoad.add(card);
          startLoads(after);
        }
      } else {
        apply(card, txn, outcome, after);
        startDueWrites(after);
      }
      evictIfFull();
    }
    after.forEach(Runnable::run);
    return outcome;
  }

  /** Starts queued loads while slots are free. Under the lock; the calls go to {@code after}. */
  private void startLoads(List<Runnable> after) {
    while (loadsInFlight < config.maxStateReadsInFlight && !toLoad.isEmpty()) {
      Card card = toLoad.poll();
      loadsInFlight++;
      after.add(
          () ->
              store
                  .load(card.key)
                  .whenComplete(
                      (state, failure) ->
                          loaded(card, state == null ? null : state.orElse(null), failure)));
    }
  }

  /**
   * Starts the writes whose {@link EnrichConfig#stateFlushDelayMs} has passed. Called on every
   * record and write completion; with a flush delay, call it periodically as well (the enrich
   * function runs a timer).
   */
  public void flush() {
    List<Runnable> after = new ArrayList<>();
    synchronized (this) {
      startDueWrites(after);
    }
    after.forEach(Runnable::run);
  }

  /** Cards whose state is held in memory now. */
  public synchronized int cachedCards() {
    return cards.size();
  }

  /** State writes in flight now. */
  public synchronized int writesInFlight() {
    return writesInFlight;
  }

  /** Cards waiting for their state to be read (in flight or queued). */
  public synchronized int cardsLoading() {
    return loadsInFlight + toLoad.size();
  }

  /** Changed cards waiting for their write to start. */
  public synchronized int cardsWaitingForWrite() {
    return dirty.size();
  }

  /** State writes started so far. */
  public synchronized long writes() {
    return writes;
  }

  /** Records that changed their card's state so far; divided by {@link #writes()}: coalescing. */
  public synchronized long appliedChanges() {
    return appliedChanges;
  }

  private void loaded(Card card, byte[] state, Throwable failure) {
    List<Runnable> after = new ArrayList<>();
    synchronized (this) {
      loadsInFlight--;
      startLoads(after);
      card.loading = false;
      if (failure != null) {
        Throwable cause = unwrap(failure);
        for (Pending p : card.pending) {
          after.add(() -> p.outcome().record().completeExceptionally(cause));
          after.add(() -> p.outcome().durable().completeExceptionally(cause));
        }
        card.pending.clear();
        card.dropped = true;
        cards.remove(card.key, card);
      } else {
        card.state = state == null ? NEW_CARD : state;
        card.length = card.state.length;
        for (Pending p : card.pending) {
          apply(card, p.txn(), p.outcome(), after);
        }
        card.pending.clear();
        startDueWrites(after);
      }
    }
    after.forEach(Runnable::run);
  }

  /** Applies a transaction to a loaded card. Under the lock; completions go to {@code after}. */
  private void apply(Card card, Transaction txn, Outcome outcome, List<Runnable> after) {
    CardState prior = parse(card);
    Step step = step(prior, txn, merchants, config.allowedLatenessMs(), clock.millis());
    after.add(() -> outcome.record().complete(step.enriched()));
    if (step.next() != prior) {
      store(card, step.next());
      card.applied++;
      appliedChanges++;
      markDirty(card);
    }
    if (card.durable >= card.applied) {
      after.add(() -> outcome.durable().complete(null));
    } else {
      card.waiters.add(new Waiter(card.applied, outcome.durable()));
    }
  }

  private static CardState parse(Card card) {
    try {
      return CardState.parser().parseFrom(card.state, 0, card.length);
    } catch (InvalidProtocolBufferException e) {
      // the store checked it when loading, or the stage serialized it itself
      throw new IllegalStateException("cached state of " + card.key + " does not parse", e);
    }
  }

  /** Serializes {@code next} into the card's array, or into a larger one if it does not fit. */
  private static void store(Card card, CardState next) {
    int size = next.getSerializedSize();
    if (card.state.length < size) {
      card.state = new byte[size + size / 4 + 32];
    }
    CodedOutputStream out = CodedOutputStream.newInstance(card.state, 0, size);
    try {
      next.writeTo(out);
    } catch (IOException e) {
      // the array holds exactly the serialized size
      throw new UncheckedIOException("serializing the state of " + card.key, e);
    }
    out.checkNoSpaceLeft();
    card.length = size;
  }

  private void markDirty(Card card) {
    if (!card.writing && !card.queued) {
      card.queued = true;
      card.dirtySinceMs = clock.millis();
      dirty.add(card);
    }
  }

  /** Starts due writes while slots are free. Under the lock; the calls go to {@code after}. */
  private void startDueWrites(List<Runnable> after) {
    long now = clock.millis();
    while (writesInFlight < config.maxStateWritesInFlight && !dirty.isEmpty()) {
      Card card = dirty.peek();
      if (!card.dropped && card.dirtySinceMs + config.stateFlushDelayMs > now) {
        return; // queued in order of dirtySinceMs: the rest are not due either
      }
      dirty.poll();
      card.queued = false;
      if (card.dropped) {
        continue;
      }
      card.writing = true;
      writesInFlight++;
      writes++;
      byte[] snapshot = Arrays.copyOf(card.state, card.length); // the card's array changes
      long version = card.applied;
      after.add(
          () ->
              store
                  .save(card.key, snapshot)
                  .whenComplete((ok, failure) -> written(card, version, failure)));
    }
  }

  private void written(Card card, long version, Throwable failure) {
    List<Runnable> after = new ArrayList<>();
    synchronized (this) {
      writesInFlight--;
      card.writing = false;
      if (failure == null) {
        card.durable = version;
        while (!card.waiters.isEmpty() && card.waiters.peek().version() <= version) {
          CompletableFuture<Void> durable = card.waiters.poll().durable();
          after.add(() -> durable.complete(null));
        }
        if (card.applied > card.durable && !card.dropped) {
          markDirty(card);
        }
      } else {
        IllegalStateException error =
            new IllegalStateException("state of " + card.key + " not saved", unwrap(failure));
        for (Waiter waiter : card.waiters) {
          after.add(() -> waiter.durable().completeExceptionally(error));
        }
        card.waiters.clear();
        card.dropped = true;
        cards.remove(card.key, card);
      }
      startDueWrites(after);
    }
    after.forEach(Runnable::run);
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

  /**
   * Drops the least recently used settled cards once the cache is over its bound. Under the lock.
   */
  private void evictIfFull() {
    if (cards.size() <= config.maxCachedCards) {
      return;
    }
    int target = Math.max(1, config.maxCachedCards * 9 / 10);
    Iterator<Card> it = cards.values().iterator();
    while (it.hasNext() && cards.size() > target) {
      if (it.next().settled()) {
        it.remove();
      }
    }
  }
}
