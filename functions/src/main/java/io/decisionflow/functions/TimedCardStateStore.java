package io.decisionflow.functions;

import io.decisionflow.metrics.InstanceMetrics;
import io.decisionflow.stages.enrich.CardStateStore;
import io.prometheus.client.Counter;
import io.prometheus.client.Histogram;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Times the calls of a card state store into {@code decisionflow_state_latency_seconds{op}} (op
 * {@code load} or {@code save}, until the future completes, failed or not) and counts failures in
 * {@code decisionflow_state_failures_total{op}}.
 */
final class TimedCardStateStore implements CardStateStore {

  private final CardStateStore store;
  private final Histogram.Child loads;
  private final Histogram.Child saves;
  private final Counter.Child loadFailures;
  private final Counter.Child saveFailures;

  TimedCardStateStore(CardStateStore store, InstanceMetrics metrics) {
    this.store = store;
    Histogram latency =
        metrics.latency(
            "decisionflow_state_latency_seconds",
            "Card state calls to the table service, until durable (save) or read (load)",
            "op");
    var failures =
        metrics.counter("decisionflow_state_failures_total", "Card state calls that failed", "op");
    loads = latency.labels("load");
    saves = latency.labels("save");
    loadFailures = failures.labels("load");
    saveFailures = failures.labels("save");
  }

  @Override
  public CompletableFuture<Optional<byte[]>> load(String cardId) {
    long started = System.nanoTime();
    return store
        .load(cardId)
        .whenComplete((state, failure) -> done(loads, loadFailures, started, failure));
  }

  @Override
  public CompletableFuture<Void> save(String cardId, byte[] state) {
    long started = System.nanoTime();
    return store
        .save(cardId, state)
        .whenComplete((v, failure) -> done(saves, saveFailures, started, failure));
  }

  private static void done(
      Histogram.Child latency, Counter.Child failures, long started, Throwable failure) {
    latency.observe((System.nanoTime() - started) / 1e9);
    if (failure != null) {
      failures.inc();
    }
  }
}
