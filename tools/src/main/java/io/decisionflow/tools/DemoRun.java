package io.decisionflow.tools;

import io.decisionflow.models.synthetic.TransactionGenerator;
import io.decisionflow.models.train.Metrics;
import io.decisionflow.schemas.DeadLetter;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.tools.bench.LoadGenerator;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClientException;

/**
 * One demo run: publishes transactions on an open-loop schedule (the send times do not wait for the
 * pipeline) and collects the decisions and dead letters that come out, with end-to-end latency from
 * each transaction's event time. A warm-up phase runs first and is reported apart.
 */
final class DemoRun {

  /** The hops of a decision's lineage: publish, enrich, route, score, decide, received here. */
  static final List<String> HOPS =
      List.of("publish->enrich", "enrich->route", "route->score", "score->decide", "decide->here");

  private final TransactionGenerator generator;
  private final String cardPrefix;
  private final Producer<Transaction> producer;
  private final Producer<byte[]> raw;
  private final PrintStream out;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private volatile Phase phase = new Phase();

  /**
   * @param cardPrefix put before every card id, so that a run's cards start without the state that
   *     earlier runs left in the pipeline (the generator's labels assume cards it has seen only)
   */
  DemoRun(
      TransactionGenerator generator,
      String cardPrefix,
      Producer<Transaction> producer,
      Producer<byte[]> raw,
      Consumer<Decision> decisions,
      Consumer<DeadLetter> deadLetters,
      PrintStream out) {
    this.generator = generator;
    this.cardPrefix = cardPrefix;
    this.producer = producer;
    this.raw = raw;
    this.out = out;
    receive(decisions, d -> phase.onDecision(d), "demo-decisions");
    receive(deadLetters, l -> phase.onDeadLetter(l), "demo-dead-letters");
  }

  /**
   * Publishes transactions at {@code rate}/s for {@code count} transactions (of which {@code
   * malformed} are malformed on purpose) and waits up to {@code timeout} after the last send for
   * what comes out.
   */
  Summary stream(String name, int rate, int count, int malformed, Duration timeout)
      throws Exception {
    Phase current = new Phase();
    phase = current;
    long intervalNanos = 1_000_000_000L / rate;
    int malformedEvery = malformed == 0 ? Integer.MAX_VALUE : Math.max(1, count / malformed);
    long start = System.nanoTime();
    long startMs = System.currentTimeMillis();
    long nextReport = start + TimeUnit.SECONDS.toNanos(2);
    for (int i = 0; i < count; i++) {
      LoadGenerator.Clock.SYSTEM.parkUntil(start + i * intervalNanos);
      if (i % malformedEvery == malformedEvery / 2 && current.malformed < malformed) {
        sendMalformed(current.malformed++);
      } else {
        TransactionGenerator.Labelled labelled = generator.next(System.currentTimeMillis());
        current.expect(labelled);
        Transaction txn = labelled.transaction();
        producer.sendAsync(txn.toBuilder().setCardId(cardPrefix + txn.getCardId()).build());
      }
      if (System.nanoTime() > nextReport) {
        progress(name, current, i + 1, count);
        nextReport += TimeUnit.SECONDS.toNanos(2);
      }
    }
    producer.flush();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!current.complete() && System.nanoTime() < deadline) {
      TimeUnit.MILLISECONDS.sleep(50);
      if (System.nanoTime() > nextReport) {
        progress(name, current, count, count);
        nextReport += TimeUnit.SECONDS.toNanos(2);
      }
    }
    return current.summary(count, startMs);
  }

  /** Stops receiving. */
  void stop() {
    running.set(false);
  }

  private void progress(String name, Phase p, int sent, int count) {
    out.printf(
        "[demo] %s: sent %d/%d, decided %d, alerts %d, dead letters %d%n",
        name, sent, count, p.decided.get(), p.alerts.get(), p.dead.get());
  }

  /** One record of each kind the pipeline must dead-letter, in turn. */
  private void sendMalformed(int n) throws PulsarClientException {
    Transaction valid = generator.next(System.currentTimeMillis()).transaction();
    switch (n % 3) {
      case 0 ->
          raw.sendAsync("this is not a protobuf transaction".getBytes(StandardCharsets.UTF_8));
      case 1 -> producer.sendAsync(valid.toBuilder().setAmount(-42.0).build());
      default -> producer.sendAsync(valid.toBuilder().clearCardId().build());
    }
  }

  /** Drains {@code consumer} on a daemon thread of its own until the run stops. */
  private <T> void receive(
      Consumer<T> consumer, java.util.function.Consumer<T> handler, String name) {
    receive(consumer, handler, running, out, name);
  }

  /**
   * Drains {@code consumer} into {@code handler} on a daemon thread named {@code name} while {@code
   * running}, acknowledging each message; a failed receive is printed to {@code out}.
   */
  static <T> Thread receive(
      Consumer<T> consumer,
      java.util.function.Consumer<T> handler,
      AtomicBoolean running,
      PrintStream out,
      String name) {
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
                    out.println("[" + name + "] receive failed: " + e.getMessage());
                  }
                }
              }
            },
            name);
    thread.setDaemon(true);
    thread.start();
    return thread;
  }

  /** What one phase sent and received. Decisions of other phases are ignored. */
  private static final class Phase {
    private final Map<String, TransactionGenerator.Labelled> labels = new ConcurrentHashMap<>();
    private final Set<String> seen = ConcurrentHashMap.newKeySet();
    private final Histogram latencyMs = new Histogram(TimeUnit.HOURS.toMillis(1), 3);
    private final Map<String, Histogram> hops = new LinkedHashMap<>();
    private final Map<String, ArmQuality> byArm = new TreeMap<>();
    private final ArmQuality bayes = new ArmQuality();
    private final Map<String, Long> deadByReason = new ConcurrentHashMap<>();
    private final AtomicLong decided = new AtomicLong();
    private final AtomicLong duplicates = new AtomicLong();
    private final AtomicLong alerts = new AtomicLong();
    private final AtomicLong truePositives = new AtomicLong();
    private final AtomicLong frauds = new AtomicLong();
    private final AtomicLong dead = new AtomicLong();
    private final AtomicLong lastDecisionMs = new AtomicLong();
    private int malformed;

    Phase() {
      HOPS.forEach(hop -> hops.put(hop, new Histogram(TimeUnit.HOURS.toMillis(1), 3)));
    }

    void expect(TransactionGenerator.Labelled labelled) {
      labels.put(labelled.transaction().getTransactionId(), labelled);
      if (labelled.fraud()) {
        frauds.incrementAndGet();
      }
    }

    boolean complete() {
      return decided.get() >= labels.size() && dead.get() >= malformed;
    }

    synchronized void onDecision(Decision decision) {
      String id = decision.getTransactionId();
      TransactionGenerator.Labelled labelled = labels.get(id);
      if (labelled == null) {
        return; // not from this phase
      }
      boolean fraud = labelled.fraud();
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
      byArm
          .computeIfAbsent(decision.getArm(), arm -> new ArmQuality())
          .add(decision, decision.getScore(), fraud);
      bayes.add(decision, labelled.fraudProbability(), fraud);
      if ("ALERT".equals(decision.getOutcome())) {
        alerts.incrementAndGet();
        if (fraud) {
          truePositives.incrementAndGet();
        }
      }
      decided.incrementAndGet();
    }

    private Map<String, String> byArmLines() {
      Map<String, String> lines = new TreeMap<>();
      byArm.forEach((arm, q) -> lines.put(arm, q.line()));
      return lines;
    }

    void onDeadLetter(DeadLetter letter) {
      dead.incrementAndGet();
      deadByReason.merge(letter.getStage() + ": " + letter.getReason(), 1L, Long::sum);
    }

    synchronized Summary summary(int sent, long startMs) {
      double seconds = Math.max(1, lastDecisionMs.get() - startMs) / 1000.0;
      Map<String, Histogram> hopCopies = new LinkedHashMap<>();
      hops.forEach((hop, h) -> hopCopies.put(hop, h.copy()));
      return new Summary(
          sent,
          malformed,
          decided.get(),
          duplicates.get(),
          Math.max(0, labels.size() - decided.get()),
          seconds,
          latencyMs.copy(),
          hopCopies,
          alerts.get(),
          truePositives.get(),
          frauds.get(),
          byArmLines(),
          bayes.auc(),
          dead.get(),
          new TreeMap<>(deadByReason));
    }
  }

  /** Decisions of one arm: how many, by which model versions, and how well their scores rank. */
  private static final class ArmQuality {
    private final Map<String, Long> versions = new TreeMap<>();
    private float[] scores = new float[256];
    private float[] labels = new float[256];
    private int n;
    private long alerts;
    private long truePositives;
    private long frauds;

    void add(Decision decision, double score, boolean fraud) {
      versions.merge(decision.getModelSlot() + " " + decision.getModelVersion(), 1L, Long::sum);
      if (n == scores.length) {
        scores = Arrays.copyOf(scores, n * 2);
        labels = Arrays.copyOf(labels, n * 2);
      }
      scores[n] = (float) score;
      labels[n] = fraud ? 1f : 0f;
      n++;
      if (fraud) {
        frauds++;
      }
      if ("ALERT".equals(decision.getOutcome())) {
        alerts++;
        if (fraud) {
          truePositives++;
        }
      }
    }

    /** AUC of the scores against the labels; NaN while one class is missing. */
    double auc() {
      float[] s = Arrays.copyOf(scores, n);
      float[] l = Arrays.copyOf(labels, n);
      if (frauds == 0 || frauds == n) {
        return Double.NaN;
      }
      return Metrics.auc(s, l);
    }

    String line() {
      return String.format(
          "%d decisions %s: AUC %.3f, %d alerts, precision %.2f, recall %.2f",
          n,
          versions,
          auc(),
          alerts,
          alerts == 0 ? 0 : (double) truePositives / alerts,
          frauds == 0 ? 0 : (double) truePositives / frauds);
    }
  }

  /** What a phase measured. */
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
      Map<String, String> byArm,
      double bayesAuc,
      long deadLetters,
      Map<String, Long> deadByReason) {

    double decisionsPerSecond() {
      return decided / Math.max(seconds, 1e-9);
    }

    /** One line, for the warm-up. */
    String line() {
      return String.format(
          "%d decisions, %.1f/s, latency p50 %d ms, p99 %d ms",
          decided,
          decisionsPerSecond(),
          latencyMs.getValueAtPercentile(50),
          latencyMs.getValueAtPercentile(99));
    }

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
              decided, seconds, decisionsPerSecond(), missing, duplicates));
      if (latencyMs.getTotalCount() > 0) {
        s.append(
            String.format(
                "latency         end-to-end from event time: p50 %d ms, p95 %d ms, p99 %d ms,"
                    + " max %d ms%n",
                latencyMs.getValueAtPercentile(50),
                latencyMs.getValueAtPercentile(95),
                latencyMs.getValueAtPercentile(99),
                latencyMs.getMaxValue()));
        s.append("per hop         from each decision's lineage:");
        hops.forEach(
            (hop, h) ->
                s.append(
                    String.format(
                        "%n                %-16s p50 %5d ms, p99 %5d ms",
                        hop, h.getValueAtPercentile(50), h.getValueAtPercentile(99))));
        s.append('\n');
      }
      double precision = alerts == 0 ? 0 : (double) truePositives / alerts;
      double recall = frauds == 0 ? 0 : (double) truePositives / frauds;
      s.append(
          String.format(
              "alerts          %d (%.2f%% of decisions); against the generator's labels:"
                  + " precision %.2f, recall %.2f (%d frauds)%n",
              alerts, 100.0 * alerts / Math.max(decided, 1), precision, recall, frauds));
      s.append("arms            by the model version that scored them (AUC of their scores against")
          .append(" the labels;")
          .append(
              String.format(
                  " the best possible on this stream, Bayes-optimal, is %.3f):", bayesAuc));
      byArm.forEach(
          (arm, line) -> s.append(String.format("%n                %-11s %s", arm, line)));
      s.append('\n');
      s.append("dead letters    ").append(deadLetters);
      deadByReason.forEach(
          (reason, n) -> s.append("\n                ").append(n).append(" x ").append(reason));
      return s.append('\n').toString();
    }
  }
}
