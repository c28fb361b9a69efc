package io.decisionflow.stages;

import java.util.Map;

/**
 * How a stage retries a record whose processing failed for a reason that may pass (a send that
 * failed, a state write that failed, an unexpected error): up to {@code maxAttempts} attempts in
 * all, the n-th retry after {@code retryDelayMs * 2^(n-1)} (at most 60 s), then a dead letter. A
 * record that can never succeed (it does not parse, a field is invalid) is dead-lettered at once.
 *
 * <p>Every function reads it from the same two userConfig keys, {@value #MAX_ATTEMPTS} (default 5)
 * and {@value #RETRY_DELAY_MS} (default 1000).
 */
public record RetryPolicy(int maxAttempts, long retryDelayMs) {

  public static final String MAX_ATTEMPTS = "maxAttempts";
  public static final String RETRY_DELAY_MS = "retryDelayMs";
  public static final RetryPolicy DEFAULT = new RetryPolicy(5, 1000);

  static final long MAX_DELAY_MS = 60_000;

  /** What to do after attempt number {@code attempt} failed. */
  public record Next(boolean retry, long delayMs) {}

  public RetryPolicy {
    if (maxAttempts < 1 || maxAttempts > 100) {
      throw new ConfigException(
          "userConfig." + MAX_ATTEMPTS + ": must be >= 1 and <= 100, was " + maxAttempts);
    }
    if (retryDelayMs < 0 || retryDelayMs > MAX_DELAY_MS) {
      throw new ConfigException(
          "userConfig." + RETRY_DELAY_MS + ": must be >= 0 and <= 60000, was " + retryDelayMs);
    }
  }

  /** The policy a function's userConfig sets, defaults for what it leaves out. */
  public static RetryPolicy load(Map<String, Object> userConfig) {
    if (userConfig == null) {
      return DEFAULT;
    }
    return new RetryPolicy(
        (int) number(userConfig, MAX_ATTEMPTS, DEFAULT.maxAttempts),
        number(userConfig, RETRY_DELAY_MS, DEFAULT.retryDelayMs));
  }

  /** After attempt {@code attempt} (1 for the first) failed: retry after a delay, or give up. */
  public Next after(int attempt) {
    if (attempt >= maxAttempts) {
      return new Next(false, 0);
    }
    int doublings = Math.min(Math.max(attempt - 1, 0), 20);
    return new Next(true, Math.min(retryDelayMs << doublings, MAX_DELAY_MS));
  }

  private static long number(Map<String, Object> config, String key, long fallback) {
    Object value = config.get(key);
    if (value == null) {
      return fallback;
    }
    try {
      double d = value instanceof Number n ? n.doubleValue() : Double.parseDouble(value.toString());
      if (d != Math.rint(d) || Double.isInfinite(d)) {
        throw new NumberFormatException();
      }
      return (long) d;
    } catch (NumberFormatException e) {
      throw new ConfigException(
          "userConfig." + key + ": expected a whole number, was '" + value + "'");
    }
  }
}
