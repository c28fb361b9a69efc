package io.decisionflow.stages.enrich;

import io.decisionflow.schemas.Topics;
import io.decisionflow.stages.ConfigException;
import io.decisionflow.stages.StageConfigs;

/** Configuration of the enrich function ({@code userConfig} of its function config). */
public final class EnrichConfig implements StageConfigs.Validated {

  /** Feature spec to compute; only {@value FeatureSpec#VERSION} exists. */
  public String featureSpecVersion = FeatureSpec.VERSION;

  /** Cards whose state is kept in memory between records (idle ones are evicted first). */
  public int maxCachedCards = 100_000;

  /** Prefix of the state key of a card: the key is {@code <prefix><card id>}. */
  public String stateKeyPrefix = "card:";

  /**
   * How far behind its card's newest event time a transaction may be and still update the time
   * windows at its own event time; a later one is scored on the card's current state, flagged
   * {@code late} and added to no window. At most one day.
   */
  public long allowedLatenessSeconds = FeatureSpec.DEFAULT_ALLOWED_LATENESS_MS / 1000;

  /**
   * How long a changed card waits before its state write starts, so that more of its records ride
   * along with the same write. 0 writes as soon as a slot is free; a card still coalesces the
   * records that arrive while its previous write is in flight. Acknowledgements wait for the write,
   * so this adds to the time a record stays unacknowledged, never to the time until it is emitted.
   */
  public long stateFlushDelayMs = 0;

  /** State reads in flight at once (cards not cached yet); more cards wait for a free slot. */
  public int maxStateReadsInFlight = 512;

  /** State writes in flight at once, over all cards; more changed cards wait for a free slot. */
  public int maxStateWritesInFlight = 512;

  /**
   * Records emitted but not yet acknowledged (their state not yet durable). At the bound the
   * function stops taking records until writes catch up: backpressure instead of unbounded memory.
   *
   * <p>It is also what lets writes coalesce under load: when the table service is the limit,
   * changed cards queue for a write slot, and every record of a card that arrives while it waits
   * rides along with its one write. Over 100,000 cards each card comes back only every ~20 s at
   * 5,000 records/s, so only a queue of about that many seconds of records gives a card more than
   * one record per write. At most {@link Topics#TRANSACTIONS_MAX_UNACKED}, the unacknowledged
   * messages the broker lets the consumer hold (provisioning sets that policy on the transactions
   * topic).
   */
  public int maxPendingRecords = 200_000;

  /**
   * How long the function's producer of enriched records waits to batch (microseconds): 0 sends
   * each record alone, else at least 1000 (a Pulsar producer batches for at least 1 ms). Pulsar's
   * function producers always wait 10 ms; this stage publishes through its own producer.
   */
  public long outputBatchingDelayMicros = 1000;

  /** {@link #allowedLatenessSeconds} in milliseconds. */
  public long allowedLatenessMs() {
    return allowedLatenessSeconds * 1000;
  }

  @Override
  public void validate() {
    ConfigException.require(
        FeatureSpec.VERSION.equals(featureSpecVersion),
        "featureSpecVersion",
        featureSpecVersion,
        "must be "
            + FeatureSpec.VERSION
            + " (the only feature spec of this release: the features of v2 plus merchant_risk"
            + " and merchant_unknown from the unit's merchants table)");
    ConfigException.require(
        maxCachedCards >= 1, "maxCachedCards", maxCachedCards, "must be at least 1");
    ConfigException.require(
        allowedLatenessSeconds >= 0 && allowedLatenessSeconds <= 86_400,
        "allowedLatenessSeconds",
        allowedLatenessSeconds,
        "must be in [0, 86400]");
    ConfigException.require(
        stateFlushDelayMs >= 0 && stateFlushDelayMs <= 60_000,
        "stateFlushDelayMs",
        stateFlushDelayMs,
        "must be in [0, 60000]");
    ConfigException.require(
        maxStateReadsInFlight >= 1 && maxStateReadsInFlight <= 10_000,
        "maxStateReadsInFlight",
        maxStateReadsInFlight,
        "must be in [1, 10000]");
    ConfigException.require(
        maxStateWritesInFlight >= 1 && maxStateWritesInFlight <= 10_000,
        "maxStateWritesInFlight",
        maxStateWritesInFlight,
        "must be in [1, 10000]");
    ConfigException.require(
        maxPendingRecords >= 1 && maxPendingRecords <= Topics.TRANSACTIONS_MAX_UNACKED,
        "maxPendingRecords",
        maxPendingRecords,
        "must be in [1, "
            + Topics.TRANSACTIONS_MAX_UNACKED
            + "] (the unacknowledged messages the broker lets enrich hold on the transactions"
            + " topic, a policy provisioning sets)");
    StageConfigs.requireOutputBatchingDelay(outputBatchingDelayMicros, false);
    ConfigException.require(
        stateKeyPrefix != null, "stateKeyPrefix", stateKeyPrefix, "must be set (may be empty)");
  }
}
