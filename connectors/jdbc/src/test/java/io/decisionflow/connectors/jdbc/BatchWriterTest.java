package io.decisionflow.connectors.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.decisionflow.schemas.Decision;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BatchWriterTest {

  /** Commits, or fails while {@code down}; records what it committed. */
  private static final class FakeStore implements DecisionStore {
    final List<List<String>> committed = new CopyOnWriteArrayList<>();
    volatile boolean down;

    @Override
    public void upsert(List<Decision> decisions) throws SQLException {
      if (down) {
        throw new SQLException("An I/O error occurred while sending to the backend.");
      }
      committed.add(decisions.stream().map(Decision::getTransactionId).toList());
    }

    @Override
    public void close() {}
  }

  private final FakeStore store = new FakeStore();

  @Test
  void aBatchIsAcknowledgedOnlyOnceCommitted() throws Exception {
    BatchWriter writer = new BatchWriter(store, 500, 200, 1000, 10_000);
    List<FakeRecord> records = records("a", 3);
    for (FakeRecord r : records) {
      writer.write(r);
    }
    assertThat(records).allMatch(r -> r.acks.get() == 0);

    BatchWriter.Flush flush = writer.flushOnce();

    assertThat(flush).isEqualTo(new BatchWriter.Flush(3, 0));
    assertThat(store.committed).containsExactly(List.of("a0", "a1", "a2"));
    assertThat(records).allMatch(r -> r.acks.get() == 1 && r.fails.get() == 0);
    assertThat(writer.written()).isEqualTo(3);
  }

  @Test
  void aFailedBatchFailsEveryRecordAndAcknowledgesNone() throws Exception {
    BatchWriter writer = new BatchWriter(store, 500, 200, 1000, 10_000);
    List<FakeRecord> records = records("b", 4);
    for (FakeRecord r : records) {
      writer.write(r);
    }
    store.down = true;

    BatchWriter.Flush flush = writer.flushOnce();

    assertThat(flush).isEqualTo(new BatchWriter.Flush(0, 4));
    assertThat(records).allMatch(r -> r.fails.get() == 1 && r.acks.get() == 0);
    assertThat(store.committed).isEmpty();
    assertThat(writer.pending()).isZero();
  }

  @Test
  void batchesHoldAtMostBatchSizeRecordsInArrivalOrder() throws Exception {
    BatchWriter writer = new BatchWriter(store, 2, 200, 1000, 10_000);
    for (FakeRecord r : records("c", 5)) {
      writer.write(r);
    }

    writer.flushOnce();
    writer.flushOnce();
    writer.flushOnce();

    assertThat(store.committed)
        .containsExactly(List.of("c0", "c1"), List.of("c2", "c3"), List.of("c4"));
  }

  @Test
  void theWaitDoublesWithEachFailureUpToTheBoundAndResetsOnSuccess() throws Exception {
    BatchWriter writer = new BatchWriter(store, 500, 200, 1000, 3_000);
    store.down = true;
    List<Long> delays = new ArrayList<>();
    delays.add(writer.nextDelayMs());
    for (int i = 0; i < 6; i++) {
      writer.write(new FakeRecord("d" + i));
      writer.flushOnce();
      delays.add(writer.nextDelayMs());
    }
    assertThat(delays).containsExactly(200L, 400L, 800L, 1600L, 3000L, 3000L, 3000L);

    store.down = false;
    writer.write(new FakeRecord("d-ok"));
    writer.flushOnce();
    assertThat(writer.nextDelayMs()).isEqualTo(200);
    assertThat(writer.failedFlushes()).isEqualTo(6);
  }

  @Test
  void writeBlocksWhileMaxPendingRecordsWait() throws Exception {
    BatchWriter writer = new BatchWriter(store, 2, 200, 2, 10_000);
    writer.write(new FakeRecord("e0"));
    writer.write(new FakeRecord("e1"));

    CompletableFuture<Void> third =
        CompletableFuture.runAsync(
            () -> {
              try {
                writer.write(new FakeRecord("e2"));
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    // Still blocked after a while: nothing is dropped, the sink's thread waits.
    assertThat(catchTimeout(third)).isTrue();

    writer.flushOnce();
    third.get(10, TimeUnit.SECONDS);
    assertThat(writer.pending()).isEqualTo(1);
  }

  @Test
  void theWritingThreadWritesWhatArrivesAndRecoversAfterAnOutage() throws Exception {
    BatchWriter writer = new BatchWriter(store, 100, 10, 1000, 50);
    writer.start();
    try {
      List<FakeRecord> before = records("f", 10);
      for (FakeRecord r : before) {
        writer.write(r);
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> writer.written() == 10);

      store.down = true;
      List<FakeRecord> during = records("g", 10);
      for (FakeRecord r : during) {
        writer.write(r);
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> writer.failedFlushes() >= 1);
      assertThat(during).allMatch(r -> r.acks.get() == 0);

      store.down = false;
      List<FakeRecord> after = records("h", 10);
      for (FakeRecord r : after) {
        writer.write(r);
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> writer.written() == 20);
      assertThat(after).allMatch(r -> r.acks.get() == 1);
    } finally {
      writer.close();
    }
  }

  private static boolean catchTimeout(CompletableFuture<Void> future) throws Exception {
    try {
      future.get(300, TimeUnit.MILLISECONDS);
      return false;
    } catch (java.util.concurrent.TimeoutException e) {
      return true;
    }
  }

  private static List<FakeRecord> records(String prefix, int n) {
    List<FakeRecord> records = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      records.add(new FakeRecord(prefix + i));
    }
    return records;
  }
}
