package io.decisionflow.stages.enrich;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Durable per-card state, as serialized {@link io.decisionflow.schemas.state.CardState} values: the
 * stage keeps its cached cards serialized, so a write stores the bytes it holds. Online it is
 * Pulsar Functions state; tests use a map.
 */
public interface CardStateStore {

  /**
   * The card's serialized state, or empty for a card never seen; fails if what is stored is not a
   * CardState. The array is the caller's from then on (the stage serializes later changes into it).
   */
  CompletableFuture<Optional<byte[]>> load(String cardId);

  /**
   * Stores the card's serialized state; the future completes once it is durable. The caller does
   * not change the array afterwards.
   */
  CompletableFuture<Void> save(String cardId, byte[] state);
}
