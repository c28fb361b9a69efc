package io.decisionflow.stages.score;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.stages.MutableClock;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class MicroBatcherTest {

  private static final Duration MAX_WAIT = Duration.ofMillis(10);

  private final MutableClock clock = new MutableClock(Instant.parse("2025-03-14T12:00:00Z"));

  /** Every batch the processor got, in call order. */
  private final List<List<Integer>> calls = Collections.synchronizedList(new ArrayList<>());

  /** Records the batch and maps each item {@code i} to {@code "r" + i}. */
  private final Function<List<Integer>, List<String>> recording =
      batch -> {
        calls.add(List.copyOf(batch));
        return batch.stream().map(i -> "r" + i).toList();
      };

  private MicroBatcher<Integer, String> batcher(int maxBatchSize) {
    return new MicroBatcher<>(maxBatchSize, MAX_WAIT, recording, clock);
  }

  /** The exception a future was completed with, unwrapped; null if it succeeded. */
  private static Throwable failureOf(CompletableFuture<?> future) {
    assertThat(future).isDone();
    return future.handle((result, failure) -> failure).join();
  }

  @Test
  void rejectsInvalidArguments() {
    Function<List<Integer>, List<String>> p = recording;
    assertThatThrownBy(() -> new MicroBatcher<>(0, MAX_WAIT, p, clock))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxBatchSize")
        .hasMessageContaining("0");
    assertThatThrownBy(() -> new MicroBatcher<>(1, Duration.ofMillis(-1), p, clock))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxWait")
        .hasMessageContaining("PT-0.001S");
    assertThatThrownBy(() -> new MicroBatcher<>(1, null, p, clock))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxWait");
    assertThatThrownBy(() -> new MicroBatcher<Integer, String>(1, MAX_WAIT, null, clock))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("processor");
    assertThatThrownBy(() -> new MicroBatcher<>(1, MAX_WAIT, p, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("clock");
  }

  @Test
  void flushesOnTheSubmittingThreadWhenTheBatchIsFull() {
    // Given
    MicroBatcher<Integer, String> batcher = batcher(3);
    CompletableFuture<String> first = batcher.submit(1);
    CompletableFuture<String> second = batcher.submit(2);
    assertThat(calls).isEmpty();
    assertThat(first).isNotDone();

    // When
    CompletableFuture<String> third = batcher.submit(3);

    // Then
    assertThat(calls).containsExactly(List.of(1, 2, 3));
    assertThat(first).isCompletedWithValue("r1");
    assertThat(second).isCompletedWithValue("r2");
    assertThat(third).isCompletedWithValue("r3");
    assertThat(batcher.batches()).isEqualTo(1);
    assertThat(batcher.items()).isEqualTo(3);
    assertThat(batcher.lastBatchSize()).isEqualTo(3);
    assertThat(batcher.untilDue()).isNull();
  }

  @Test
  void doesNotFlushBeforeMaxWait() {
    // Given
    MicroBatcher<Integer, String> batcher = batcher(3);
    CompletableFuture<String> future = batcher.submit(1);

    // When
    clock.advance(MAX_WAIT.minusNanos(1));

    // Then
    assertThat(batcher.flushIfDue()).isFalse();
    assertThat(calls).isEmpty();
    assertThat(future).isNotDone();
    assertThat(batcher.batches()).isZero();
  }

  @Test
  void flushIfDueFlushesAtExactlyMaxWait() {
    // Given
    MicroBatcher<Integer, String> batcher = batcher(3);
    CompletableFuture<String> first = batcher.submit(1);
    clock.advance(Duration.ofMillis(4));
    CompletableFuture<String> second = batcher.submit(2);

    // When: the oldest item has waited exactly maxWait
    clock.advance(Duration.ofMillis(6));

    // Then
    assertThat(batcher.flushIfDue()).isTrue();
    assertThat(calls).containsExactly(List.of(1, 2));
    assertThat(first).isCompletedWithValue("r1");
    assertThat(second).isCompletedWithValue("r2");
    assertThat(batcher.flushIfDue()).isFalse();
    assertThat(batcher.lastBatchSize()).isEqualTo(2);
  }

  @Test
  void flushIfDueDoesNothingWhenNothingIsPending() {
    MicroBatcher<Integer, String> batcher = batcher(3);
    clock.advance(MAX_WAIT.multipliedBy(5));

    assertThat(batcher.flushIfDue()).isFalse();
    assertThat(calls).isEmpty();
  }

  @Test
  void untilDueCountsDownFromTheOldestPendingItem() {
    MicroBatcher<Integer, String> batcher = batcher(3);
    assertThat(batcher.untilDue()).isNull();

    batcher.submit(1);
    assertThat(batcher.untilDue()).isEqualTo(MAX_WAIT);

    clock.advance(Duration.ofMillis(4));
    batcher.submit(2);
    assertThat(batcher.untilDue()).isEqualTo(Duration.ofMillis(6));

    clock.advance(Duration.ofMillis(6));
    assertThat(batcher.untilDue()).isEqualTo(Duration.ZERO);

    clock.advance(Duration.ofMillis(100));
    assertThat(batcher.untilDue()).isEqualTo(Duration.ZERO);

    batcher.flushIfDue();
    assertThat(batcher.untilDue()).isNull();

    // The next batch's wait starts at its own first item.
    batcher.submit(3);
    assertThat(batcher.untilDue()).isEqualTo(MAX_WAIT);
  }

  @Test
  void aClockThatWentBackMakesTheBatchDueInsteadOfStrandingIt() {
    MicroBatcher<Integer, String> batcher = batcher(3);
    CompletableFuture<String> future = batcher.submit(1);

    clock.advance(Duration.ofHours(-1));

    assertThat(batcher.untilDue()).isEqualTo(Duration.ZERO);
    assertThat(batcher.flushIfDue()).isTrue();
    assertThat(future).isCompletedWithValue("r1");
  }

  @Test
  void submitFlushesAPartialBatchWhoseOldestItemIsAlreadyDue() {
    // Given: the timer is late
    MicroBatcher<Integer, String> batcher = batcher(3);
    CompletableFuture<String> first = batcher.submit(1);
    clock.advance(MAX_WAIT);

    // When
    CompletableFuture<String> second = batcher.submit(2);

    // Then
    assertThat(calls).containsExactly(List.of(1, 2));
    assertThat(first).isCompletedWithValue("r1");
    assertThat(second).isCompletedWithValue("r2");
  }

  @Test
  void zeroMaxWaitFlushesEverySubmitAtOnce() {
    MicroBatcher<Integer, String> batcher = new MicroBatcher<>(8, Duration.ZERO, recording, clock);

    assertThat(batcher.submit(1)).isCompletedWithValue("r1");
    assertThat(batcher.submit(2)).isCompletedWithValue("r2");

    assertThat(calls).containsExactly(List.of(1), List.of(2));
    assertThat(batcher.untilDue()).isNull();
  }

  @Test
  void preservesSubmitOrderAcrossBatches() {
    // Given
    MicroBatcher<Integer, String> batcher = batcher(3);
    List<CompletableFuture<String>> futures = new ArrayList<>();

    // When
    for (int i = 0; i < 8; i++) {
      futures.add(batcher.submit(i));
    }
    batcher.flush();

    // Then
    assertThat(calls).containsExactly(List.of(0, 1, 2), List.of(3, 4, 5), List.of(6, 7));
    for (int i = 0; i < 8; i++) {
      assertThat(futures.get(i)).isCompletedWithValue("r" + i);
    }
    assertThat(batcher.batches()).isEqualTo(3);
    assertThat(batcher.items()).isEqualTo(8);
    assertThat(batcher.lastBatchSize()).isEqualTo(2);
  }

  @Test
  void flushWithNothingPendingDoesNotCallTheProcessor() {
    MicroBatcher<Integer, String> batcher = batcher(3);

    batcher.flush();

    assertThat(calls).isEmpty();
    assertThat(batcher.batches()).isZero();
  }

  @Test
  void aThrowingProcessorFailsEveryFutureOfItsBatchAndTheNextBatchWorks() {
    // Given
    RuntimeException boom = new RuntimeException("model exploded");
    AtomicBoolean fail = new AtomicBoolean(true);
    MicroBatcher<Integer, String> batcher =
        new MicroBatcher<>(
            2,
            MAX_WAIT,
            batch -> {
              if (fail.getAndSet(false)) {
                throw boom;
              }
              return recording.apply(batch);
            },
            clock);

    // When
    CompletableFuture<String> first = batcher.submit(1);
    CompletableFuture<String> second = batcher.submit(2);
    CompletableFuture<String> third = batcher.submit(3);
    CompletableFuture<String> fourth = batcher.submit(4);

    // Then
    assertThat(failureOf(first)).isSameAs(boom);
    assertThat(failureOf(second)).isSameAs(boom);
    assertThat(third).isCompletedWithValue("r3");
    assertThat(fourth).isCompletedWithValue("r4");
    assertThat(calls).containsExactly(List.of(3, 4));
    assertThat(batcher.batches()).isEqualTo(2);
    assertThat(batcher.items()).isEqualTo(4);
  }

  @Test
  void anErrorFromTheProcessorAlsoFailsTheFuturesAndDoesNotEscape() {
    AssertionError error = new AssertionError("native crash");
    MicroBatcher<Integer, String> batcher =
        new MicroBatcher<>(
            1,
            MAX_WAIT,
            batch -> {
              throw error;
            },
            clock);

    CompletableFuture<String> future = batcher.submit(1);

    assertThat(failureOf(future)).isSameAs(error);
  }

  @Test
  void aResultListOfTheWrongSizeFailsTheBatchNamingBothSizes() {
    // Given
    MicroBatcher<Integer, String> batcher =
        new MicroBatcher<>(3, MAX_WAIT, batch -> List.of("only", "two"), clock);

    // When
    List<CompletableFuture<String>> futures =
        List.of(batcher.submit(1), batcher.submit(2), batcher.submit(3));

    // Then
    for (CompletableFuture<String> future : futures) {
      assertThat(failureOf(future))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("returned 2 results for a batch of 3 items");
    }
  }

  @Test
  void aNullResultListFailsTheBatch() {
    MicroBatcher<Integer, String> batcher = new MicroBatcher<>(1, MAX_WAIT, batch -> null, clock);

    CompletableFuture<String> future = batcher.submit(1);

    assertThat(failureOf(future))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("null");
  }

  @Test
  void theProcessorCannotModifyTheBatch() {
    MicroBatcher<Integer, String> batcher =
        new MicroBatcher<>(
            1,
            MAX_WAIT,
            batch -> {
              batch.clear();
              return List.of("unreachable");
            },
            clock);

    assertThat(failureOf(batcher.submit(1))).isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void closeFlushesPendingItemsThenRefusesNewOnes() {
    // Given
    MicroBatcher<Integer, String> batcher = batcher(3);
    CompletableFuture<String> first = batcher.submit(1);
    CompletableFuture<String> second = batcher.submit(2);

    // When
    batcher.close();

    // Then
    assertThat(calls).containsExactly(List.of(1, 2));
    assertThat(first).isCompletedWithValue("r1");
    assertThat(second).isCompletedWithValue("r2");
    assertThatThrownBy(() -> batcher.submit(3))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");

    batcher.close();
    assertThat(batcher.flushIfDue()).isFalse();
    assertThat(calls).hasSize(1);
    assertThat(batcher.untilDue()).isNull();
  }

  @Test
  void submitDoesNotWaitForABatchBeingProcessed() throws Exception {
    // Given: a batch stuck in the processor on another thread
    CountDownLatch inProcessor = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    MicroBatcher<Integer, String> batcher =
        new MicroBatcher<>(
            2,
            MAX_WAIT,
            batch -> {
              if (batch.contains(1)) {
                inProcessor.countDown();
                await(release);
              }
              return recording.apply(batch);
            },
            clock);
    CompletableFuture<Void> flusher =
        CompletableFuture.runAsync(
            () -> {
              batcher.submit(1);
              batcher.submit(2);
            });
    assertThat(inProcessor.await(5, SECONDS)).isTrue();

    // When
    CompletableFuture<String> third =
        CompletableFuture.supplyAsync(() -> batcher.submit(3)).get(5, SECONDS);

    // Then
    assertThat(third).isNotDone();
    assertThat(batcher.untilDue()).isEqualTo(MAX_WAIT);
    release.countDown();
    flusher.get(5, SECONDS);
    batcher.flush();
    assertThat(calls).containsExactly(List.of(1, 2), List.of(3));
    assertThat(third).isCompletedWithValue("r3");
  }

  @Test
  void concurrentSubmitsAreAllProcessedInOrderInBatchesOfAtMostMaxBatchSize() throws Exception {
    // Given
    int threads = 4;
    int perThread = 1000;
    int maxBatchSize = 16;
    AtomicInteger inProcessor = new AtomicInteger();
    AtomicInteger mostInProcessor = new AtomicInteger();
    MicroBatcher<Integer, String> batcher =
        new MicroBatcher<>(
            maxBatchSize,
            Duration.ofMillis(5),
            batch -> {
              mostInProcessor.accumulateAndGet(inProcessor.incrementAndGet(), Math::max);
              try {
                return recording.apply(batch);
              } finally {
                inProcessor.decrementAndGet();
              }
            },
            clock);
    CountDownLatch start = new CountDownLatch(1);
    List<List<CompletableFuture<String>>> futures = new ArrayList<>();
    List<Thread> submitters = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int base = t * perThread;
      List<CompletableFuture<String>> mine = new ArrayList<>();
      futures.add(mine);
      submitters.add(
          new Thread(
              () -> {
                await(start);
                for (int i = 0; i < perThread; i++) {
                  mine.add(batcher.submit(base + i));
                }
              }));
    }
    // Plays the timer: moves the clock and flushes partial batches while items come in.
    AtomicBoolean submitting = new AtomicBoolean(true);
    Thread timer =
        new Thread(
            () -> {
              await(start);
              while (submitting.get()) {
                clock.advance(Duration.ofMillis(1));
                batcher.flushIfDue();
              }
            });

    // When
    submitters.forEach(Thread::start);
    timer.start();
    start.countDown();
    for (Thread submitter : submitters) {
      submitter.join(10_000);
      assertThat(submitter.isAlive()).isFalse();
    }
    submitting.set(false);
    timer.join(10_000);
    assertThat(timer.isAlive()).isFalse();
    batcher.close();

    // Then
    for (int t = 0; t < threads; t++) {
      List<CompletableFuture<String>> mine = futures.get(t);
      assertThat(mine).hasSize(perThread);
      for (int i = 0; i < perThread; i++) {
        assertThat(mine.get(i)).isCompletedWithValue("r" + (t * perThread + i));
      }
    }
    assertThat(mostInProcessor).hasValue(1);
    assertThat(calls).allSatisfy(batch -> assertThat(batch).hasSizeBetween(1, maxBatchSize));
    List<Integer> processed = calls.stream().flatMap(List::stream).toList();
    assertThat(processed).hasSize(threads * perThread).doesNotHaveDuplicates();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      // Each thread's items were processed in the order that thread submitted them.
      assertThat(processed.stream().filter(i -> i / perThread == thread).toList()).isSorted();
    }
    assertThat(batcher.batches()).isEqualTo(calls.size());
    assertThat(batcher.items()).isEqualTo(threads * perThread);
  }

  @Test
  void theTimerFlushesAPartialBatchByItself() throws Exception {
    // Given
    List<String> processingThreads = Collections.synchronizedList(new ArrayList<>());
    MicroBatcher<Integer, String> batcher =
        new MicroBatcher<>(
            100,
            Duration.ofMillis(1),
            batch -> {
              processingThreads.add(Thread.currentThread().getName());
              return recording.apply(batch);
            },
            Clock.systemUTC());

    try (MicroBatchTimer timer = MicroBatchTimer.start(batcher)) {
      // When
      CompletableFuture<String> first = batcher.submit(1);
      CompletableFuture<String> second = batcher.submit(2);

      // Then
      assertThat(first.get(5, SECONDS)).isEqualTo("r1");
      assertThat(second.get(5, SECONDS)).isEqualTo("r2");
      assertThat(processingThreads).containsOnly(MicroBatchTimer.THREAD_NAME);
      assertThat(timer.isAlive()).isTrue();
    } finally {
      batcher.close();
    }
  }

  @Test
  void closingTheTimerStopsItsThread() {
    MicroBatcher<Integer, String> batcher =
        new MicroBatcher<>(100, Duration.ofHours(1), recording, Clock.systemUTC());
    MicroBatchTimer timer = MicroBatchTimer.start(batcher, "test-timer");

    timer.close();
    timer.close();

    assertThat(timer.isAlive()).isFalse();
    // Pending items stay with the batcher, which flushes them on close.
    CompletableFuture<String> future = batcher.submit(1);
    batcher.close();
    assertThat(future).isCompletedWithValue("r1");
  }

  @Test
  void theTimerRejectsNullArguments() {
    MicroBatcher<Integer, String> batcher = batcher(1);
    assertThatThrownBy(() -> MicroBatchTimer.start(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("batcher");
    assertThatThrownBy(() -> MicroBatchTimer.start(batcher, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("threadName");
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(5, SECONDS)) {
        throw new AssertionError("latch not released within 5 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
