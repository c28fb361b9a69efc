package io.decisionflow.tools.bench;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.HdrHistogram.Histogram;

/**
 * The decisions of one measured step, against the labels of what the step sent: how many came back
 * (once each), their end-to-end latency from event time, and the alerts' precision and recall.
 * Decisions of transactions the step did not send are ignored.
 */
public final class DecisionTally {

  /** What a step measured. */
  public record Result(
      long sent,
      long decided,
      long duplicates,
      Percentiles latency,
      long alerts,
      long truePositives,
      long frauds,
      long lastDecisionMicros) {

    public long missing() {
      return Math.max(0, sent - decided);
    }

    /** Alerts that were frauds; NaN without alerts. */
    public double precision() {
      return alerts == 0 ? Double.NaN : (double) truePositives / alerts;
    }

    /** Frauds that were alerted; NaN without frauds. */
    public double recall() {
      return frauds == 0 ? Double.NaN : (double) truePositives / frauds;
    }
  }

  private final GroundTruth truth;
  private final Set<String> seen = ConcurrentHashMap.newKeySet();
  private final Histogram latencyMicros = Percentiles.newHistogram();
  private long duplicates;
  private long alerts;
  private long truePositives;
  private long lastDecisionMicros;

  public DecisionTally(GroundTruth truth) {
    this.truth = truth;
  }

  /**
   * Counts one decision.
   *
   * @param receivedMicros when it was received, in microseconds since the epoch
   */
  public synchronized void add(
      String transactionId, boolean alert, long eventTimeMs, long receivedMicros) {
    GroundTruth.Label label = truth.get(transactionId);
    if (label == null) {
      return;
    }
    if (!seen.add(transactionId)) {
      duplicates++;
      return;
    }
    Percentiles.record(latencyMicros, receivedMicros - eventTimeMs * 1000);
    lastDecisionMicros = Math.max(lastDecisionMicros, receivedMicros);
    if (alert) {
      alerts++;
      if (label.fraud()) {
        truePositives++;
      }
    }
  }

  /** Decisions counted so far (each transaction once). */
  public long decided() {
    return seen.size();
  }

  /** Whether every transaction sent so far has its decision. */
  public boolean complete() {
    return seen.size() >= truth.size();
  }

  public synchronized Result result() {
    return new Result(
        truth.size(),
        seen.size(),
        duplicates,
        Percentiles.of(latencyMicros),
        alerts,
        truePositives,
        truth.frauds(),
        lastDecisionMicros);
  }
}
