package io.decisionflow.tools.bench;

import io.decisionflow.models.synthetic.TransactionGenerator;
import io.decisionflow.schemas.Transaction;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Sends synthetic transactions on a {@link RateSchedule}, open loop: message {@code i} leaves at
 * its due time whatever happened to the ones before, with its due time as its event time (so a
 * system that falls behind shows it in its latency). Each transaction is keyed by its card, and its
 * label goes to the {@link GroundTruth} before it is sent.
 */
public final class LoadGenerator {

  /** Where transactions go: a Pulsar producer in production, a list in tests. */
  public interface Sink {
    /** Sends {@code txn} keyed by {@code key}; completes when the broker has it. */
    CompletableFuture<?> send(String key, Transaction txn, long eventTimeMs);
  }

  /** The time source: {@link #SYSTEM} in production, a fake in tests. */
  public interface Clock {
    long nanoTime();

    long currentTimeMillis();

    /** Returns at {@code nanoTime} or later. */
    void parkUntil(long nanoTime);

    Clock SYSTEM =
        new Clock() {
          @Override
          public long nanoTime() {
            return System.nanoTime();
          }

          @Override
          public long currentTimeMillis() {
            return System.currentTimeMillis();
          }

          @Override
          public void parkUntil(long nanoTime) {
            long wait;
            while ((wait = nanoTime - System.nanoTime()) > 0) {
              LockSupport.parkNanos(wait);
            }
          }
        };
  }

  /**
   * What a run did: messages sent and acknowledged by the broker, sends that failed, how far behind
   * its schedule the sender fell at worst (a pause of the sender's JVM or of the machine), and how
   * far behind it was at the last message (if much: the generator, not the system under test,
   * limited the rate).
   */
  public record Report(
      long sent, long acknowledged, long failed, long maxBehindMicros, long lastBehindMicros) {}

  private final TransactionGenerator generator;
  private final String cardPrefix;
  private final Sink sink;
  private final GroundTruth truth;
  private final Clock clock;
  private final AtomicLong acknowledged = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private volatile Throwable firstFailure;

  /**
   * @param cardPrefix put before every card id (and transaction id), so that a run's cards start
   *     without state earlier runs left
   */
  public LoadGenerator(
      TransactionGenerator generator,
      String cardPrefix,
      Sink sink,
      GroundTruth truth,
      Clock clock) {
    this.generator = generator;
    this.cardPrefix = cardPrefix;
    this.sink = sink;
    this.truth = truth;
    this.clock = clock;
  }

  /**
   * Sends the schedule's messages and returns once the last is sent (not acknowledged: see {@link
   * #acknowledged()}).
   *
   * @param progress called about every two seconds with the messages sent so far
   */
  public Report run(RateSchedule schedule, Consumer<Long> progress) {
    long start = clock.nanoTime();
    long startMs = clock.currentTimeMillis();
    long nextProgress = start + TimeUnit.SECONDS.toNanos(2);
    long maxBehind = 0;
    long behind = 0;
    long total = schedule.total();
    for (long i = 0; i < total; i++) {
      long due = schedule.dueNanos(i);
      clock.parkUntil(start + due);
      long now = clock.nanoTime();
      behind = now - start - due;
      maxBehind = Math.max(maxBehind, behind);
      long eventTimeMs = startMs + TimeUnit.NANOSECONDS.toMillis(due);
      TransactionGenerator.Labelled labelled = generator.next(eventTimeMs);
      Transaction generated = labelled.transaction();
      String card = cardPrefix + generated.getCardId();
      Transaction txn =
          generated.toBuilder()
              .setCardId(card)
              .setTransactionId(cardPrefix + generated.getTransactionId())
              .build();
      truth.add(txn.getTransactionId(), card, labelled);
      sink.send(card, txn, eventTimeMs)
          .whenComplete(
              (ok, e) -> {
                if (e == null) {
                  acknowledged.incrementAndGet();
                } else {
                  if (failed.getAndIncrement() == 0) {
                    firstFailure = e;
                  }
                }
              });
      if (now >= nextProgress) {
        progress.accept(i + 1);
        nextProgress += TimeUnit.SECONDS.toNanos(2);
      }
    }
    return new Report(
        total,
        acknowledged.get(),
        failed.get(),
        TimeUnit.NANOSECONDS.toMicros(maxBehind),
        TimeUnit.NANOSECONDS.toMicros(behind));
  }

  /** Sends acknowledged by the broker so far. */
  public long acknowledged() {
    return acknowledged.get();
  }

  /** Sends failed so far. */
  public long failed() {
    return failed.get();
  }

  /** The first send that failed, or null. */
  public Throwable firstFailure() {
    return firstFailure;
  }
}
