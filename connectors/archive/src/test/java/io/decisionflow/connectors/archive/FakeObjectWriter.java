package io.decisionflow.connectors.archive;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Records every put (key, body). Completes each put at once, unless told to hold them (then the
 * test completes or fails them) or to fail the next ones.
 */
final class FakeObjectWriter implements ObjectWriter {

  /** One put: its key and body, and its future. */
  record Put(String key, byte[] body, CompletableFuture<Void> future) {}

  private final List<Put> puts = new ArrayList<>();
  private boolean hold;
  private int failNext;
  private Runnable onPut = () -> {};
  boolean closed;

  /** Leaves later puts pending until {@link #complete} or {@link #fail}. */
  synchronized FakeObjectWriter holding() {
    hold = true;
    return this;
  }

  /** Fails the next {@code n} puts at once. */
  synchronized FakeObjectWriter failingNext(int n) {
    failNext = n;
    return this;
  }

  /** Runs {@code action} at each put, before the put completes. */
  synchronized FakeObjectWriter onPut(Runnable action) {
    onPut = action;
    return this;
  }

  @Override
  public CompletableFuture<Void> put(String key, byte[] body) {
    CompletableFuture<Void> future = new CompletableFuture<>();
    boolean fail;
    boolean complete;
    Runnable action;
    synchronized (this) {
      puts.add(new Put(key, body.clone(), future));
      fail = failNext > 0;
      if (fail) {
        failNext--;
      }
      complete = !hold;
      action = onPut;
    }
    action.run();
    if (fail) {
      future.completeExceptionally(new IllegalStateException("store unavailable (fake)"));
    } else if (complete) {
      future.complete(null);
    }
    return future;
  }

  synchronized List<Put> puts() {
    return List.copyOf(puts);
  }

  synchronized List<String> keys() {
    return puts.stream().map(Put::key).toList();
  }

  void complete(int index) {
    puts().get(index).future().complete(null);
  }

  void fail(int index) {
    puts().get(index).future().completeExceptionally(new IllegalStateException("timeout (fake)"));
  }

  @Override
  public synchronized void close() {
    closed = true;
  }
}
