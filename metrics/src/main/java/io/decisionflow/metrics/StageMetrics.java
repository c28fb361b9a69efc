package io.decisionflow.metrics;

import io.prometheus.client.Counter;
import io.prometheus.client.Histogram;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The metrics every stage of the pipeline has, labelled {@code stage}:
 *
 * <ul>
 *   <li>{@code decisionflow_records_in_total}, {@code _out_total}, {@code _failed_total} (records
 *       that produced no output: dead-lettered, or given up after their last attempt), {@code
 *       _retried_total};
 *   <li>{@code decisionflow_dead_letters_total{stage, reason}}: the reason is {@code invalid
 *       <field>} for a record that can never be processed, else the class of the failure;
 *   <li>{@code decisionflow_stage_latency_seconds}: from the stage receiving a record to its output
 *       being stored by the broker;
 *   <li>{@code decisionflow_event_latency_seconds}: from the transaction's event time to the
 *       stage's output being stored (at {@code decide}, the pipeline's end-to-end latency).
 * </ul>
 */
public final class StageMetrics {

  private final Counter.Child in;
  private final Counter.Child out;
  private final Counter.Child failed;
  private final Counter.Child retried;
  private final Counter deadLetters;
  private final Histogram.Child latency;
  private final Histogram.Child eventLatency;
  private final String stage;
  private final LongSupplier nanoTime;
  private final LongSupplier wallMillis;

  public StageMetrics(InstanceMetrics metrics, String stage) {
    this(metrics, stage, System::nanoTime, System::currentTimeMillis);
  }

  StageMetrics(
      InstanceMetrics metrics, String stage, LongSupplier nanoTime, LongSupplier wallMillis) {
    this.stage = stage;
    this.nanoTime = nanoTime;
    this.wallMillis = wallMillis;
    in =
        metrics.counter("decisionflow_records_in_total", "Records received", "stage").labels(stage);
    out =
        metrics
            .counter("decisionflow_records_out_total", "Records whose output is stored", "stage")
            .labels(stage);
    failed =
        metrics
            .counter(
                "decisionflow_records_failed_total",
                "Records that produced no output: dead-lettered or given up",
                "stage")
            .labels(stage);
    retried =
        metrics
            .counter(
                "decisionflow_records_retried_total",
                "Records sent back for a later attempt",
                "stage")
            .labels(stage);
    deadLetters =
        metrics.counter(
            "decisionflow_dead_letters_total",
            "Records dead-lettered, by reason",
            "stage",
            "reason");
    latency =
        metrics
            .latency(
                "decisionflow_stage_latency_seconds",
                "From receiving a record to its output stored by the broker",
                "stage")
            .labels(stage);
    eventLatency =
        metrics
            .latency(
                "decisionflow_event_latency_seconds",
                "From the transaction's event time to the stage's output stored by the broker",
                "stage")
            .labels(stage);
    metrics.refreshExport();
  }

  /** Counts a record received; returns the start time to pass to {@link #emitted}. */
  public long received() {
    in.inc();
    return nanoTime.getAsLong();
  }

  /**
   * Counts output stored for a record received at {@code startNanos} about a transaction of event
   * time {@code eventTimeMs} (0 if unknown: then no event latency is recorded). A clock behind the
   * event time records 0.
   */
  public void emitted(long startNanos, long eventTimeMs) {
    out.inc();
    latency.observe((nanoTime.getAsLong() - startNanos) / (double) TimeUnit.SECONDS.toNanos(1));
    if (eventTimeMs > 0) {
      eventLatency.observe(Math.max(0, wallMillis.getAsLong() - eventTimeMs) / 1000.0);
    }
  }

  /** Counts a record sent back for a later attempt. */
  public void retried() {
    retried.inc();
  }

  /** Counts a record that could never be processed, dead-lettered because of {@code field}. */
  public void invalid(String field) {
    failed.inc();
    deadLetters
        .labels(stage, "invalid " + (field == null || field.isEmpty() ? "record" : field))
        .inc();
  }

  /** Counts a record dead-lettered after its last attempt failed with {@code cause}. */
  public void gaveUp(Throwable cause) {
    failed.inc();
    deadLetters.labels(stage, cause.getClass().getSimpleName()).inc();
  }

  /** The stage label. */
  public String stage() {
    return stage;
  }
}
