package io.decisionflow.stages.enrich;

import io.decisionflow.schemas.state.CardState;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;

/**
 * A {@link CardStateStore} in a map. It counts loads and saves, can hold saves pending until the
 * test releases them (a save becomes visible only once released, like a durable write), and can
 * fail the next load or save. Single-threaded, like the tests that use it.
 */
final class InMemoryCardStateStore implements CardStateStore {

  /** A held save keeps the caller's array and reads it when released, as an async store may. */
  private record PendingSave(String key, byte[] serialized, CompletableFuture<Void> done) {}

  private final Map<String, CardState> states = new HashMap<>();
  private final Map<String, Integer> loadsByKey = new HashMap<>();
  private final Queue<PendingSave> pending = new ArrayDeque<>();
  private final Queue<Runnable> pendingLoads = new ArrayDeque<>();
  private boolean holdingLoads;
  private int saves;
  private boolean holding;
  private RuntimeException nextLoadFailure;
  private RuntimeException nextSaveFailure;

  @Override
  public CompletableFuture<Optional<byte[]>> load(String key) {
    loadsByKey.merge(key, 1, Integer::sum);
    if (nextLoadFailure != null) {
      RuntimeException failure = nextLoadFailure;
      nextLoadFailure = null;
      return CompletableFuture.failedFuture(failure);
    }
    if (holdingLoads) {
      CompletableFuture<Optional<byte[]>> loaded = new CompletableFuture<>();
      pendingLoads.add(() -> loaded.complete(stored(key)));
      return loaded;
    }
    return CompletableFuture.completedFuture(stored(key));
  }

  private Optional<byte[]> stored(String key) {
    return Optional.ofNullable(states.get(key)).map(CardState::toByteArray);
  }

  /** From now on, loads stay pending until {@link #releaseLoads()}. */
  void holdLoads() {
    holdingLoads = true;
  }

  /** Completes the oldest pending load with the state stored now. */
  void releaseNextLoad() {
    pendingLoads.remove().run();
  }

  /** Loads waiting for release. */
  int pendingLoads() {
    return pendingLoads.size();
  }

  /** Completes the pending loads with the states stored now, and stops holding loads. */
  void releaseLoads() {
    holdingLoads = false;
    while (!pendingLoads.isEmpty()) {
      pendingLoads.remove().run();
    }
  }

  @Override
  public CompletableFuture<Void> save(String key, byte[] serialized) {
    saves++;
    CardState state;
    try {
      state = CardState.parseFrom(serialized);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (nextSaveFailure != null) {
      RuntimeException failure = nextSaveFailure;
      nextSaveFailure = null;
      return CompletableFuture.failedFuture(failure);
    }
    if (holding) {
      CompletableFuture<Void> done = new CompletableFuture<>();
      pending.add(new PendingSave(key, serialized, done));
      return done;
    }
    states.put(key, state);
    return CompletableFuture.completedFuture(null);
  }

  /** Puts a state as if saved earlier. */
  void put(String key, CardState state) {
    states.put(key, state);
  }

  /** The durable state of a key. */
  Optional<CardState> get(String key) {
    return Optional.ofNullable(states.get(key));
  }

  /** From now on, saves stay pending until {@link #releaseNextSave()}. */
  void holdSaves() {
    holding = true;
  }

  /** From now on, saves complete at once (saves already pending stay pending). */
  void stopHoldingSaves() {
    holding = false;
  }

  /** Makes the oldest pending save durable and completes its future. */
  void releaseNextSave() {
    PendingSave save = pending.remove();
    try {
      states.put(save.key(), CardState.parseFrom(save.serialized()));
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError("the array of a held save changed into garbage", e);
    }
    save.done().complete(null);
  }

  /** Fails the oldest pending save with {@code failure}; nothing is stored. */
  void failNextPendingSave(RuntimeException failure) {
    pending.remove().done().completeExceptionally(failure);
  }

  /** Saves waiting for {@link #releaseNextSave()}. */
  int pendingSaves() {
    return pending.size();
  }

  /** The next load fails with {@code failure}. */
  void failNextLoad(RuntimeException failure) {
    nextLoadFailure = failure;
  }

  /** The next save fails with {@code failure} and stores nothing. */
  void failNextSave(RuntimeException failure) {
    nextSaveFailure = failure;
  }

  /** Saves asked for, whatever their outcome. */
  int saves() {
    return saves;
  }

  /** Loads asked for, of all keys. */
  int loads() {
    return loadsByKey.values().stream().mapToInt(Integer::intValue).sum();
  }

  /** Loads asked for of one key. */
  int loadsOf(String key) {
    return loadsByKey.getOrDefault(key, 0);
  }
}
