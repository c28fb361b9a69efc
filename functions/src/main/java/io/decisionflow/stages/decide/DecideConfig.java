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

  /**
   * Optional bands: a score below {@code review} is APPROVE, from {@code review} up to below {@code
   * decline} REVIEW, from {@code decline} DECLINE. Null: decisions carry no band.
   */
  public Bands bands;

  /** Bands per model slot, overriding {@link #bands}. */
  public Map<String, Bands> slotBands = Map.of();

  /** Score bounds of the review and decline bands; 0 <= review <= decline <= 1. */
  public static final class Bands {
    public Double review;
    public Double decline;

    public Bands() {}

    public Bands(double review, double decline) {
      this.review = review;
      this.decline = decline;
    }

    /** The band of a score. */
    public String of(double score) {
      return score >= decline ? "DECLINE" : score >= review ? "REVIEW" : "APPROVE";
    }

    void validate(String field) {
      requireProbability(field + ".review", review);
      requireProbability(field + ".decline", decline);
      ConfigException.require(
          decline >= review,
          field + ".decline",
          decline,
          "must be at least " + field + ".review (" + review + ")");
    }
  }

  /**
   * How long the stage's producers wait to batch its output, in microseconds; 0 sends each record
   * alone, -1 leaves publishing to the function runtime (which always waits 10 ms in Pulsar 4.0).
   */
  public long outputBatchingDelayMicros = 1000;

  @Override
  public void validate() {
    StageConfigs.requireOutputBatchingDelay(outputBatchingDelayMicros, true);
    ConfigException.require(threshold != null, "threshold", null, "is required, in [0, 1]");
    requireProbability("threshold", threshold);
    ConfigException.require(thresholds != null, "thresholds", null, "must be a map (may be {})");
    thresholds.forEach((slot, value) -> requireProbability("thresholds." + slot, value));
    if (bands != null) {
      bands.validate("bands");
    }
    ConfigException.require(slotBands != null, "slotBands", null, "must be a map (may be {})");
    slotBands.forEach(
        (slot, value) -> {
          ConfigException.require(
              value != null, "slotBands." + slot, null, "must be {review, decline}");
          value.validate("slotBands." + slot);
        });
  }

  /** The bands of a model slot, or null if decisions of that slot carry no band. */
  public Bands bandsFor(String slot) {
    return slotBands.getOrDefault(slot, bands);
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
