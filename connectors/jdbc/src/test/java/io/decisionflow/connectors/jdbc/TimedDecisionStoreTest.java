package io.decisionflow.connectors.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.metrics.InstanceMetrics;
import io.decisionflow.schemas.Decision;
import java.sql.SQLException;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class TimedDecisionStoreTest {

  private static final long NOW = 1_700_000_010_000L;

  private final InstanceMetrics metrics = InstanceMetrics.unexported();
  private boolean down;
  private final DecisionStore store =
      new DecisionStore() {
        @Override
        public void upsert(List<Decision> decisions) throws SQLException {
          if (down) {
            throw new SQLException("connection refused");
          }
        }

        @Override
        public void close() {}
      };
  private final TimedDecisionStore timed = new TimedDecisionStore(store, metrics, () -> NOW);

  private static Decision decision(String id, long eventTimeMs) {
    return Decision.newBuilder().setTransactionId(id).setEventTimeMs(eventTimeMs).build();
  }

  @Test
  void countsCommittedRowsAndTheirLatencyFromEventTime() throws Exception {
    timed.upsert(List.of(decision("t1", NOW - 2_000), decision("t2", NOW - 4_000)));

    assertThat(metrics.value("decisionflow_jdbc_rows_total")).isEqualTo(2.0);
    assertThat(metrics.value("decisionflow_jdbc_batch_seconds_count")).isEqualTo(1.0);
    assertThat(metrics.value("decisionflow_event_latency_seconds_sum", "stage", "postgres"))
        .isCloseTo(6.0, Offset.offset(1e-9));
    assertThat(metrics.value("decisionflow_jdbc_batch_failures_total")).isEqualTo(0.0);
  }

  @Test
  void aFailedBatchIsTimedAndCountedButItsRowsAreNot() {
    down = true;

    assertThatThrownBy(() -> timed.upsert(List.of(decision("t1", NOW))))
        .isInstanceOf(SQLException.class);

    assertThat(metrics.value("decisionflow_jdbc_batch_failures_total")).isEqualTo(1.0);
    assertThat(metrics.value("decisionflow_jdbc_batch_seconds_count")).isEqualTo(1.0);
    assertThat(metrics.value("decisionflow_jdbc_rows_total")).isEqualTo(0.0);
    assertThat(metrics.value("decisionflow_event_latency_seconds_count", "stage", "postgres"))
        .isEqualTo(0.0);
  }
}
