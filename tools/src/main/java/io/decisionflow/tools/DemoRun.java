package io.decisionflow.tools;

import io.decisionflow.models.synthetic.TransactionGenerator;
import io.decisionflow.schemas.DeadLetter;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.Transaction;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClientException;

/**
 * One demo run: publishes transactions on an open-loop schedule and collects the decisions and dead
 * letters that come out, with end-to-end latency from each transaction's event time.
 */
final class DemoRun {

  private final TransactionGenerator generator;
  private final Producer<Transaction> producer;
  private final Producer<byte[]> raw;
  private final Consumer<Decision> decisions;
  private final Consumer<DeadLetter> deadLetters;
  private final PrintStream out;

  /** Labels of the transactions of the measured phase, by id; null while warming up. */
  private final Map<String, Boolean> labels = new ConcurrentHashMap<>();

  private final Set<String> seen = ConcurrentHashMap.newKeySet();
  private final Histogram latencyMs = new Histogram(TimeUnit.HOURS.toMillis(1), 3);

  /** Time spent per hop, from each decision's lineage: to enrich, route, score, decide, us. */
  private final Map<String, Histogram> hops = new java.util.LinkedHashMap<>();

  {
    for (String hop : HOPS) {
      hops.put(hop, new Histogram(TimeUnit.HOURS.toMillis(1), 3));
    }
  }

  static final java.util.List<String> HOPS =
      java.util.List.of(
          "publish->enrich", "enrich->route", "route->score", "score->decide", "decide->consumer");
  private final Map<String, Long> byArm = new ConcurrentHashMap<>();
  private final Map<String, Long> deadByReason = new ConcurrentHashMap<>();
  private final AtomicLong decided = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();
  private final AtomicLong alerts = new AtomicLong();
  private final AtomicLong truePositives = new AtomicLong();
  private final AtomicLong frauds = new AtomicLong();
  private final AtomicLong dead = new AtomicLong();
  private final AtomicLong lastDecisionMs = new AtomicLong();
  private final Set<String> warmUpIds = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean running = new AtomicBoolean(true);
  private Thread receiver;

  DemoRun(
      TransactionGenerator generator,
      Producer<Transaction> producer,
      Producer<byte[]> raw,
      Consumer<Decision> decisions,
      Consumer<DeadLetter> deadLetters,
      PrintStream out) {
    this.generator = generator;
    this.producer = producer;
    this.raw = raw;
    this.decisions = decisions;
    this.deadLetters = deadLetters;
    this.out = out;
  }

  /** What the run measured. */
  record Summary(
      long sent,
      long malformed,
      long decided,
      long duplicates,
      long missing,
      double seconds,
      Histogram latencyMs,
      Map<String, Histogram> hops,
      long alerts,
      long truePositives,
      long frauds,
      Map<String, Long> byArm,
      long deadLetters,
      Map<String, Long> deadByReason) {

    String render(String namespace, int rate, long seed) {
      StringBuilder s = new StringBuilder();
      s.append("=== decisionflow demo: ").append(namespace).append(" ===\n");
      s.append(
          String.format(
              "sent            %d transactions at %d/s (%d malformed on purpose), seed %d%n",
              sent, rate, malformed, seed));
      s.append(
          String.format(
              "decisions       %d in %.1f s = %.1f decisions/s (%d missing, %d duplicates)%n",
              decided, seconds, decided / Math.max(seconds, 1e-9), missing, duplicates));
      if (latencyMs.getTotalCount() > 0) {
        s.append(
            String.format(
                "latency         end-to-end from event time: p50 %d ms, p95 %d ms, p99 %d ms, max %d ms%n",
                latencyMs.getValueAtPercentile(50),
                latencyMs.getValueAtPercentile(95),
                latencyMs.getValueAtPercentile(99),
                latencyMs.getMaxValue()));
      }
      StringBuilder perHop = new StringBuilder();
      hops.forEach(
          (hop, h) -> {
            if (h.getTotalCount() > 0) {
              perHop.append(
                  String.format(
                      "%n                %-17s p50 %5d ms, p99 %5d ms",
                      hop, h.getValueAtPercentile(50), h.getValueAtPercentile(99)));
            }
          });
      if (perHop.length() > 0) {
        s.append("per hop         from each decision's lineage:").append(perHop).append('\n');
      }
      double precision = alerts == 0 ? 0 : (double) truePositives / alerts;
      double recall = frauds == 0 ? 0 : (double) truePositives / frauds;
      s.append(
          String.format(
              "alerts          %d (%.2f%% of decisions); against the generator's labels: precision %.2f, recall %.2f (%d frauds)%n",
              alerts, 100.0 * alerts / Math.max(decided, 1), precision, recall, frauds));
      s.append("arms            ").append(new TreeMap<>(byArm)).append('\n');
      s.append("dead letters    ").append(deadLetters);
      new TreeMap<>(deadByReason)
          .forEach(
              (reason, n) -> s.append("\n                ").append(n).append(" x ").append(reason));
      return s.append('\n').toString();
    }
  }

  /** Publishes {@code n} transactions and waits for their decisions (model load, JIT, caches). */
  void warmUp(int n, Duration timeout) throws Exception {
    receiver = startReceiver();
    long started = System.nanoTime();
    for (int i = 0; i < n; i++) {
      Transaction txn = generator.next(System.currentTimeMillis()).transaction();
      warmUpIds.add(txn.getTransactionId());
      producer.sendAsync(txn);
    }
    producer.flush();
    out.printf("[demo] warm-up: %d transactions sent, waiting for their decisions%n", n);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!warmUpIds.isEmpty()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "warm-up: "
                + warmUpIds.size()
                + " of "
                + n
                + " decisions missing after "
                + timeout
                + "; check the function logs (pulsar-admin functions status / the instance logs)");
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    out.printf("[demo] warm-up done in %.1f s%n", (System.nanoTime() - started) / 1e9);
  }

  /** Publishes {@code count} transactions at {@code rate}/s and collects what comes out. */
  Summary stream(int rate, int count, int malformed, Duration timeout) throws Exception {
    long intervalNanos = 1_000_000_000L / rate;
    int malformedEvery = malformed == 0 ? Integer.MAX_VALUE : Math.max(1, count / malformed);
    long start = System.nanoTime();
    long startMs = System.currentTimeMillis();
    long nextReport = start + TimeUnit.SECONDS.toNanos(2);
    int sentMalformed = 0;
    for (int i = 0; i < count; i++) {
      long due = start + i * intervalNanos;
      long wait;
      while ((wait = due - System.nanoTime()) > 0) {
        LockSupport.parkNanos(wait);
      }
      if (i % malformedEvery == malformedEvery / 2 && sentMalformed < malformed) {
        sendMalformed(sentMalformed++);
      } else {
        TransactionGenerator.Labelled labelled = generator.next(System.currentTimeMillis());
        labels.put(labelled.transaction().getTransactionId(), labelled.fraud());
        if (labelled.fraud()) {
          frauds.incrementAndGet();
        }
        producer.sendAsync(labelled.transaction());
      }
      if (System.nanoTime() > nextReport) {
        progress(i + 1, count);
        nextReport += TimeUnit.SECONDS.toNanos(2);
      }
    }
    producer.flush();
    long expected = count - sentMalformed;
    long deadline = System.nanoTime() + timeout.toNanos();
    while ((decided.get() < expected || dead.get() < sentMalformed)
        && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(100);
      if (System.nanoTime() > nextReport) {
        progress(count, count);
        nextReport += TimeUnit.SECONDS.toNanos(2);
      }
    }
    running.set(false);
    receiver.join(TimeUnit.SECONDS.toMillis(5));
    double seconds = Math.max(1, lastDecisionMs.get() - startMs) / 1000.0;
    return new Summary(
        count,
        sentMalformed,
        decided.get(),
        duplicates.get(),
        Math.max(0, expected - decided.get()),
        seconds,
        latencyMs.copy(),
        hops,
        alerts.get(),
        truePositives.get(),
        frauds.get(),
        Map.copyOf(byArm),
        dead.get(),
        Map.copyOf(deadByReason));
  }

  private void progress(int sent, int count) {
    out.printf(
        "[demo] sent %d/%d, decided %d, alerts %d, dead letters %d%n",
        sent, count, decided.get(), alerts.get(), dead.get());
  }

  /** A record each of the kinds the pipeline must dead-letter. */
  private void sendMalformed(int n) throws PulsarClientException {
    Transaction valid = generator.next(System.currentTimeMillis()).transaction();
    switch (n % 3) {
      case 0 -> raw.sendAsync("this is not a protobuf transaction".getBytes());
      case 1 -> producer.sendAsync(valid.toBuilder().setAmount(-42.0).build());
      default -> producer.sendAsync(valid.toBuilder().clearCardId().build());
    }
  }

  private Thread startReceiver() {
    receive(deadLetters, this::onDeadLetter, "demo-dead-letters");
    return receive(decisions, this::onDecision, "demo-decisions");
  }

  /** Drains {@code consumer} on a thread of its own until the run ends. */
  private <T> Thread receive(
      Consumer<T> consumer, java.util.function.Consumer<T> handler, String name) {
    Thread thread =
        new Thread(
            () -> {
              while (running.get()) {
                try {
                  Message<T> message = consumer.receive(100, TimeUnit.MILLISECONDS);
                  if (message != null) {
                    handler.accept(message.getValue());
                    consumer.acknowledgeAsync(message);
                  }
                } catch (PulsarClientException e) {
                  if (running.get()) {
                    out.println("[demo] receive failed: " + e.getMessage());
                  }
                }
              }
            },
            name);
    thread.setDaemon(true);
    thread.start();
    return thread;
  }

  private void onDecision(Decision decision) {
    String id = decision.getTransactionId();
    if (warmUpIds.remove(id)) {
      return;
    }
    Boolean fraud = labels.get(id);
    if (fraud == null) {
      return; // not from this run
    }
    if (!seen.add(id)) {
      duplicates.incrementAndGet();
      return;
    }
    long now = System.currentTimeMillis();
    latencyMs.recordValue(Math.max(0, now - decision.getEventTimeMs()));
    long[] times = {
      decision.getEventTimeMs(),
      decision.getEnrichedAtMs(),
      decision.getRoutedAtMs(),
      decision.getScoredAtMs(),
      decision.getDecidedAtMs(),
      now
    };
    for (int i = 0; i < HOPS.size(); i++) {
      hops.get(HOPS.get(i)).recordValue(Math.max(0, times[i + 1] - times[i]));
    }
    lastDecisionMs.set(now);
    decided.incrementAndGet();
    byArm.merge(decision.getArm(), 1L, Long::sum);
    if ("ALERT".equals(decision.getOutcome())) {
      alerts.incrementAndGet();
      if (fraud) {
        truePositives.incrementAndGet();
      }
    }
  }

  private void onDeadLetter(DeadLetter letter) {
    dead.incrementAndGet();
    deadByReason.merge(letter.getStage() + ": " + letter.getReason(), 1L, Long::sum);
  }
}
