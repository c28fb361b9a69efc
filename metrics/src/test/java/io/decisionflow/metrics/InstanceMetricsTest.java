package io.decisionflow.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.util.UUID;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

class InstanceMetricsTest {

  @Test
  void gaugesAndStageSeriesAreExportedAsSoonAsTheyAreMadeAndGoneOnClose() throws Exception {
    String name = "f-" + UUID.randomUUID();
    ObjectName breaker =
        new ObjectName(
            "decisionflow:metric=score_breaker,fqfn=t/ns/" + name + ",instance_id=0,slot=champion");
    ObjectName recordsIn =
        new ObjectName(
            "decisionflow:metric=records_in,fqfn=t/ns/" + name + ",instance_id=0,stage=score");
    var server = ManagementFactory.getPlatformMBeanServer();

    try (InstanceMetrics metrics = InstanceMetrics.exported("t", "ns", name, 0)) {
      metrics.gauge(
          "decisionflow_score_breaker_state",
          "breaker",
          java.util.List.of("slot"),
          java.util.List.of("champion"),
          () -> 2);
      new StageMetrics(metrics, "score");

      // No wait for the periodic refresh
      assertThat(server.getAttribute(breaker, "state")).isEqualTo(2.0);
      assertThat(server.getAttribute(recordsIn, "total")).isEqualTo(0.0);
    }
    assertThat(server.isRegistered(breaker)).isFalse();
    assertThat(server.isRegistered(recordsIn)).isFalse();
  }
}
