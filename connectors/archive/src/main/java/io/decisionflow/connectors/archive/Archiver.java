package io.decisionflow.connectors.archive;

import io.decisionflow.schemas.Decision;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.functions.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batches decisions into objects of the {@link ArchiveLayout} and writes them, acknowledging each
 * record only once the object that holds it is durable. Plain Java: the sink hands it records, a
 * timer calls {@link #flushDue()}, and tests drive both with an injected clock and a fake writer.
 *
 * <p>Rules, per topic partition (one open batch each):
 *
 * <ul>
 *   <li>A batch holds consecutive records of one partition and one UTC hour (of {@code
 *       decided_at_ms}, or of the publish time when that is 0). A record of another hour closes the
 *       open batch first.
 *   <li>A batch is closed once it holds {@code maxRecords} records or {@code maxBytes} bytes of
 *       rows (uncompressed), or its first record arrived {@code maxAge} ago; but only after a
 *       record that ends its Pulsar entry ({@link RecordPosition#endsEntry()}), since Pulsar
 *       acknowledges and redelivers whole entries. By age, a batch that does not end its entry is
 *       closed anyway once twice as old, so that a missing message cannot hold a partition back.
 *   <li>The object's name is a function of the batch's first record (partition and position).
 *   <li>At most one object write is under way per partition, and at most one closed batch waits
 *       behind it; {@link #add} blocks until there is room (the object store sets the pace).
 *   <li>When a write succeeds its records are acknowledged, before the partition's next write
 *       starts; when it fails they are all failed (negatively acknowledged), and Pulsar delivers
 *       them again. A redelivered batch starts at the same first record and so rewrites the same
 *       object: a retry overwrites, never adds.
 *   <li>A record delivered again (a reconnect, a negative acknowledgement or an ack timeout makes
 *       Pulsar redeliver every unacknowledged message of the partition, in order) is not written
 *       twice: if a batch still holds it, it is acknowledged or failed with that batch; if it is in
 *       an object written already, it is acknowledged at once; if its object failed, it is archived
 *       again, in a batch that starts where the redelivery starts.
 * </ul>
 *
 * Thread-safe.
 */
public final class Archiver {

  private static final Logger log = LoggerFactory.getLogger(Archiver.class);

  /** Written or failed batches remembered per partition, to recognize their records redelivered. */
  static final int REMEMBERED_BATCHES = 64;

  private final ArchiveLayout layout;
  private final BatchLimits limits;
  private final ObjectWriter writer;
  private final Clock clock;
  private final Map<String, Partition> partitions = new LinkedHashMap<>();
  private boolean closed;

  private long objectsWritten;
  private long recordsArchived;
  private long writesFailed;

  public Archiver(ArchiveLayout layout, BatchLimits limits, ObjectWriter writer, Clock clock) {
    this.layout = layout;
    this.limits = limits;
    this.writer = writer;
    this.clock = clock;
  }

  /**
   * Adds a record to the open batch of its partition, closing and writing batches as the rules say.
   * Blocks while the partition already has a write under way and a closed batch waiting.
   *
   * @throws IllegalArgumentException if the record has no topic name or message id
   * @throws InterruptedException if interrupted while waiting for room
   */
  public synchronized void add(Record<Decision> record) throws InterruptedException {
    if (closed) {
      throw new IllegalStateException("the archiver is closed");
    }
    Decision decision = record.getValue();
    String topic =
        record
            .getTopicName()
            .orElseThrow(() -> new IllegalArgumentException("record without a topic name"));
    Message<Decision> message =
        record
            .getMessage()
            .orElseThrow(() -> new IllegalArgumentException("record without a message id"));
    RecordPosition position = RecordPosition.of(message.getMessageId());
    if (decision == null) {
      // Nothing to archive (a message without a value); say so rather than fail it forever.
      log.warn(
          "Decision archive: {} at {} has no value; acknowledged, not archived", topic, position);
      record.ack();
      return;
    }
    long time =
        decision.getDecidedAtMs() > 0 ? decision.getDecidedAtMs() : message.getPublishTime();
    long hour = ArchiveLayout.hourOf(time);

    Partition partition = partitions.computeIfAbsent(topic, Partition::new);
    if (partition.highest != null
        && position.compareTo(partition.highest) <= 0
        && redelivered(partition, record, position)) {
      return;
    }
    if (partition.open != null && partition.open.hour() != hour) {
      closeWhenRoom(partition);
    }
    if (partition.open == null) {
      partition.open =
          new Batch(layout.key(topic, hour, position), hour, clock.instant(), position);
    }
    Batch batch = partition.open;
    batch.add(record, position, JsonLines.line(decision));
    if (partition.highest == null || position.compareTo(partition.highest) > 0) {
      partition.highest = position;
    }
    if (batch.endsEntry()
        && (batch.isFull(limits) || batch.isOlderThan(limits.maxAge(), clock.instant()))) {
      closeWhenRoom(partition);
    }
  }

  /**
   * Handles a record at or before the highest position seen on its partition: Pulsar delivers
   * again, in order, every unacknowledged message of a partition from the first one, after a
   * reconnect (broker restart, topic unload), a negative acknowledgement or an ack timeout (with a
   * Failover subscription, each of these redelivers them all). A record that a batch still holds is
   * acknowledged or failed with it; one in an object already written is acknowledged at once; one
   * of a failed object, or one not known any more, is archived again. A record before the open
   * batch drops that batch (its records come again, after this one), so that the next object starts
   * where the redelivery starts.
   *
   * @return whether the record is taken care of (else it goes into a batch)
   */
  private boolean redelivered(Partition partition, Record<Decision> record, RecordPosition p) {
    Batch open = partition.open;
    if (open != null && open.covers(p)) {
      open.addDuplicate(record);
      return true;
    }
    for (Batch.Sealed sealed : new Batch.Sealed[] {partition.waiting, partition.writing}) {
      if (sealed != null && sealed.covers(p)) {
        sealed.addDuplicate(record);
        return true;
      }
    }
    for (Batch.Span span : partition.done) {
      if (span.covers(p)) {
        if (!span.written()) {
          break;
        }
        record.ack();
        return true;
      }
    }
    if (open != null && p.compareTo(open.first()) < 0) {
      log.info(
          "Decision archive: {} delivered again from {}; the open batch of {} records from {} is"
              + " dropped, its records come again",
          partition.topic,
          p,
          open.size(),
          open.first());
      open.discard();
      partition.open = null;
    }
    return false;
  }

  /**
   * Closes and writes the batches that are old enough ({@code maxAge}), where the partition has
   * room for them; never blocks. The sink calls it every second.
   */
  public synchronized void flushDue() {
    if (closed) {
      return;
    }
    Instant now = clock.instant();
    for (Partition partition : partitions.values()) {
      Batch batch = partition.open;
      if (batch != null
          && partition.waiting == null
          && batch.isOlderThan(limits.maxAge(), now)
          && (batch.endsEntry() || batch.isOlderThan(limits.maxAge().multipliedBy(2), now))) {
        close(partition);
      }
    }
  }

  /**
   * Writes what can be written and stops taking records: open batches that end their Pulsar entry
   * are closed and written (the others are dropped unacknowledged, to be delivered again), then
   * waits up to {@code timeout} for every write under way.
   *
   * @return whether every write finished in time
   */
  public synchronized boolean close(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Partition partition : partitions.values()) {
      Batch batch = partition.open;
      if (batch == null) {
        continue;
      }
      if (!batch.endsEntry()) {
        log.info(
            "Decision archive: {} records of {} end inside a Pulsar entry; not written, they will"
                + " be delivered again",
            batch.size(),
            partition.topic);
        batch.discard();
        partition.open = null;
        continue;
      }
      while (partition.waiting != null && waitUntil(deadline)) {
        // a closed batch is waiting for the write under way
      }
      if (partition.waiting == null) {
        close(partition);
      } else {
        batch.discard();
        partition.open = null;
      }
    }
    closed = true;
    while (partitions.values().stream().anyMatch(Partition::busy)) {
      if (!waitUntil(deadline)) {
        return false;
      }
    }
    return true;
  }

  /** Objects written, records archived and writes failed so far. */
  public synchronized Stats stats() {
    int open = 0;
    for (Partition partition : partitions.values()) {
      if (partition.open != null) {
        open += partition.open.size();
      }
    }
    return new Stats(objectsWritten, recordsArchived, writesFailed, open);
  }

  /**
   * Counts since the archiver started.
   *
   * @param openRecords records in open batches, not written yet
   */
  public record Stats(
      long objectsWritten, long recordsArchived, long writesFailed, long openRecords) {}

  private void closeWhenRoom(Partition partition) throws InterruptedException {
    while (partition.waiting != null) {
      wait();
    }
    // The timer may have closed it meanwhile.
    if (partition.open != null) {
      close(partition);
    }
  }

  private void close(Partition partition) {
    partition.waiting = partition.open.seal();
    partition.open = null;
    startWrite(partition);
  }

  private void startWrite(Partition partition) {
    if (partition.writing != null || partition.waiting == null) {
      return;
    }
    Batch.Sealed batch = partition.waiting;
    partition.waiting = null;
    partition.writing = batch;
    notifyAll();
    CompletableFuture<Void> write;
    try {
      write = writer.put(batch.key(), batch.body());
    } catch (RuntimeException e) {
      write = CompletableFuture.failedFuture(e);
    }
    write.whenComplete((ignored, failure) -> written(partition, batch, failure));
  }

  private synchronized void written(Partition partition, Batch.Sealed batch, Throwable failure) {
    partition.writing = null;
    partition.remember(batch.span(failure == null));
    if (failure == null) {
      objectsWritten++;
      recordsArchived += batch.records().size();
      log.info(
          "Decision archive: wrote {} ({} records, {} bytes, {} compressed)",
          batch.key(),
          batch.records().size(),
          batch.uncompressedBytes(),
          batch.body().length);
      batch.everyDelivery().forEach(Record::ack);
    } else {
      writesFailed++;
      log.warn(
          "Decision archive: could not write {}; its {} records are failed and will be delivered"
              + " again",
          batch.key(),
          batch.records().size(),
          failure);
      batch.everyDelivery().forEach(Record::fail);
    }
    startWrite(partition);
    notifyAll();
  }

  private boolean waitUntil(long deadline) throws InterruptedException {
    long remainingMs = (deadline - System.nanoTime()) / 1_000_000;
    if (remainingMs <= 0) {
      return false;
    }
    wait(remainingMs);
    return true;
  }

  /**
   * One topic partition: its open batch, the write under way, a closed batch waiting, and the spans
   * of the last batches written or failed, newest first.
   */
  private static final class Partition {
    final String topic;
    Batch open;
    Batch.Sealed writing;
    Batch.Sealed waiting;
    final ArrayDeque<Batch.Span> done = new ArrayDeque<>();
    RecordPosition highest;

    Partition(String topic) {
      this.topic = topic;
    }

    void remember(Batch.Span span) {
      done.addFirst(span);
      if (done.size() > REMEMBERED_BATCHES) {
        done.removeLast();
      }
    }

    boolean busy() {
      return writing != null || waiting != null;
    }
  }
}
