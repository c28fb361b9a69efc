package io.decisionflow.tools.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.HdrHistogram.Histogram;

/**
 * The decisions of one measured step, against the labels of what the step sent: how many came back
 * (once each), their end-to-end latency from event time, and the alerts' precision and recall.
 * Decisions of transactions the step did not send are ignored.
 */
public final class DecisionTally {

  /**
   * The hops of a decision's lineage: from the event time to enrich's stamp, then to route's,
   * score's and decide's, then to the moment the benchmark received it.
   */
  public static final List<String> HOPS =
      List.of("publish->enrich", "enrich->route", "route->score", "score->decide", "decide->here");

  /** What a step measured. */
  public record Result(
      long sent,
      long decided,
      long duplicates,
      Percentiles latency,
      long alerts,
      long truePositives,
      long frauds,
      long lastDecisionMicros,
      Map<String, Percentiles> hops) {

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
  private final Histogram[] hopMicros = new Histogram[HOPS.size()];
  private long duplicates;
  private long alerts;
  private long truePositives;
  private long lastDecisionMicros;

  public DecisionTally(GroundTruth truth) {
    this.truth = truth;
    for (int i = 0; i < hopMicros.length; i++) {
      hopMicros[i] = Percentiles.newHistogram();
    }
  }

  /**
   * Counts one decision.
   *
   * @param receivedMicros when it was received, in microseconds since the epoch
   * @param stageTimesMs the times enrich, route, score and decide stamped on it (epoch ms), or none
   */
  public synchronized void add(
      String transactionId,
      boolean alert,
      long eventTimeMs,
      long receivedMicros,
      long... stageTimesMs) {
    GroundTruth.Label label = truth.get(transactionId);
    if (label == null) {
      return;
    }
    if (!seen.add(transactionId)) {
      duplicates++;
      return;
    }
    Percentiles.record(latencyMicros, receivedMicros - eventTimeMs * 1000);
    if (stageTimesMs.length == HOPS.size() - 1) {
      long previous = eventTimeMs * 1000;
      for (int i = 0; i < HOPS.size(); i++) {
        long at = i < stageTimesMs.length ? stageTimesMs[i] * 1000 : receivedMicros;
        Percentiles.record(hopMicros[i], at - previous);
        previous = at;
      }
    }
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
    Map<String, Percentiles> hops = new LinkedHashMap<>();
    if (hopMicros[0].getTotalCount() > 0) {
      for (int i = 0; i < HOPS.size(); i++) {
        hops.put(HOPS.get(i), Percentiles.of(hopMicros[i]));
      }
    }
    return new Result(
        truth.size(),
        seen.size(),
        duplicates,
        Percentiles.of(latencyMicros),
        alerts,
        truePositives,
        truth.frauds(),
        lastDecisionMicros,
        hops);
  }
}
