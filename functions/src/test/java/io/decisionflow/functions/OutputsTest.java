package io.decisionflow.functions;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.impl.ProducerBuilderImpl;
import org.junit.jupiter.api.Test;

/** The batching of the stages' own producers, on Pulsar's real producer builder. */
class OutputsTest {

  @Test
  void noDelaySendsEachRecordAlone() {
    ProducerBuilderImpl<byte[]> builder = new ProducerBuilderImpl<>(null, Schema.BYTES);

    Outputs.batching(builder, 0);

    assertThat(builder.getConf().isBatchingEnabled()).isFalse();
  }

  @Test
  void aDelayOfAtLeastOneMillisecondBatchesForIt() {
    ProducerBuilderImpl<byte[]> builder = new ProducerBuilderImpl<>(null, Schema.BYTES);

    Outputs.batching(builder, 2_500);

    assertThat(builder.getConf().isBatchingEnabled()).isTrue();
    assertThat(builder.getConf().getBatchingMaxPublishDelayMicros()).isEqualTo(2_500);
  }
}
