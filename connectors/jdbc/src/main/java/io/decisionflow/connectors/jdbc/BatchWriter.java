package io.decisionflow.connectors.jdbc;

import io.decisionflow.schemas.Decision;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pulsar.functions.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes records to a {@link DecisionStore} in batches, on a thread of its own, and acknowledges
 * each record only once the batch that holds it is committed. A batch that fails is failed as a
 * whole (Pulsar delivers its records again) and the next attempt waits longer, doubling up to a
 * bound, so that a database that is down is not hammered; the first success resets the wait. At
 * most {@code maxPending} records wait in memory: beyond, {@link #write} blocks the sink's thread,
 * so nothing is dropped.
 */
final class BatchWriter implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(BatchWriter.class);

  /** What one flush did. */
  record Flush(int written, int failed) {}

  private final DecisionStore store;
  private final int batchSize;
  private final long flushIntervalMs;
  private final long maxBackoffMs;
  private final BlockingQueue<Record<Decision>> pending;
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong failedFlushes = new AtomicLong();
  private volatile int failuresInARow;
  private volatile boolean running;
  private Thread thread;

  BatchWriter(
      DecisionStore store, int batchSize, long flushIntervalMs, int maxPending, long maxBackoffMs) {
    this.store = store;
    this.batchSize = batchSize;
    this.flushIntervalMs = flushIntervalMs;
    this.maxBackoffMs = maxBackoffMs;
    this.pending = new LinkedBlockingQueue<>(maxPending);
  }

  /** Queues a record; blocks while {@code maxPending} records wait. */
  void write(Record<Decision> record) throws InterruptedException {
    pending.put(record);
  }

  /** Records waiting to be written. */
  int pending() {
    return pending.size();
  }

  long written() {
    return written.get();
  }

  long failedFlushes() {
    return failedFlushes.get();
  }

  /**
   * Writes up to {@code batchSize} waiting records as one transaction: on commit acknowledges them,
   * on failure fails them all.
   */
  Flush flushOnce() {
    return flush(null);
  }

  /** {@link #flushOnce()}, with {@code first} (taken from the queue already) at its head. */
  private Flush flush(Record<Decision> first) {
    List<Record<Decision>> batch = new ArrayList<>(Math.min(batchSize, pending.size() + 1));
    if (first != null) {
      batch.add(first);
    }
    pending.drainTo(batch, batchSize - batch.size());
    if (batch.isEmpty()) {
      return new Flush(0, 0);
    }
    List<Decision> decisions = new ArrayList<>(batch.size());
    for (Record<Decision> record : batch) {
      decisions.add(record.getValue());
    }
    try {
      store.upsert(decisions);
    } catch (Exception e) {
      failuresInARow++;
      failedFlushes.incrementAndGet();
      batch.forEach(Record::fail);
      LOG.warn(
          "could not write {} decisions ({} failures in a row, next attempt in {} ms): {}",
          batch.size(),
          failuresInARow,
          nextDelayMs(),
          rootCause(e));
      return new Flush(0, batch.size());
    }
    if (failuresInARow > 0) {
      LOG.info("writing again after {} failed attempts", failuresInARow);
    }
    failuresInARow = 0;
    written.addAndGet(batch.size());
    batch.forEach(Record::ack);
    return new Flush(batch.size(), 0);
  }

  /**
   * How long the writer waits before its next attempt: the flush interval while all is well, then
   * doubling with each failure in a row, up to the bound.
   */
  long nextDelayMs() {
    int failures = failuresInARow;
    if (failures == 0) {
      return flushIntervalMs;
    }
    long delay = flushIntervalMs << Math.min(failures, 20);
    return Math.min(delay, maxBackoffMs);
  }

  /** Starts the writing thread. */
  synchronized void start() {
    running = true;
    thread = new Thread(this::run, "decisionflow-jdbc-writer");
    thread.setDaemon(true);
    thread.start();
  }

  private void run() {
    while (running) {
      try {
        if (failuresInARow > 0) {
          // Back off; records keep queueing (up to maxPending) meanwhile.
          TimeUnit.MILLISECONDS.sleep(nextDelayMs());
          flush(null);
        } else {
          // Write as soon as a record is there: a batch is what has gathered meanwhile.
          Record<Decision> first = pending.poll(flushIntervalMs, TimeUnit.MILLISECONDS);
          if (first != null) {
            flush(first);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        // Never let the writer die: the records of a failed flush were failed already.
        LOG.error("unexpected error in the writer", e);
      }
    }
  }

  /** Stops the thread and makes a last attempt to write what waits. */
  @Override
  public void close() {
    running = false;
    if (thread != null) {
      thread.interrupt();
      try {
        thread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (!pending.isEmpty() && failuresInARow == 0) {
      flushOnce();
    }
  }

  private static String rootCause(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root == e ? String.valueOf(e) : e + " (cause: " + root + ")";
  }
}
