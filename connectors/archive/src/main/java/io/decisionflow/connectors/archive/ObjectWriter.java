package io.decisionflow.connectors.archive;

import java.util.concurrent.CompletableFuture;

/**
 * Writes whole objects to a bucket. {@link #put} replaces an object of the same key atomically: a
 * reader sees the old object or the new one, never a mix.
 */
public interface ObjectWriter extends AutoCloseable {

  /**
   * Stores {@code body} under {@code key}. The future completes once the object is durable in the
   * store, or exceptionally if it may not be; on any thread (a fake may complete it at once, on the
   * caller's thread).
   */
  CompletableFuture<Void> put(String key, byte[] body);

  /** Releases the writer's threads and connections; waits a bounded time for writes under way. */
  @Override
  void close();
}
