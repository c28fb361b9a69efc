package io.decisionflow.stages.enrich;

import io.decisionflow.schemas.state.CardState;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** Durable per-card state. Online it is Pulsar Functions state; tests use a map. */
public interface CardStateStore {

  /** The card's state, or empty for a card never seen. */
  CompletableFuture<Optional<CardState>> load(String cardId);

  /** Stores the card's state; the future completes once it is durable. */
  CompletableFuture<Void> save(String cardId, CardState state);
}
