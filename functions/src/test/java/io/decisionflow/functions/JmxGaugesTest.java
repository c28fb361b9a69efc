package io.decisionflow.functions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import javax.management.AttributeNotFoundException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

class JmxGaugesTest {

  private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();

  private static Map<String, String> labels(String function) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("fqfn", "payments/fraud/" + function);
    labels.put("instance_id", "0");
    labels.put("slot", "champion");
    return labels;
  }

  @Test
  void exposesLiveValuesUnderANameWhoseKeysBecomeTheSeriesLabels() throws Exception {
    // Given
    AtomicLong switches = new AtomicLong();
    Map<String, LongSupplier> gauges = Map.of("model_switches_total", switches::get);

    // When
    try (JmxGauges mbean = JmxGauges.register("score", labels("score-a"), gauges, "test")) {
      switches.set(3);

      // Then
      ObjectName name =
          new ObjectName(
              "decisionflow:type=score,fqfn=payments/fraud/score-a,instance_id=0,slot=champion");
      assertThat(mbean.name()).isEqualTo(name);
      assertThat(server.getAttribute(name, "model_switches_total")).isEqualTo(3L);
      assertThat(mbean.name().getKeyPropertyListString())
          .isEqualTo("type=score,fqfn=payments/fraud/score-a,instance_id=0,slot=champion");
      assertThatThrownBy(() -> server.getAttribute(name, "nope"))
          .isInstanceOf(AttributeNotFoundException.class);
    }
  }

  @Test
  void replacesTheMBeanOfAnEarlierRunAndUnregistersOnClose() throws Exception {
    // Given an MBean left by an earlier run of the function in this JVM
    JmxGauges earlier =
        JmxGauges.register("score", labels("score-b"), Map.of("breaker_state", () -> 2), "test");

    // When the function starts again
    JmxGauges again =
        JmxGauges.register("score", labels("score-b"), Map.of("breaker_state", () -> 0), "test");

    // Then the new values serve, and close removes the MBean
    assertThat(server.getAttribute(again.name(), "breaker_state")).isEqualTo(0L);
    again.close();
    assertThat(server.isRegistered(earlier.name())).isFalse();
    earlier.close(); // already gone: no error
  }
}
