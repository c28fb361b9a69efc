package io.decisionflow.connectors.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.schemas.Decision;
import java.lang.reflect.Proxy;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DecisionTableTest {

  /** The columns of V1__create_decisions.sql. */
  private static final Set<String> V1 =
      new LinkedHashSet<>(
          List.of(
              "transaction_id",
              "card_id",
              "merchant_id",
              "amount",
              "currency",
              "event_time_ms",
              "channel",
              "country",
              "feature_spec_version",
              "features_json",
              "arm",
              "model_slot",
              "model_version",
              "score",
              "fallback",
              "threshold",
              "outcome",
              "band",
              "late",
              "routing_version",
              "enriched_at_ms",
              "routed_at_ms",
              "scored_at_ms",
              "decided_at_ms",
              "stored_at"));

  @Test
  void everyDecisionFieldHasItsColumnInTheShippedTable() {
    assertThat(DecisionTable.of("decisions", V1).missingColumns()).isEmpty();
  }

  @Test
  void theUpsertKeysOnTheTransactionIdAndUpdatesEveryOtherColumn() {
    String sql =
        DecisionTable.of("decisions", Set.of("transaction_id", "score", "outcome")).upsertSql();

    assertThat(sql)
        .isEqualTo(
            "INSERT INTO decisions (transaction_id, score, outcome) VALUES (?, ?, ?)"
                + " ON CONFLICT (transaction_id) DO UPDATE SET score = EXCLUDED.score,"
                + " outcome = EXCLUDED.outcome");
  }

  @Test
  void aFieldWithoutColumnIsLeftOutAndNamed() {
    Set<String> older = new LinkedHashSet<>(V1);
    older.remove("band");

    DecisionTable table = DecisionTable.of("decisions", older);

    assertThat(table.missingColumns()).containsExactly("band");
    assertThat(table.upsertSql()).doesNotContain("band");
  }

  @Test
  void aTableWithoutTransactionIdIsRefusedSayingWhatToDo() {
    assertThatThrownBy(() -> DecisionTable.of("decisions", Set.of("id", "score")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("table decisions has no column transaction_id")
        .hasMessageContaining("decisionflow db migrate");
  }

  @Test
  void bindingSetsEachFieldInColumnOrderWithItsType() throws Exception {
    DecisionTable table =
        DecisionTable.of("decisions", Set.of("transaction_id", "score", "late", "decided_at_ms"));
    List<String> calls = new ArrayList<>();
    PreparedStatement statement =
        (PreparedStatement)
            Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {PreparedStatement.class},
                (proxy, method, args) -> {
                  calls.add(method.getName() + "(" + args[0] + ", " + args[1] + ")");
                  return null;
                });

    table.bind(
        statement,
        Decision.newBuilder()
            .setTransactionId("tx-1")
            .setScore(0.25)
            .setLate(true)
            .setDecidedAtMs(1234L)
            .build());

    // Proto field order: transaction_id (1), score (14), decided_at_ms (21), late (23)
    assertThat(calls)
        .containsExactly(
            "setString(1, tx-1)", "setDouble(2, 0.25)", "setLong(3, 1234)", "setBoolean(4, true)");
  }
}
