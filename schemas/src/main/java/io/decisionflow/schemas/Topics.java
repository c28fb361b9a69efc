package io.decisionflow.schemas;

import io.decisionflow.schemas.control.ModelDeployment;
import io.decisionflow.schemas.control.ModelStatus;
import io.decisionflow.schemas.control.RoutingStatus;
import io.decisionflow.schemas.control.RoutingTable;
import io.decisionflow.schemas.reference.MerchantRisk;
import java.util.List;

/**
 * The one registry of topic names and their schemas. Functions, deployment, tools and tests name
 * topics only through this class.
 */
public final class Topics {

  /** Raw transactions, keyed by card id: the pipeline's input. */
  public static final TopicSpec<Transaction> TRANSACTIONS =
      new TopicSpec<>("transactions", Transaction.class);

  /**
   * The most unacknowledged messages the broker lets one consumer (and one subscription) of {@link
   * #TRANSACTIONS} hold; provisioning sets it as the topic's policy. Enrich acknowledges a
   * transaction only once its card's state is durable, and under load it keeps up to its {@code
   * maxPendingRecords} waiting so that several records of a card share one state write: the
   * broker's default (50,000 per consumer) would stop dispatching before that.
   */
  public static final int TRANSACTIONS_MAX_UNACKED = 500_000;

  /** Transactions with their per-card features, written by enrich. */
  public static final TopicSpec<EnrichedTransaction> TRANSACTIONS_ENRICHED =
      new TopicSpec<>("transactions-enriched", EnrichedTransaction.class);

  /** Scores of every model slot, written by the score functions. */
  public static final TopicSpec<Score> SCORES = new TopicSpec<>("scores", Score.class);

  /** Every decision, written by decide; what the sinks store. */
  public static final TopicSpec<Decision> DECISIONS = new TopicSpec<>("decisions", Decision.class);

  /** Decisions whose outcome is ALERT. */
  public static final TopicSpec<Decision> FRAUD_ALERTS =
      new TopicSpec<>("fraud-alerts", Decision.class);

  /** Decisions whose outcome is OK. */
  public static final TopicSpec<Decision> TRANSACTIONS_OK =
      new TopicSpec<>("transactions-ok", Decision.class);

  /** Records a stage could not process, with the reason. */
  public static final TopicSpec<DeadLetter> DEAD_LETTERS =
      new TopicSpec<>("dead-letters", DeadLetter.class);

  /** Control topic: the current model of each slot ({@code ModelDeployment}, keyed by slot). */
  public static final TopicSpec<ModelDeployment> MODELS =
      new TopicSpec<>("models", ModelDeployment.class);

  /**
   * Control topic: what each score function instance serves, and the versions it refused ({@code
   * ModelStatus}, keyed by {@code <slot>/<instance id>}).
   */
  public static final TopicSpec<ModelStatus> MODEL_STATUS =
      new TopicSpec<>("model-status", ModelStatus.class);

  /**
   * Scores of shadow arms' mirrored copies ({@code ScoringRequest.shadow}), written by the score
   * functions; decide never reads them.
   */
  public static final TopicSpec<Score> SHADOW_SCORES =
      new TopicSpec<>("shadow-scores", Score.class);

  /**
   * Control topic: the routing table of the unit ({@code RoutingTable}, keyed by {@code table}).
   */
  public static final TopicSpec<RoutingTable> ROUTING =
      new TopicSpec<>("routing", RoutingTable.class);

  /** The one key of {@link #ROUTING}: a unit's pipeline has one routing table. */
  public static final String ROUTING_KEY = "table";

  /**
   * Control topic: the table each route function instance applied, and the tables it refused
   * ({@code RoutingStatus}, keyed by {@code <function>/<instance id>}).
   */
  public static final TopicSpec<RoutingStatus> ROUTING_STATUS =
      new TopicSpec<>("routing-status", RoutingStatus.class);

  /**
   * Reference table: the risk of each merchant ({@code MerchantRisk}, keyed by merchant id),
   * compacted; a record with an empty value (a tombstone) deletes its merchant. The enrich
   * functions read it as a table and apply updates live.
   */
  public static final TopicSpec<MerchantRisk> MERCHANTS =
      new TopicSpec<>("merchants", MerchantRisk.class);

  private static final String SCORING_PREFIX = "scoring-";

  private Topics() {}

  /** The topic of one model slot, {@code scoring-<slot>}, read by that slot's score function. */
  public static TopicSpec<ScoringRequest> scoring(String slot) {
    if (slot == null || !slot.matches("[a-z0-9][a-z0-9-]*")) {
      throw new IllegalArgumentException(
          "model slot must be lower-case letters, digits or '-', was '" + slot + "'");
    }
    return new TopicSpec<>(SCORING_PREFIX + slot, ScoringRequest.class);
  }

  /** The topics every pipeline has, whatever its model slots. */
  public static List<TopicSpec<?>> fixed() {
    return List.of(
        TRANSACTIONS,
        TRANSACTIONS_ENRICHED,
        SCORES,
        DECISIONS,
        FRAUD_ALERTS,
        TRANSACTIONS_OK,
        DEAD_LETTERS,
        MODELS,
        MODEL_STATUS,
        SHADOW_SCORES,
        ROUTING,
        ROUTING_STATUS,
        MERCHANTS);
  }
}
