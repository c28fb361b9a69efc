package io.decisionflow.stages.guard;

import java.time.Clock;

/**
 * The decisions of one arm over the last {@code windowSeconds} seconds, in one-second buckets of a
 * ring: how many, how many scored by the fallback rules, how many alerted, and a histogram of their
 * route-to-score latency. A decision counts in the second of its own time stamp; one older than the
 * window (as the clock tells) is not counted, and buckets age out as the clock moves. Not
 * thread-safe.
 */
public final class ArmWindow {

  /** Width of a latency bin below {@link #FINE_LIMIT_MS}, in milliseconds. */
  static final int FINE_BIN_MS = 10;

  /** Latencies up to here have bins of {@link #FINE_BIN_MS}; above, of {@link #COARSE_BIN_MS}. */
  static final int FINE_LIMIT_MS = 2_000;

  static final int COARSE_BIN_MS = 1_000;
  static final int COARSE_LIMIT_MS = 60_000;
  private static final int FINE_BINS = FINE_LIMIT_MS / FINE_BIN_MS;
  private static final int BINS = FINE_BINS + (COARSE_LIMIT_MS - FINE_LIMIT_MS) / COARSE_BIN_MS + 1;

  /** What the window holds now. */
  public record Totals(long decisions, long fallbacks, long alerts, long latencies, long p99Ms) {

    /** Share of decisions scored by the fallback rules, 0..1 (0 without decisions). */
    public double fallbackRate() {
      return decisions == 0 ? 0 : (double) fallbacks / decisions;
    }

    /** Share of decisions that alerted, 0..1 (0 without decisions). */
    public double alertRate() {
      return decisions == 0 ? 0 : (double) alerts / decisions;
    }
  }

  private final int windowSeconds;
  private final Clock clock;
  private final long[] seconds;
  private final long[] decisions;
  private final long[] fallbacks;
  private final long[] alerts;
  private final int[][] latencyBins;

  public ArmWindow(int windowSeconds, Clock clock) {
    if (windowSeconds < 1) {
      throw new IllegalArgumentException("windowSeconds must be >= 1, was " + windowSeconds);
    }
    this.windowSeconds = windowSeconds;
    this.clock = clock;
    this.seconds = new long[windowSeconds];
    java.util.Arrays.fill(seconds, Long.MIN_VALUE);
    this.decisions = new long[windowSeconds];
    this.fallbacks = new long[windowSeconds];
    this.alerts = new long[windowSeconds];
    this.latencyBins = new int[windowSeconds][];
  }

  /**
   * Counts one decision made at {@code timeMs} (a time after the clock's now counts as now).
   *
   * @param latencyMs route-to-score latency, or a negative number if unknown
   * @return false if the decision is older than the window, and so not counted
   */
  public boolean add(long timeMs, boolean fallback, boolean alert, long latencyMs) {
    long now = nowSecond();
    long second = Math.min(Math.floorDiv(timeMs, 1000), now);
    if (second <= now - windowSeconds) {
      return false;
    }
    int i = (int) Math.floorMod(second, (long) windowSeconds);
    if (seconds[i] != second) {
      seconds[i] = second;
      decisions[i] = 0;
      fallbacks[i] = 0;
      alerts[i] = 0;
      if (latencyBins[i] != null) {
        java.util.Arrays.fill(latencyBins[i], 0);
      }
    }
    decisions[i]++;
    if (fallback) {
      fallbacks[i]++;
    }
    if (alert) {
      alerts[i]++;
    }
    if (latencyMs >= 0) {
      if (latencyBins[i] == null) {
        latencyBins[i] = new int[BINS];
      }
      latencyBins[i][bin(latencyMs)]++;
    }
    return true;
  }

  /** The decisions of the last {@code windowSeconds} seconds, up to the clock's now. */
  public Totals totals() {
    long now = nowSecond();
    long count = 0;
    long fallback = 0;
    long alert = 0;
    long[] bins = new long[BINS];
    for (int i = 0; i < windowSeconds; i++) {
      if (seconds[i] > now - windowSeconds && seconds[i] <= now) {
        count += decisions[i];
        fallback += fallbacks[i];
        alert += alerts[i];
        if (latencyBins[i] != null) {
          for (int b = 0; b < BINS; b++) {
            bins[b] += latencyBins[i][b];
          }
        }
      }
    }
    long latencies = 0;
    for (long b : bins) {
      latencies += b;
    }
    return new Totals(count, fallback, alert, latencies, p99(bins, latencies));
  }

  /**
   * The 99th percentile, as the upper edge of the bin that holds it (so never below the true value,
   * and at most one bin above: 10 ms up to 2 s, 1 s up to 60 s); 0 without latencies.
   */
  private static long p99(long[] bins, long total) {
    if (total == 0) {
      return 0;
    }
    long rank = (long) Math.ceil(total * 0.99);
    long seen = 0;
    for (int b = 0; b < bins.length; b++) {
      seen += bins[b];
      if (seen >= rank) {
        return upperEdge(b);
      }
    }
    return upperEdge(bins.length - 1);
  }

  static int bin(long latencyMs) {
    if (latencyMs < FINE_LIMIT_MS) {
      return (int) (latencyMs / FINE_BIN_MS);
    }
    if (latencyMs < COARSE_LIMIT_MS) {
      return FINE_BINS + (int) ((latencyMs - FINE_LIMIT_MS) / COARSE_BIN_MS);
    }
    return BINS - 1;
  }

  /** The upper edge of a bin; the last bin (60 s and more) reports 60 s. */
  static long upperEdge(int bin) {
    if (bin < FINE_BINS) {
      return (long) (bin + 1) * FINE_BIN_MS;
    }
    if (bin < BINS - 1) {
      return FINE_LIMIT_MS + (long) (bin - FINE_BINS + 1) * COARSE_BIN_MS;
    }
    return COARSE_LIMIT_MS;
  }

  private long nowSecond() {
    return Math.floorDiv(clock.millis(), 1000);
  }
}
