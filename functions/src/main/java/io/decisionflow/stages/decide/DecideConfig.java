package io.decisionflow.stages.decide;

import io.decisionflow.stages.ConfigException;
import io.decisionflow.stages.StageConfigs;
import java.util.Map;

/** Configuration of the decide function ({@code userConfig} of its function config). */
public final class DecideConfig implements StageConfigs.Validated {

  /** A score at or above this alerts; in [0, 1]. */
  public Double threshold;

  /** Thresholds per model slot, overriding {@link #threshold}; each in [0, 1]. */
  public Map<String, Double> thresholds = Map.of();

  @Override
  public void validate() {
    ConfigException.require(threshold != null, "threshold", null, "is required, in [0, 1]");
    requireProbability("threshold", threshold);
    ConfigException.require(thresholds != null, "thresholds", null, "must be a map (may be {})");
    thresholds.forEach((slot, value) -> requireProbability("thresholds." + slot, value));
  }

  /** The threshold of a model slot. */
  public double thresholdFor(String slot) {
    return thresholds.getOrDefault(slot, threshold);
  }

  private static void requireProbability(String field, Double value) {
    ConfigException.require(
        value != null && value >= 0.0 && value <= 1.0, field, value, "must be in [0, 1]");
  }
}
