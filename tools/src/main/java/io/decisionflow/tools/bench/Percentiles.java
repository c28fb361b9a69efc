package io.decisionflow.tools.bench;

import java.util.Locale;
import org.HdrHistogram.Histogram;

/** Latency percentiles in milliseconds, read from an HdrHistogram of microseconds. */
public record Percentiles(long count, double p50, double p95, double p99, double max) {

  /** Highest latency a histogram records: an hour, in microseconds. */
  public static final long HIGHEST_MICROS = 3_600_000_000L;

  /** A histogram of microseconds up to an hour with 3 significant digits. */
  public static Histogram newHistogram() {
    return new Histogram(HIGHEST_MICROS, 3);
  }

  /** Records {@code micros} into {@code h}, clamped to [0, an hour]. */
  public static void record(Histogram h, long micros) {
    h.recordValue(Math.max(0, Math.min(micros, HIGHEST_MICROS)));
  }

  /** The percentiles of {@code micros}, in milliseconds; all zero for an empty histogram. */
  public static Percentiles of(Histogram micros) {
    if (micros.getTotalCount() == 0) {
      return new Percentiles(0, 0, 0, 0, 0);
    }
    return new Percentiles(
        micros.getTotalCount(),
        ms(micros.getValueAtPercentile(50)),
        ms(micros.getValueAtPercentile(95)),
        ms(micros.getValueAtPercentile(99)),
        ms(micros.getMaxValue()));
  }

  private static double ms(long micros) {
    return micros / 1000.0;
  }

  /** {@code p50 12.3 ms, p95 ..., p99 ..., max ...}. */
  public String format() {
    return String.format(
        Locale.ROOT, "p50 %s ms, p95 %s ms, p99 %s ms, max %s ms", f(p50), f(p95), f(p99), f(max));
  }

  /** One decimal below 100 ms, whole milliseconds above. */
  static String f(double ms) {
    return ms < 100 ? String.format(Locale.ROOT, "%.1f", ms) : String.format("%d", Math.round(ms));
  }
}
