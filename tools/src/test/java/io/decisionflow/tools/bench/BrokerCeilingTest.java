package io.decisionflow.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class BrokerCeilingTest {

  // As pulsar-perf 4.0.8 prints them (one periodic line, then the aggregated ones on exit)
  private static final String PRODUCE =
      "2026-11-22T15:38:15,096+0000 [main] INFO  org.apache.pulsar.testclient.PerformanceProducer"
          + " - Throughput produced: 1357292 msg --- 135726.9 msg/s ---    207.1 Mbit/s  ---"
          + " failure      0.0 msg/s --- Latency: mean:  90.681 ms - med:  58.471 - 95pct:"
          + " 291.423 - 99pct: 300.879 - 99.9pct: 306.335 - 99.99pct: 333.853 - Max: 365.589\n"
          + "2026-11-22T15:38:25,275+0000 [perf-client-shutdown] INFO "
          + " org.apache.pulsar.testclient.PerformanceProducer - Aggregated throughput stats ---"
          + " 2531802 records sent --- 122511.394 msg/s --- 186.938 Mbit/s \n"
          + "2026-11-22T15:38:25,303+0000 [perf-client-shutdown] INFO "
          + " org.apache.pulsar.testclient.PerformanceProducer - Aggregated latency stats ---"
          + " Latency: mean: 117.193 ms - med:  58.371 - 95pct: 431.747 - 99pct: 649.407 -"
          + " 99.9pct: 685.775 - 99.99pct: 688.331 - 99.999pct: 688.355 - Max: 688.359\n";
  private static final String CONSUME =
      "2026-11-22T15:38:22,277+0000 [perf-client-shutdown] INFO "
          + " org.apache.pulsar.testclient.PerformanceConsumer - Aggregated throughput stats ---"
          + " 2172895 records received --- 121280.893 msg/s --- 185.060 Mbit/s --- AckRate:"
          + " 121280.89267696986  msg/s --- ack failed 0 msg\n";

  @Test
  void readsTheAggregatedRatesAndPublishLatency() {
    BrokerCeiling.Result result = BrokerCeiling.parse(PRODUCE, CONSUME, 180);

    assertThat(result.producedPerSecond()).isEqualTo(122511.394);
    assertThat(result.sent()).isEqualTo(2531802);
    assertThat(result.received()).isEqualTo(2172895);
    // The consumer received 85.8 % of what was sent within its run: the ceiling is that share
    assertThat(result.perSecond()).isCloseTo(122511.394 * 2172895 / 2531802, within(0.01));
    assertThat(result.publishP50Ms()).isEqualTo(58.371);
    assertThat(result.publishP99Ms()).isEqualTo(649.407);
    assertThat(result.publishMaxMs()).isEqualTo(688.359);
    assertThat(result.format())
        .contains(
            "broker ceiling: 105144 msg/s (122511 msg/s produced, 2172895 of 2531802 received;");
  }

  @Test
  void aConsumerThatReceivedEverythingLeavesTheProducedRate() {
    BrokerCeiling.Result result =
        new BrokerCeiling.Result(50_000, 1_000_000, 999_000, 100, 1, 2, 3);

    assertThat(result.perSecond()).isEqualTo(50_000);
    assertThat(new BrokerCeiling.Result(0, 0, 0, 100, 0, 0, 0).perSecond()).isZero();
  }

  @Test
  void aRunWithoutAggregatedStatsIsAnErrorNotAZero() {
    assertThatThrownBy(() -> BrokerCeiling.parse("Connection refused\n", CONSUME, 180))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("pulsar-perf produce printed no aggregated stats");
  }
}
