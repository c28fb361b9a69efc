package io.decisionflow.tools.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Finds the highest rate a system sustains: doubles the rate from a start until a step fails, then
 * halves the interval between the last passing and the first failing rate until it is narrower than
 * a precision. A step passes when every message is decided within the drain time, the end- to-end
 * p99 stays within a bound, and the sender kept its schedule.
 */
public final class RateSearch {

  /** Runs one step at {@code rate} messages/s and says what it measured. */
  public interface Probe {
    Step run(int rate) throws Exception;
  }

  /** One step: the rate offered and what came of it. */
  public record Step(
      int rate, DecisionTally.Result result, long senderBehindMicros, String failure) {

    public boolean passed() {
      return failure == null;
    }

    String line() {
      return String.format(
          Locale.ROOT,
          "%6d/s: %d/%d decided, %s -> %s",
          rate,
          result.decided(),
          result.sent(),
          result.latency().format(),
          passed() ? "sustained" : "not sustained (" + failure + ")");
    }
  }

  /**
   * When a step counts as sustained: at most {@code maxP99Ms} end to end at p99, and the sender at
   * most {@code maxSenderBehindMicros} behind its schedule at its last message.
   */
  public record Criteria(double maxP99Ms, long maxSenderBehindMicros) {

    /** The sender may end at most 5 % of the step's duration, and at least 100 ms, late. */
    public static Criteria forStep(double maxP99Ms, java.time.Duration step) {
      return new Criteria(maxP99Ms, Math.max(100_000, step.toNanos() / 1000 / 20));
    }

    /** Why {@code result} is not sustained, or null if it is. */
    public String failure(DecisionTally.Result result, long senderBehindMicros) {
      if (result.missing() > 0) {
        return result.missing() + " of " + result.sent() + " not decided in time";
      }
      if (result.latency().p99() > maxP99Ms) {
        return String.format(
            Locale.ROOT, "p99 %s ms > %s ms", Percentiles.f(result.latency().p99()), maxP99Ms);
      }
      if (senderBehindMicros > maxSenderBehindMicros) {
        return String.format(
            Locale.ROOT,
            "the generator ended %.1f ms behind its schedule",
            senderBehindMicros / 1000.0);
      }
      return null;
    }
  }

  /** The search's outcome: the highest sustained rate (0 if none) and every step it ran. */
  public record Outcome(int maxRate, List<Step> steps) {}

  private final Probe probe;
  private final Consumer<String> log;

  public RateSearch(Probe probe, Consumer<String> log) {
    this.probe = probe;
    this.log = log;
  }

  /**
   * @param start first rate tried
   * @param max highest rate tried
   * @param precision stop once the failing rate is within this fraction above the passing one
   */
  public Outcome search(int start, int max, double precision) throws Exception {
    if (start < 1 || max < start || !(precision > 0)) {
      throw new IllegalArgumentException(
          "need 1 <= start <= max and precision > 0, was start "
              + start
              + ", max "
              + max
              + ", precision "
              + precision);
    }
    List<Step> steps = new ArrayList<>();
    int passed = 0;
    int failed = 0;
    int rate = start;
    while (true) {
      Step step = run(rate, steps);
      if (step.passed()) {
        passed = rate;
        if (rate >= max) {
          return new Outcome(passed, steps);
        }
        rate = (int) Math.min((long) rate * 2, max);
      } else {
        failed = rate;
        break;
      }
    }
    int lo = passed;
    int hi = failed;
    if (lo == 0) {
      // Even the start failed: look below it, down to a tenth of it
      int floor = Math.max(1, start / 10);
      while (lo == 0 && hi > floor) {
        int rateBelow = Math.max(floor, hi / 2);
        Step step = run(rateBelow, steps);
        if (step.passed()) {
          lo = rateBelow;
        } else {
          hi = rateBelow;
          if (rateBelow == floor) {
            return new Outcome(0, steps);
          }
        }
      }
    }
    while (hi - lo > Math.max(1, lo * precision)) {
      int mid = lo + (hi - lo) / 2;
      Step step = run(mid, steps);
      if (step.passed()) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return new Outcome(lo, steps);
  }

  /**
   * Runs a step at {@code rate}; a step that fails is run once more, and only a second failure
   * counts: on a shared 2-core machine one step in several is hit by a pause (JIT compilation, a
   * collection, the table service compacting) that says nothing about the rate.
   */
  private Step run(int rate, List<Step> steps) throws Exception {
    Step step = probe.run(rate);
    steps.add(step);
    log.accept(step.line());
    if (!step.passed()) {
      log.accept(rate + "/s: trying once more before it counts");
      step = probe.run(rate);
      steps.add(step);
      log.accept(step.line());
    }
    return step;
  }
}
