package io.decisionflow.connectors.archive;

import static io.decisionflow.connectors.archive.Decisions.OTHER_PARTITION;
import static io.decisionflow.connectors.archive.Decisions.T0;
import static io.decisionflow.connectors.archive.Decisions.TOPIC;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.util.JsonFormat;
import io.decisionflow.schemas.Decision;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPInputStream;
import org.apache.pulsar.client.api.MessageId;
import org.junit.jupiter.api.Test;

class ArchiverTest {

  private static final Duration MAX_AGE = Duration.ofSeconds(60);
  private static final String HOUR_07 =
      "decisions/tenant=payments/namespace=fraud/date=2026-01-01/hour=07/";

  private final MutableClock clock = new MutableClock(Instant.ofEpochMilli(T0));
  private final FakeObjectWriter writer = new FakeObjectWriter();
  private long nextEntry = 0;

  private Archiver archiver(int maxRecords) {
    return archiver(new BatchLimits(maxRecords, 16L << 20, MAX_AGE));
  }

  private Archiver archiver(BatchLimits limits) {
    return new Archiver(new ArchiveLayout("decisions"), limits, writer, clock);
  }

  /** A record of {@code topic}, alone in the next entry of ledger 7, decided at {@code time}. */
  private FakeRecord record(String topic, long time) {
    long entry = nextEntry++;
    return new FakeRecord(
        topic, FakeRecord.single(7, entry), time + 2, Decisions.decision((int) entry, time));
  }

  private FakeRecord record(MessageId id) {
    return new FakeRecord(TOPIC, id, T0 + 2, Decisions.decision((int) nextEntry++, T0));
  }

  private List<FakeRecord> addAll(Archiver archiver, int n) throws InterruptedException {
    List<FakeRecord> records = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      FakeRecord record = record(TOPIC, T0 + i);
      archiver.add(record);
      records.add(record);
    }
    return records;
  }

  @Test
  void closesABatchAtMaxRecordsAndAcksItsRecordsOnceWritten() throws Exception {
    Archiver archiver = archiver(3);

    List<FakeRecord> records = addAll(archiver, 7);

    assertThat(writer.puts()).hasSize(2);
    assertThat(rows(writer.puts().get(0).body())).hasSize(3);
    assertThat(rows(writer.puts().get(1).body())).hasSize(3);
    assertThat(records.subList(0, 6)).allMatch(FakeRecord::acked);
    assertThat(records.get(6).untouched()).isTrue();
    assertThat(archiver.stats()).isEqualTo(new Archiver.Stats(2, 6, 0, 1));
  }

  @Test
  void closesABatchOnceItsRowsReachMaxBytes() throws Exception {
    long line = JsonLines.line(Decisions.decision(0, T0)).length;
    Archiver archiver = archiver(new BatchLimits(1000, line * 5 / 2, MAX_AGE));

    addAll(archiver, 3);

    assertThat(writer.puts()).hasSize(1);
    assertThat(rows(writer.puts().get(0).body())).hasSize(3);
  }

  @Test
  void closesABatchByAgeOnTheTimerTick() throws Exception {
    Archiver archiver = archiver(1000);
    List<FakeRecord> records = addAll(archiver, 2);

    clock.advance(MAX_AGE.minusMillis(1));
    archiver.flushDue();
    assertThat(writer.puts()).isEmpty();

    clock.advance(Duration.ofMillis(1));
    archiver.flushDue();
    assertThat(writer.puts()).hasSize(1);
    assertThat(records).allMatch(FakeRecord::acked);
  }

  @Test
  void theWritePathClosesAnAgedBatchWithTheRecordThatFindsItAged() throws Exception {
    Archiver archiver = archiver(1000);
    archiver.add(record(TOPIC, T0));

    clock.advance(MAX_AGE);
    archiver.add(record(TOPIC, T0 + 1));

    assertThat(writer.puts()).hasSize(1);
    assertThat(rows(writer.puts().get(0).body())).hasSize(2);
  }

  @Test
  void anHourChangeClosesTheBatchAndTheNextGoesToTheNextHourFolder() throws Exception {
    Archiver archiver = archiver(1000);
    long endOfHour = Instant.parse("2026-01-01T07:59:59.900Z").toEpochMilli();
    FakeRecord last = record(TOPIC, endOfHour);
    FakeRecord next = record(TOPIC, endOfHour + 200);

    archiver.add(last);
    archiver.add(next);

    assertThat(writer.keys()).containsExactly(HOUR_07 + name(TOPIC, 0));
    assertThat(last.acked()).isTrue();
    assertThat(next.untouched()).isTrue();
    clock.advance(MAX_AGE);
    archiver.flushDue();
    assertThat(writer.keys())
        .element(1)
        .isEqualTo(
            "decisions/tenant=payments/namespace=fraud/date=2026-01-01/hour=08/" + name(TOPIC, 1));
  }

  @Test
  void theHourComesFromThePublishTimeWhenTheDecisionHasNoDecisionTime() throws Exception {
    Archiver archiver = archiver(1);
    long published = Instant.parse("2026-03-04T22:10:00Z").toEpochMilli();
    Decision undated = Decisions.decision(1, T0).toBuilder().setDecidedAtMs(0).build();

    archiver.add(new FakeRecord(TOPIC, FakeRecord.single(7, 0), published, undated));

    assertThat(writer.keys())
        .containsExactly(
            "decisions/tenant=payments/namespace=fraud/date=2026-03-04/hour=22/" + name(TOPIC, 0));
  }

  @Test
  void keepsOneBatchPerPartitionAndNamesEachAfterItsPartitionAndFirstRecord() throws Exception {
    Archiver archiver = archiver(2);
    List<FakeRecord> p0 = new ArrayList<>();
    List<FakeRecord> p1 = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      FakeRecord a = record(TOPIC, T0 + i);
      FakeRecord b = record(OTHER_PARTITION, T0 + i);
      archiver.add(a);
      archiver.add(b);
      p0.add(a);
      p1.add(b);
    }

    assertThat(writer.keys())
        .containsExactly(HOUR_07 + name(TOPIC, 0), HOUR_07 + name(OTHER_PARTITION, 1));
    assertThat(rows(writer.puts().get(0).body()))
        .containsExactly(p0.get(0).getValue(), p0.get(1).getValue());
    assertThat(rows(writer.puts().get(1).body()))
        .containsExactly(p1.get(0).getValue(), p1.get(1).getValue());
  }

  @Test
  void namesAnObjectAfterTheZeroPaddedPositionOfItsFirstRecord() throws Exception {
    Archiver archiver = archiver(2);

    archiver.add(record(FakeRecord.batched(12, 34, 0, 2)));
    archiver.add(record(FakeRecord.batched(12, 34, 1, 2)));

    assertThat(writer.keys())
        .containsExactly(
            HOUR_07
                + "decisions-partition-0-0000000000000000012-0000000000000000034-0000000000.jsonl.gz");
  }

  @Test
  void acksNothingUntilTheWriteSucceeds() throws Exception {
    writer.holding();
    Archiver archiver = archiver(2);
    List<FakeRecord> records = addAll(archiver, 2);
    assertThat(writer.puts()).hasSize(1);
    assertThat(records).allMatch(FakeRecord::untouched);

    writer.complete(0);

    assertThat(records).allMatch(FakeRecord::acked);
  }

  @Test
  void failsEveryRecordOfAnObjectWhoseWriteFails() throws Exception {
    writer.failingNext(1);
    Archiver archiver = archiver(3);

    List<FakeRecord> records = addAll(archiver, 3);

    assertThat(records).allMatch(FakeRecord::failed);
    assertThat(archiver.stats().writesFailed()).isEqualTo(1);
    assertThat(archiver.stats().recordsArchived()).isZero();
  }

  @Test
  void aRetryOfTheSameRecordsRewritesTheSameObjectByteForByte() throws Exception {
    writer.failingNext(1);
    Archiver archiver = archiver(3);
    List<FakeRecord> first = addAll(archiver, 3);

    for (FakeRecord record : first) {
      archiver.add(record.redelivered());
    }

    assertThat(writer.puts()).hasSize(2);
    assertThat(writer.keys().get(1)).isEqualTo(writer.keys().get(0));
    assertThat(writer.puts().get(1).body()).isEqualTo(writer.puts().get(0).body());
  }

  @Test
  void keepsOneWritePerPartitionUnderWayAndAcksBeforeTheNextStarts() throws Exception {
    writer.holding();
    Archiver archiver = archiver(1);
    List<FakeRecord> records = new ArrayList<>();
    AtomicInteger ackedWhenSecondPutStarted = new AtomicInteger(-1);
    writer.onPut(
        () -> {
          if (writer.puts().size() == 3) {
            ackedWhenSecondPutStarted.set(records.get(0).acks.get());
          }
        });
    records.add(record(TOPIC, T0));
    records.add(record(TOPIC, T0 + 1));
    FakeRecord otherPartition = record(OTHER_PARTITION, T0);
    archiver.add(records.get(0));
    archiver.add(records.get(1));
    archiver.add(otherPartition);

    assertThat(writer.keys())
        .containsExactly(HOUR_07 + name(TOPIC, 0), HOUR_07 + name(OTHER_PARTITION, 2));

    writer.complete(0);

    assertThat(writer.keys()).hasSize(3).element(2).isEqualTo(HOUR_07 + name(TOPIC, 1));
    assertThat(ackedWhenSecondPutStarted).hasValue(1);
    assertThat(records.get(1).untouched()).isTrue();
  }

  @Test
  void blocksTheWriterThreadWhileAPartitionHasAWriteAndAClosedBatchWaiting() throws Exception {
    writer.holding();
    Archiver archiver = archiver(1);
    archiver.add(record(TOPIC, T0));
    archiver.add(record(TOPIC, T0 + 1));
    FakeRecord third = record(TOPIC, T0 + 2);
    Thread[] adder = new Thread[1];
    CompletableFuture<Void> added =
        CompletableFuture.runAsync(
            () -> {
              adder[0] = Thread.currentThread();
              try {
                archiver.add(third);
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> adder[0] != null && adder[0].getState() == Thread.State.WAITING);
    assertThat(added).isNotDone();
    assertThat(writer.puts()).hasSize(1);

    writer.complete(0);

    added.get(5, TimeUnit.SECONDS);
    writer.complete(1);
    assertThat(writer.keys()).hasSize(3).element(2).isEqualTo(HOUR_07 + name(TOPIC, 2));
  }

  @Test
  void neverSplitsAPulsarEntryBetweenTwoObjects() throws Exception {
    Archiver archiver = archiver(2);

    archiver.add(record(FakeRecord.batched(7, 5, 0, 3)));
    archiver.add(record(FakeRecord.batched(7, 5, 1, 3)));
    assertThat(writer.puts()).isEmpty();
    archiver.add(record(FakeRecord.batched(7, 5, 2, 3)));

    assertThat(writer.puts()).hasSize(1);
    assertThat(rows(writer.puts().get(0).body())).hasSize(3);
  }

  @Test
  void byAgeWaitsForTheEndOfTheEntryUntilTwiceTheAge() throws Exception {
    Archiver archiver = archiver(1000);
    archiver.add(record(FakeRecord.batched(7, 5, 0, 3)));

    clock.advance(MAX_AGE);
    archiver.flushDue();
    assertThat(writer.puts()).isEmpty();

    clock.advance(MAX_AGE);
    archiver.flushDue();
    assertThat(writer.puts()).hasSize(1);
  }

  @Test
  void closeWritesBatchesThatEndAnEntryAndLeavesTheOthersToRedelivery() throws Exception {
    Archiver archiver = archiver(1000);
    FakeRecord whole = record(TOPIC, T0);
    archiver.add(whole);
    FakeRecord partial =
        new FakeRecord(
            OTHER_PARTITION, FakeRecord.batched(7, 9, 0, 2), T0, Decisions.decision(9, T0));
    archiver.add(partial);

    assertThat(archiver.close(Duration.ofSeconds(5))).isTrue();

    assertThat(writer.keys()).containsExactly(HOUR_07 + name(TOPIC, 0));
    assertThat(whole.acked()).isTrue();
    assertThat(partial.untouched()).isTrue();
  }

  @Test
  void everyRowOfAnObjectParsesBackToTheDecisionItCameFrom() throws Exception {
    Archiver archiver = archiver(50);
    List<Decision> decisions = Decisions.realistic(50, 42);
    for (int i = 0; i < decisions.size(); i++) {
      archiver.add(new FakeRecord(TOPIC, FakeRecord.single(3, i), T0, decisions.get(i)));
    }

    assertThat(writer.puts()).hasSize(1);
    assertThat(rows(writer.puts().get(0).body())).containsExactlyElementsOf(decisions);
  }

  @Test
  void acksAndSkipsARecordWithoutAValue() throws Exception {
    Archiver archiver = archiver(1);
    FakeRecord empty = new FakeRecord(TOPIC, FakeRecord.single(7, 0), T0, null);

    archiver.add(empty);

    assertThat(empty.acked()).isTrue();
    assertThat(writer.puts()).isEmpty();
  }

  @Test
  void recordsOfTheOpenBatchDeliveredAgainAfterAReconnectAddNoRows() throws Exception {
    Archiver archiver = archiver(5);
    List<FakeRecord> records = addAll(archiver, 3);
    List<FakeRecord> again = records.stream().map(FakeRecord::redelivered).toList();
    for (FakeRecord record : again) {
      archiver.add(record);
    }
    assertThat(writer.puts()).isEmpty();

    addAll(archiver, 2);

    assertThat(writer.puts()).hasSize(1);
    assertThat(rows(writer.puts().get(0).body())).hasSize(5);
    assertThat(records).allMatch(FakeRecord::acked);
    assertThat(again).allMatch(FakeRecord::acked);
  }

  @Test
  void recordsOfAWriteUnderWayDeliveredAgainFollowItsOutcome() throws Exception {
    writer.holding();
    Archiver archiver = archiver(2);
    List<FakeRecord> records = addAll(archiver, 2);
    List<FakeRecord> again = records.stream().map(FakeRecord::redelivered).toList();
    for (FakeRecord record : again) {
      archiver.add(record);
    }

    writer.fail(0);

    assertThat(writer.puts()).hasSize(1);
    assertThat(records).allMatch(FakeRecord::failed);
    assertThat(again).allMatch(FakeRecord::failed);
  }

  @Test
  void recordsOfAWrittenObjectDeliveredAgainAreAcknowledgedWithoutARewrite() throws Exception {
    Archiver archiver = archiver(2);
    List<FakeRecord> records = addAll(archiver, 3);

    List<FakeRecord> again = records.stream().map(FakeRecord::redelivered).toList();
    for (FakeRecord record : again) {
      archiver.add(record);
    }

    assertThat(writer.puts()).hasSize(1);
    assertThat(again.subList(0, 2)).allMatch(FakeRecord::acked);
    assertThat(again.get(2).untouched()).isTrue();
    assertThat(archiver.stats().openRecords()).isEqualTo(1);
  }

  @Test
  void aRedeliveryFromAFailedObjectDropsTheOpenBatchAndStartsTheNextObjectThere() throws Exception {
    writer.failingNext(1);
    Archiver archiver = archiver(2);
    List<FakeRecord> records = addAll(archiver, 5);
    assertThat(records.subList(0, 2)).allMatch(FakeRecord::failed);
    assertThat(records.subList(2, 4)).allMatch(FakeRecord::acked);

    // Pulsar redelivers every unacknowledged message: the failed ones, then the open batch's.
    List<FakeRecord> again =
        List.of(
            records.get(0).redelivered(),
            records.get(1).redelivered(),
            records.get(4).redelivered());
    for (FakeRecord record : again) {
      archiver.add(record);
    }
    addAll(archiver, 1);

    assertThat(writer.keys())
        .containsExactly(
            HOUR_07 + name(TOPIC, 0),
            HOUR_07 + name(TOPIC, 2),
            HOUR_07 + name(TOPIC, 0),
            HOUR_07 + name(TOPIC, 4));
    assertThat(writer.puts().get(2).body()).isEqualTo(writer.puts().get(0).body());
    assertThat(rows(writer.puts().get(3).body()))
        .containsExactly(records.get(4).getValue(), Decisions.decision(5, T0 + 0));
    assertThat(again).allMatch(FakeRecord::acked);
    assertThat(records.get(4).untouched()).isTrue();
  }

  /** The object name of the record at entry {@code entry} of ledger 7 (not batched). */
  private static String name(String topic, long entry) {
    return topic.substring(topic.lastIndexOf('/') + 1)
        + "-"
        + new RecordPosition(7, entry, -1, 0).padded()
        + ".jsonl.gz";
  }

  /** The decisions of an object, parsed back as a reader would (zcat, then JSON per line). */
  static List<Decision> rows(byte[] gzipped) {
    List<Decision> decisions = new ArrayList<>();
    try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gzipped))) {
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      assertThat(text).endsWith("\n");
      for (String line : text.split("\n")) {
        Decision.Builder builder = Decision.newBuilder();
        JsonFormat.parser().merge(line, builder);
        decisions.add(builder.build());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return decisions;
  }
}
