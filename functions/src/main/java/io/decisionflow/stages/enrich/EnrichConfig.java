package io.decisionflow.stages.enrich;

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
        stateKeyPrefix != null, "stateKeyPrefix", stateKeyPrefix, "must be set (may be empty)");
  }
}
