package io.decisionflow.stages.guard;

import io.decisionflow.stages.ConfigException;
import io.decisionflow.stages.StageConfigs;
import io.decisionflow.stages.route.RouteConfig;

/**
 * Configuration of the guard function ({@code userConfig} of its function config): the window over
 * which each deciding arm's decisions are judged, and the bounds an arm must stay within.
 */
public final class GuardConfig implements StageConfigs.Validated {

  /** Length of the sliding window, in seconds (1..3600). */
  public int windowSeconds = 60;

  /** Decisions an arm needs in the window before it is judged at all (>= 1). */
  public int minRecords = 50;

  /** Highest share of an arm's decisions scored by the fallback rules, in percent (0..100). */
  public double maxFallbackRatePercent = 20;

  /**
   * Highest alert rate of an arm as a multiple of the champion's (> 0); judged only when the
   * champion has {@link #minRecords} decisions in the window.
   */
  public double maxAlertRateRatio = 3.0;

  /**
   * Alerts an arm needs in the window before its alert rate is judged (>= 1), so that a handful of
   * alerts on a small sample does not roll it back.
   */
  public int minAlerts = 10;

  /**
   * Highest 99th percentile of route-to-score latency of an arm, in milliseconds (> 0). An arm is
   * judged too slow only when it is also {@link #maxP99LatencyRatio} times slower than the champion
   * (when the champion has {@link #minRecords} decisions): a machine that is slow for every arm is
   * not the arm's fault.
   */
  public long maxP99LatencyMs = 500;

  /** How many times the champion's p99 latency an arm may reach before it is too slow (> 1). */
  public double maxP99LatencyRatio = 2.0;

  /** The arm that is never rolled back, and that takes the weight of a rolled-back arm. */
  public String championArm = "champion";

  /** After a rollback, how long the guard publishes no other, in seconds (>= 0). */
  public int cooldownSeconds = 60;

  /**
   * The route function's initial table ({@code arms}, {@code routingVersion}, ...), what the
   * pipeline routes by until a table is published on {@code routing}; the deploy fills it in from
   * the route function's config. Without it the guard acts only once a table is published.
   */
  public RouteConfig routing;

  @Override
  public void validate() {
    ConfigException.require(
        windowSeconds >= 1 && windowSeconds <= 3600,
        "windowSeconds",
        windowSeconds,
        "must be between 1 and 3600");
    ConfigException.require(minRecords >= 1, "minRecords", minRecords, "must be at least 1");
    ConfigException.require(
        maxFallbackRatePercent >= 0 && maxFallbackRatePercent <= 100,
        "maxFallbackRatePercent",
        maxFallbackRatePercent,
        "must be between 0 and 100");
    ConfigException.require(
        maxAlertRateRatio > 0 && Double.isFinite(maxAlertRateRatio),
        "maxAlertRateRatio",
        maxAlertRateRatio,
        "must be a finite number above 0");
    ConfigException.require(
        maxP99LatencyMs > 0, "maxP99LatencyMs", maxP99LatencyMs, "must be above 0");
    ConfigException.require(minAlerts >= 1, "minAlerts", minAlerts, "must be at least 1");
    ConfigException.require(
        maxP99LatencyRatio > 1 && Double.isFinite(maxP99LatencyRatio),
        "maxP99LatencyRatio",
        maxP99LatencyRatio,
        "must be above 1");
    ConfigException.require(
        championArm != null && !championArm.isBlank(), "championArm", championArm, "is required");
    ConfigException.require(
        cooldownSeconds >= 0, "cooldownSeconds", cooldownSeconds, "must be 0 or more");
    if (routing != null) {
      routing.validate();
    }
  }
}
