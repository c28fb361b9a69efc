package io.decisionflow.stages.score;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Flushes a {@link MicroBatcher}'s partial batches when they are due: one daemon thread calls
 * {@link MicroBatcher#flushIfDue()}, then parks for {@link MicroBatcher#untilDue()}, or for {@code
 * maxWait} when nothing is pending (an item submitted meanwhile is due no sooner than {@code
 * maxWait} after it, so the thread is never late by more than its wake-up latency).
 *
 * <p>Partial batches are processed on this thread. {@link #close()} stops the thread; it does not
 * close the batcher, so close the timer first and then the batcher, which flushes the rest.
 */
public final class MicroBatchTimer implements AutoCloseable {

  /** Default name of the thread. */
  public static final String THREAD_NAME = "micro-batch-timer";

  /** Shortest idle park, so {@code maxWait} zero does not spin (its submits flush anyway). */
  private static final long MIN_IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  /** How long {@link #close()} waits for the thread to finish a flush in progress. */
  private static final long CLOSE_TIMEOUT_MILLIS = 5_000;

  private static final System.Logger LOG = System.getLogger(MicroBatchTimer.class.getName());

  private final MicroBatcher<?, ?> batcher;
  private final long idleNanos;
  private final Thread thread;
  private volatile boolean running = true;

  private MicroBatchTimer(MicroBatcher<?, ?> batcher, String threadName) {
    this.batcher = batcher;
    this.idleNanos = Math.max(MIN_IDLE_NANOS, nanos(batcher.maxWait()));
    this.thread = new Thread(this::run, threadName);
    this.thread.setDaemon(true);
  }

  /** Starts a timer thread named {@value #THREAD_NAME} for {@code batcher}. */
  public static MicroBatchTimer start(MicroBatcher<?, ?> batcher) {
    return start(batcher, THREAD_NAME);
  }

  /**
   * Starts a timer thread named {@code threadName} for {@code batcher}.
   *
   * @throws IllegalArgumentException if an argument is null
   */
  public static MicroBatchTimer start(MicroBatcher<?, ?> batcher, String threadName) {
    if (batcher == null) {
      throw new IllegalArgumentException("batcher must not be null");
    }
    if (threadName == null) {
      throw new IllegalArgumentException("threadName must not be null");
    }
    MicroBatchTimer timer = new MicroBatchTimer(batcher, threadName);
    timer.thread.start();
    return timer;
  }

  /** Whether the thread is still running. */
  public boolean isAlive() {
    return thread.isAlive();
  }

  private void run() {
    while (running && !Thread.currentThread().isInterrupted()) {
      long parkNanos;
      try {
        batcher.flushIfDue();
        Duration untilDue = batcher.untilDue();
        parkNanos = untilDue == null ? idleNanos : nanos(untilDue);
      } catch (RuntimeException e) {
        // The batcher fails futures, not callers, when its processor throws; this is the clock
        // or a bug. Keep flushing rather than strand every later batch.
        LOG.log(System.Logger.Level.WARNING, "micro-batch timer: flush failed", e);
        parkNanos = idleNanos;
      }
      if (parkNanos > 0 && running) {
        LockSupport.parkNanos(this, parkNanos);
      }
    }
  }

  /**
   * Stops the thread: wakes it and waits up to 5 seconds for it to finish a flush in progress.
   * Idempotent. Items still pending stay in the batcher; {@link MicroBatcher#close()} flushes them.
   */
  @Override
  public void close() {
    running = false;
    LockSupport.unpark(thread);
    if (Thread.currentThread() == thread) {
      return;
    }
    try {
      thread.join(CLOSE_TIMEOUT_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** {@code d} in nanoseconds, saturated instead of overflowing. */
  private static long nanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }
}
