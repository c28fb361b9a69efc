package io.decisionflow.connectors.jdbc;

import io.decisionflow.metrics.InstanceMetrics;
import io.decisionflow.schemas.Decision;
import io.prometheus.client.Counter;
import io.prometheus.client.Histogram;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Measures the writes of a {@link DecisionStore}: {@code decisionflow_jdbc_batch_seconds} (one
 * transaction, committed or not), {@code decisionflow_jdbc_rows_total} (rows committed), {@code
 * decisionflow_jdbc_batch_failures_total}, and, per row committed, {@code
 * decisionflow_event_latency_seconds{stage="postgres"}} from the transaction's event time: the
 * pipeline's latency into the database.
 */
final class TimedDecisionStore implements DecisionStore {

  private final DecisionStore store;
  private final LongSupplier wallMillis;
  private final Histogram.Child batches;
  private final Counter.Child rows;
  private final Counter.Child failures;
  private final Histogram.Child eventLatency;

  TimedDecisionStore(DecisionStore store, InstanceMetrics metrics, LongSupplier wallMillis) {
    this.store = store;
    this.wallMillis = wallMillis;
    batches =
        metrics
            .latency("decisionflow_jdbc_batch_seconds", "Time to write one batch (one transaction)")
            .labels();
    rows = metrics.counter("decisionflow_jdbc_rows_total", "Rows committed").labels();
    failures =
        metrics
            .counter("decisionflow_jdbc_batch_failures_total", "Batches that failed (rolled back)")
            .labels();
    eventLatency =
        metrics
            .latency(
                "decisionflow_event_latency_seconds",
                "From the transaction's event time to the stage's output stored",
                "stage")
            .labels("postgres");
  }

  @Override
  public void upsert(List<Decision> decisions) throws Exception {
    long started = System.nanoTime();
    try {
      store.upsert(decisions);
    } catch (Exception e) {
      failures.inc();
      throw e;
    } finally {
      batches.observe((System.nanoTime() - started) / 1e9);
    }
    rows.inc(decisions.size());
    long now = wallMillis.getAsLong();
    for (Decision decision : decisions) {
      if (decision.getEventTimeMs() > 0) {
        eventLatency.observe(Math.max(0, now - decision.getEventTimeMs()) / 1000.0);
      }
    }
  }

  @Override
  public void close() {
    store.close();
  }
}
