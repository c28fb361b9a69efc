package io.decisionflow.stages.route;

import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.ScoringRequest;
import io.decisionflow.stages.InvalidRecordException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;

/**
 * Routes each enriched transaction to one arm of a weighted routing table. The choice is sticky per
 * card: a card's id hashes to a bucket in [0, 100), and the arms own consecutive ranges of buckets
 * in the order they are listed, as wide as their weights.
 */
public final class RouteStage {

  private final RouteConfig config;
  private final Clock clock;
  private final RouteConfig.Arm[] byBucket = new RouteConfig.Arm[100];

  public RouteStage(RouteConfig config, Clock clock) {
    this.config = config;
    this.clock = clock;
    int bucket = 0;
    for (RouteConfig.Arm arm : config.arms) {
      for (int i = 0; i < arm.weight; i++) {
        byBucket[bucket++] = arm;
      }
    }
  }

  /** The arm a card lands on. */
  public RouteConfig.Arm armOf(String cardId) {
    return byBucket[bucket(cardId)];
  }

  /** The routed request; its topic is {@code scoring-<model slot>}. */
  public ScoringRequest route(EnrichedTransaction enriched) {
    String cardId = enriched.getTransaction().getCardId();
    if (cardId.isBlank()) {
      throw new InvalidRecordException("transaction.card_id", cardId, "is required");
    }
    RouteConfig.Arm arm = armOf(cardId);
    EnrichedTransaction stamped =
        enriched.toBuilder()
            .setLineage(enriched.getLineage().toBuilder().setRoutedAtMs(clock.millis()))
            .build();
    return ScoringRequest.newBuilder()
        .setEnriched(stamped)
        .setArm(arm.name)
        .setModelSlot(arm.slot())
        .setRoutingVersion(config.routingVersion)
        .build();
  }

  /** The model slots this table routes to. */
  public List<String> slots() {
    return config.arms.stream().map(RouteConfig.Arm::slot).distinct().toList();
  }

  /** Bucket in [0, 100) of a card: FNV-1a (64 bit) of its UTF-8 bytes, stable across releases. */
  static int bucket(String cardId) {
    long hash = 0xcbf29ce484222325L;
    for (byte b : cardId.getBytes(StandardCharsets.UTF_8)) {
      hash ^= (b & 0xff);
      hash *= 0x100000001b3L;
    }
    return (int) Long.remainderUnsigned(hash, 100);
  }
}
