package io.decisionflow.stages.route;

import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.ScoringRequest;
import io.decisionflow.schemas.control.RoutingArm;
import io.decisionflow.schemas.control.RoutingTable;
import io.decisionflow.schemas.control.ShadowArm;
import io.decisionflow.stages.InvalidRecordException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Routes each enriched transaction by one routing table: to the deciding arm of its card, plus a
 * mirrored copy for each shadow arm that samples the card.
 *
 * <p><b>Deciding arm.</b> A card's id hashes (FNV-1a 64) to a bucket in [0, 100), and the arms own
 * consecutive ranges of buckets in the order they are listed, as wide as their weights. So a card
 * always lands on the same arm under one table, and a new table moves only the cards of the buckets
 * whose owner changes: between two arms trading weight next to each other in the list (70/30 to
 * 60/40) exactly the shifted share moves, from the arm that shrinks to the one that grows. In
 * general the share that moves is at most the sum of the shifts of the range boundaries.
 *
 * <p><b>Shadow arms.</b> A shadow arm mirrors the cards whose bucket of {@code <shadow name>/<card
 * id>} (an independent hash per shadow) is below its {@code mirror_percent}, so its sample is
 * sticky too and raising the percentage only adds cards. A copy has {@code shadow = true}; a card
 * whose deciding arm already uses the shadow's slot gets no copy (the same model would score the
 * same record twice).
 */
public final class RouteStage {

  private final RoutingTable table;
  private final Clock clock;
  private final RoutingArm[] byBucket = new RoutingArm[100];

  /**
   * @param table a table that passed {@link RoutingTables#validate}
   */
  public RouteStage(RoutingTable table, Clock clock) {
    this.table = table;
    this.clock = clock;
    int bucket = 0;
    for (RoutingArm arm : table.getArmsList()) {
      for (int i = 0; i < arm.getWeight(); i++) {
        byBucket[bucket++] = arm;
      }
    }
    if (bucket != 100) {
      throw new IllegalArgumentException(
          "routing table " + table.getVersion() + ": weights add up to " + bucket + ", not 100");
    }
  }

  /** A stage for the initial table of a validated config. */
  public RouteStage(RouteConfig config, Clock clock) {
    this(config.toTable(), clock);
  }

  /** The table this stage routes by. */
  public RoutingTable table() {
    return table;
  }

  /** The deciding arm a card lands on. */
  public RoutingArm armOf(String cardId) {
    return byBucket[bucket(cardId)];
  }

  /** Whether {@code shadow} mirrors the records of the card. */
  public static boolean mirrors(ShadowArm shadow, String cardId) {
    return bucket(shadow.getName() + "/" + cardId) < shadow.getMirrorPercent();
  }

  /** The deciding request; its topic is {@code scoring-<model slot>}. */
  public ScoringRequest route(EnrichedTransaction enriched) {
    return routeAll(enriched).get(0);
  }

  /**
   * The deciding request first, then a shadow copy for each shadow arm that mirrors the card; each
   * goes to {@code scoring-<model slot>}.
   */
  public List<ScoringRequest> routeAll(EnrichedTransaction enriched) {
    String cardId = enriched.getTransaction().getCardId();
    if (cardId.isBlank()) {
      throw new InvalidRecordException("transaction.card_id", cardId, "is required");
    }
    RoutingArm arm = armOf(cardId);
    EnrichedTransaction stamped =
        enriched.toBuilder()
            .setLineage(enriched.getLineage().toBuilder().setRoutedAtMs(clock.millis()))
            .build();
    ScoringRequest deciding =
        ScoringRequest.newBuilder()
            .setEnriched(stamped)
            .setArm(arm.getName())
            .setModelSlot(arm.getModelSlot())
            .setRoutingVersion(table.getVersion())
            .build();
    if (table.getShadowsCount() == 0) {
      return List.of(deciding);
    }
    List<ScoringRequest> requests = new ArrayList<>();
    requests.add(deciding);
    for (ShadowArm shadow : table.getShadowsList()) {
      if (!shadow.getModelSlot().equals(arm.getModelSlot()) && mirrors(shadow, cardId)) {
        requests.add(
            deciding.toBuilder()
                .setArm(shadow.getName())
                .setModelSlot(shadow.getModelSlot())
                .setShadow(true)
                .build());
      }
    }
    return requests;
  }

  /** The model slots this table routes to: the deciding arms', then the shadows'. */
  public List<String> slots() {
    Set<String> slots = new LinkedHashSet<>();
    table.getArmsList().forEach(arm -> slots.add(arm.getModelSlot()));
    table.getShadowsList().forEach(shadow -> slots.add(shadow.getModelSlot()));
    return List.copyOf(slots);
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
