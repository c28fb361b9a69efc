package io.decisionflow.tools.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * When each message of an open-loop run is due: one or more steps, each a fixed rate for a fixed
 * time. The sender never waits for the system under test; it sends message {@code i} at {@link
 * #dueNanos(long)} after the start, and a message sent late still carries its due time, so the
 * latency of a backed-up system is not hidden by a sender that slowed down with it.
 */
public final class RateSchedule {

  /** {@code rate} messages per second for {@code duration}. */
  public record Step(double rate, Duration duration) {
    public Step {
      if (!(rate > 0) || Double.isInfinite(rate)) {
        throw new IllegalArgumentException("rate must be > 0 messages/s, was " + rate);
      }
      if (duration.isNegative() || duration.isZero()) {
        throw new IllegalArgumentException("duration must be > 0, was " + duration);
      }
    }

    /** Messages of the step: its rate times its duration, rounded. */
    public long messages() {
      return Math.round(rate * duration.toNanos() / 1e9);
    }
  }

  private final List<Step> steps;
  private final long[] firstIndex;
  private final long[] startNanos;
  private final long total;

  private RateSchedule(List<Step> steps) {
    if (steps.isEmpty()) {
      throw new IllegalArgumentException("a rate schedule needs at least one step");
    }
    this.steps = List.copyOf(steps);
    this.firstIndex = new long[steps.size()];
    this.startNanos = new long[steps.size()];
    long index = 0;
    long nanos = 0;
    for (int k = 0; k < steps.size(); k++) {
      firstIndex[k] = index;
      startNanos[k] = nanos;
      index += steps.get(k).messages();
      nanos += steps.get(k).duration().toNanos();
    }
    this.total = index;
  }

  /** {@code rate} messages per second for {@code duration}. */
  public static RateSchedule constant(double rate, Duration duration) {
    return new RateSchedule(List.of(new Step(rate, duration)));
  }

  /** The steps in order. */
  public static RateSchedule of(List<Step> steps) {
    return new RateSchedule(steps);
  }

  /**
   * Parses {@code 500x10s,1000x30s}: steps of {@code <rate>x<seconds>s}, in order.
   *
   * @throws IllegalArgumentException naming the step that does not parse
   */
  public static RateSchedule parse(String spec) {
    List<Step> steps = new ArrayList<>();
    for (String part : spec.split(",")) {
      String step = part.trim().toLowerCase(Locale.ROOT);
      int x = step.indexOf('x');
      if (x < 1 || !step.endsWith("s") || x >= step.length() - 2) {
        throw new IllegalArgumentException(
            "rate schedule step '" + part.trim() + "': expected <rate>x<seconds>s, e.g. 1000x30s");
      }
      try {
        double rate = Double.parseDouble(step.substring(0, x));
        double seconds = Double.parseDouble(step.substring(x + 1, step.length() - 1));
        steps.add(new Step(rate, Duration.ofNanos(Math.round(seconds * 1e9))));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "rate schedule step '" + part.trim() + "': expected <rate>x<seconds>s, e.g. 1000x30s");
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "rate schedule step '" + part.trim() + "': " + e.getMessage());
      }
    }
    return new RateSchedule(steps);
  }

  public List<Step> steps() {
    return steps;
  }

  /** Messages of the whole schedule. */
  public long total() {
    return total;
  }

  /** Length of the whole schedule. */
  public Duration duration() {
    Step last = steps.get(steps.size() - 1);
    return Duration.ofNanos(startNanos[steps.size() - 1] + last.duration().toNanos());
  }

  /** When message {@code i} (0-based) is due, in nanoseconds after the start. */
  public long dueNanos(long i) {
    if (i < 0 || i >= total) {
      throw new IndexOutOfBoundsException("message " + i + " of " + total);
    }
    int k = stepOf(i);
    return startNanos[k] + Math.round((i - firstIndex[k]) * 1e9 / steps.get(k).rate());
  }

  /** The step (0-based) message {@code i} belongs to. */
  public int stepOf(long i) {
    int k = steps.size() - 1;
    while (k > 0 && firstIndex[k] > i) {
      k--;
    }
    return k;
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder();
    for (Step step : steps) {
      if (s.length() > 0) {
        s.append(',');
      }
      s.append(String.format(Locale.ROOT, "%.0fx%ss", step.rate(), seconds(step.duration())));
    }
    return s.toString();
  }

  private static String seconds(Duration d) {
    double s = d.toNanos() / 1e9;
    return s == Math.rint(s) ? Long.toString((long) s) : Double.toString(s);
  }
}
