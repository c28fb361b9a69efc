package io.decisionflow.stages.score;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * Collects items submitted concurrently and processes them in batches: a batch is flushed when it
 * reaches {@code maxBatchSize}, or when its oldest item has waited {@code maxWait} by the injected
 * clock.
 *
 * <p>Calling the model costs about the same whatever the batch size, so the score stage submits
 * every in-flight record here and lets one processor call score them all.
 *
 * <p><b>Who flushes.</b> {@link #submit} flushes on the caller's thread when the batch is full, or
 * when its oldest item is already due (so with {@code maxWait} zero every submit flushes at once).
 * A partial batch is flushed by {@link #flushIfDue}, which production calls from a {@link
 * MicroBatchTimer}, or by {@link #flush} and {@link #close}.
 *
 * <p><b>Locking.</b> Two locks, never held together while the processor runs:
 *
 * <ul>
 *   <li>the <em>state lock</em> guards the pending batch and a FIFO queue of taken batches. A flush
 *       takes the pending batch under it, gives the batch the next sequence number and appends it
 *       to the queue, then releases it. It is held only for these few list operations, so
 *       submitters never wait for the processor unless they flush themselves;
 *   <li>the <em>processing lock</em> (a single-owner {@link ReentrantLock}) is held while batches
 *       are processed and their futures completed. The flushing thread takes it and processes
 *       queued batches from the head, in sequence order, up to and including its own (a batch
 *       queued earlier by a thread that has not got the lock yet is processed first, by whichever
 *       thread gets the lock). So the processor never runs concurrently with itself, batches are
 *       processed in the order they were taken, and an item is never processed in a later batch
 *       than an item submitted after it.
 * </ul>
 *
 * <p>When {@link #flush} or {@link #close} returns, every item submitted before the call has been
 * processed and its future completed. Futures are completed on the flushing thread, in submit
 * order; dependent stages attached without an executor run there too, so they should be short.
 *
 * @param <I> item type
 * @param <O> result type, one per item
 */
public final class MicroBatcher<I, O> implements AutoCloseable {

  private final int maxBatchSize;
  private final Duration maxWait;
  private final Function<List<I>, List<O>> processor;
  private final Clock clock;

  /** Guards the fields below it up to {@link #processing}. */
  private final ReentrantLock state = new ReentrantLock();

  private List<I> pendingItems;
  private List<CompletableFuture<O>> pendingFutures;

  /** When the oldest pending item was submitted; null when nothing is pending. */
  private Instant oldestAt;

  private final ArrayDeque<Batch<I, O>> taken = new ArrayDeque<>();
  private long nextSeq;
  private boolean closed;

  /** Held while batches are processed, so the processor never runs concurrently. */
  private final ReentrantLock processing = new ReentrantLock();

  // Written only under the processing lock; read anywhere.
  private volatile long batchCount;
  private volatile long itemCount;
  private volatile int lastBatchSize;

  /**
   * Creates a batcher.
   *
   * @param maxBatchSize most items per batch, at least 1
   * @param maxWait longest time the oldest pending item waits before its batch is due, at least
   *     zero (zero: every submit flushes at once)
   * @param processor gets a batch (1..maxBatchSize items, in submit order) and returns one result
   *     per item, in the same order. If it throws, or returns a list of the wrong size, every
   *     future of that batch completes exceptionally with that error (wrong size: an {@link
   *     IllegalStateException} naming both sizes)
   * @param clock tells when items were submitted and when batches are due
   * @throws IllegalArgumentException if an argument is null or out of range
   */
  public MicroBatcher(
      int maxBatchSize, Duration maxWait, Function<List<I>, List<O>> processor, Clock clock) {
    if (maxBatchSize < 1) {
      throw new IllegalArgumentException("maxBatchSize must be at least 1, was " + maxBatchSize);
    }
    if (maxWait == null) {
      throw new IllegalArgumentException("maxWait must not be null");
    }
    if (maxWait.isNegative()) {
      throw new IllegalArgumentException("maxWait must not be negative, was " + maxWait);
    }
    if (processor == null) {
      throw new IllegalArgumentException("processor must not be null");
    }
    if (clock == null) {
      throw new IllegalArgumentException("clock must not be null");
    }
    this.maxBatchSize = maxBatchSize;
    this.maxWait = maxWait;
    this.processor = processor;
    this.clock = clock;
    this.pendingItems = newList();
    this.pendingFutures = newList();
  }

  /** Most items per batch. */
  public int maxBatchSize() {
    return maxBatchSize;
  }

  /** Longest time the oldest pending item waits before its batch is due. */
  public Duration maxWait() {
    return maxWait;
  }

  /**
   * Adds an item to the pending batch. Flushes on the caller's thread when the batch is full, or
   * when its oldest item is already due.
   *
   * @return the item's result, completed when its batch has been processed
   * @throws IllegalStateException after {@link #close()}
   */
  public CompletableFuture<O> submit(I item) {
    CompletableFuture<O> future = new CompletableFuture<>();
    Batch<I, O> batch = null;
    state.lock();
    try {
      if (closed) {
        throw new IllegalStateException("MicroBatcher is closed; it accepts no more items");
      }
      Instant now = clock.instant();
      if (pendingItems.isEmpty()) {
        oldestAt = now;
      }
      pendingItems.add(item);
      pendingFutures.add(future);
      if (pendingItems.size() >= maxBatchSize || isDue(now)) {
        batch = takeLocked();
      }
    } finally {
      state.unlock();
    }
    if (batch != null) {
      processThrough(batch.seq());
    }
    return future;
  }

  /**
   * Flushes the pending batch if its oldest item has waited at least {@code maxWait} by the clock
   * (or the clock went back before it was submitted).
   *
   * @return true if it flushed a batch
   */
  public boolean flushIfDue() {
    Batch<I, O> batch = null;
    state.lock();
    try {
      if (!pendingItems.isEmpty() && isDue(clock.instant())) {
        batch = takeLocked();
      }
    } finally {
      state.unlock();
    }
    if (batch == null) {
      return false;
    }
    processThrough(batch.seq());
    return true;
  }

  /**
   * Flushes whatever is pending now. When it returns, every item submitted before the call has been
   * processed, including batches other threads had taken but not yet processed.
   */
  public void flush() {
    processThrough(takeAllLocked(false));
  }

  /**
   * How long until the pending batch is due, so a timer can sleep exactly that long.
   *
   * @return {@link Duration#ZERO} if it is due, null if nothing is pending
   */
  public Duration untilDue() {
    state.lock();
    try {
      if (pendingItems.isEmpty()) {
        return null;
      }
      Duration waited = Duration.between(oldestAt, clock.instant());
      if (waited.isNegative() || waited.compareTo(maxWait) >= 0) {
        return Duration.ZERO;
      }
      return maxWait.minus(waited);
    } finally {
      state.unlock();
    }
  }

  /**
   * Flushes pending items, then refuses new ones: {@link #submit} throws afterwards. When it
   * returns, every item submitted before has been processed. Idempotent.
   */
  @Override
  public void close() {
    processThrough(takeAllLocked(true));
  }

  /** Batches handed to the processor so far, failed ones included. */
  public long batches() {
    return batchCount;
  }

  /** Items handed to the processor so far, failed ones included. */
  public long items() {
    return itemCount;
  }

  /** Size of the last batch handed to the processor; 0 before the first. */
  public int lastBatchSize() {
    return lastBatchSize;
  }

  /**
   * Takes the pending batch, if any, optionally closing, and returns the sequence number of the
   * last batch taken so far (-1 if none).
   */
  private long takeAllLocked(boolean close) {
    state.lock();
    try {
      if (close) {
        closed = true;
      }
      if (!pendingItems.isEmpty()) {
        takeLocked();
      }
      return nextSeq - 1;
    } finally {
      state.unlock();
    }
  }

  private boolean isDue(Instant now) {
    Duration waited = Duration.between(oldestAt, now);
    // A clock that went back counts as due, so a batch can never be stuck behind it.
    return waited.isNegative() || waited.compareTo(maxWait) >= 0;
  }

  /** Moves the pending batch (not empty) to the queue of taken batches. Needs the state lock. */
  private Batch<I, O> takeLocked() {
    Batch<I, O> batch = new Batch<>(nextSeq++, pendingItems, pendingFutures);
    taken.addLast(batch);
    pendingItems = newList();
    pendingFutures = newList();
    oldestAt = null;
    return batch;
  }

  /** Processes taken batches in sequence order until batch {@code seq} has been processed. */
  private void processThrough(long seq) {
    if (seq < 0) {
      return;
    }
    processing.lock();
    try {
      while (true) {
        Batch<I, O> next;
        state.lock();
        try {
          next = taken.peekFirst();
          if (next == null || next.seq() > seq) {
            return;
          }
          taken.removeFirst();
        } finally {
          state.unlock();
        }
        process(next);
      }
    } finally {
      processing.unlock();
    }
  }

  /** Runs the processor on one batch and completes its futures. Needs the processing lock. */
  private void process(Batch<I, O> batch) {
    int size = batch.items().size();
    List<O> results;
    Throwable failure = null;
    try {
      results = processor.apply(Collections.unmodifiableList(batch.items()));
      if (results == null) {
        throw new IllegalStateException(
            "processor returned null instead of " + size + " results for a batch of " + size);
      }
      if (results.size() != size) {
        throw new IllegalStateException(
            "processor returned "
                + results.size()
                + " results for a batch of "
                + size
                + " items; expected "
                + size);
      }
    } catch (Throwable e) {
      results = null;
      failure = e;
    }
    // Counters first, so whoever sees a future completed also sees them updated.
    batchCount++;
    itemCount += size;
    lastBatchSize = size;
    if (failure != null) {
      for (CompletableFuture<O> future : batch.futures()) {
        future.completeExceptionally(failure);
      }
      return;
    }
    Iterator<O> result = results.iterator();
    for (CompletableFuture<O> future : batch.futures()) {
      future.complete(result.next());
    }
  }

  private <T> List<T> newList() {
    return new ArrayList<>(Math.min(maxBatchSize, 1024));
  }

  private record Batch<I, O>(long seq, List<I> items, List<CompletableFuture<O>> futures) {}
}
