package io.decisionflow.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.decisionflow.models.synthetic.TransactionGenerator;
import io.decisionflow.schemas.Transaction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class LoadGeneratorTest {

  /** A clock that jumps to wherever the generator parks, plus a delay per send if asked. */
  private static final class FakeClock implements LoadGenerator.Clock {
    long nanos = 5_000_000_000L;
    final long startMs = 1_700_000_000_000L;
    long sendCostNanos;

    @Override
    public long nanoTime() {
      return nanos;
    }

    @Override
    public long currentTimeMillis() {
      return startMs + (nanos - 5_000_000_000L) / 1_000_000;
    }

    @Override
    public void parkUntil(long nanoTime) {
      nanos = Math.max(nanos, nanoTime);
    }
  }

  private record Sent(String key, Transaction txn, long eventTimeMs, long atNanos) {}

  @Test
  void sendsEachMessageAtItsDueTimeKeyedByCardWithItsLabel() {
    FakeClock clock = new FakeClock();
    List<Sent> sent = new ArrayList<>();
    GroundTruth truth = new GroundTruth();
    LoadGenerator generator =
        new LoadGenerator(
            new TransactionGenerator(TransactionGenerator.Options.defaults(7)),
            "run1-",
            (key, txn, eventTimeMs) -> {
              sent.add(new Sent(key, txn, eventTimeMs, clock.nanos));
              clock.nanos += clock.sendCostNanos;
              return CompletableFuture.completedFuture(null);
            },
            truth,
            clock);

    LoadGenerator.Report report =
        generator.run(RateSchedule.constant(200, Duration.ofSeconds(3)), n -> {});

    assertThat(report.sent()).isEqualTo(600);
    assertThat(report.acknowledged()).isEqualTo(600);
    assertThat(report.failed()).isZero();
    assertThat(report.maxBehindMicros()).isZero();
    assertThat(report.lastBehindMicros()).isZero();
    assertThat(sent).hasSize(600);
    assertThat(truth.size()).isEqualTo(600);
    for (int i = 0; i < sent.size(); i++) {
      Sent s = sent.get(i);
      assertThat(s.atNanos()).isEqualTo(5_000_000_000L + i * 5_000_000L);
      assertThat(s.eventTimeMs()).isEqualTo(clock.startMs + i * 5L);
      assertThat(s.key()).isEqualTo(s.txn().getCardId()).startsWith("run1-");
      assertThat(s.txn().getTransactionId()).startsWith("run1-");
      assertThat(truth.get(s.txn().getTransactionId()).cardId()).isEqualTo(s.key());
    }
    assertThat(sent.stream().map(Sent::key).distinct().count()).isGreaterThan(100);
  }

  @Test
  void aSlowSenderKeepsTheDueTimesAsEventTimesAndReportsHowFarBehindItFell() {
    FakeClock clock = new FakeClock();
    clock.sendCostNanos = 3_000_000; // 3 ms per send at 500/s (2 ms apart): falls behind
    List<Sent> sent = new ArrayList<>();
    LoadGenerator generator =
        new LoadGenerator(
            new TransactionGenerator(TransactionGenerator.Options.defaults(7)),
            "",
            (key, txn, eventTimeMs) -> {
              sent.add(new Sent(key, txn, eventTimeMs, clock.nanos));
              clock.nanos += clock.sendCostNanos;
              return CompletableFuture.completedFuture(null);
            },
            new GroundTruth(),
            clock);

    LoadGenerator.Report report =
        generator.run(RateSchedule.constant(500, Duration.ofSeconds(1)), n -> {});

    assertThat(sent).hasSize(500);
    // The event time is when the message was due, not when the slow sender got to it
    assertThat(sent.get(499).eventTimeMs()).isEqualTo(clock.startMs + 998);
    assertThat(report.maxBehindMicros()).isEqualTo(499 * 1000L);
    assertThat(report.lastBehindMicros()).isEqualTo(499 * 1000L);
  }

  @Test
  void countsFailedSends() {
    FakeClock clock = new FakeClock();
    int[] n = {0};
    LoadGenerator generator =
        new LoadGenerator(
            new TransactionGenerator(TransactionGenerator.Options.defaults(7)),
            "",
            (key, txn, eventTimeMs) ->
                n[0]++ % 4 == 0
                    ? CompletableFuture.failedFuture(new IllegalStateException("queue full"))
                    : CompletableFuture.completedFuture(null),
            new GroundTruth(),
            clock);

    LoadGenerator.Report report =
        generator.run(RateSchedule.constant(100, Duration.ofSeconds(1)), p -> {});

    assertThat(report.failed()).isEqualTo(25);
    assertThat(report.acknowledged()).isEqualTo(75);
    assertThat(generator.firstFailure()).hasMessage("queue full");
  }
}
