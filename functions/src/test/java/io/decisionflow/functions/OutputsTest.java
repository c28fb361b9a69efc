package io.decisionflow.functions;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
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

  @Test
  void aRecordGoesAtOnceWhileLittleIsOnItsWayAndBatchesUnderLoad() {
    FakeContext context =
        new FakeContext(Map.of()).withFunction("enrich", List.of("in"), "out").holdSendsTo("out");
    Outputs outputs = new Outputs(context, 1_000);

    for (int i = 0; i < Outputs.SEND_AT_ONCE_BELOW; i++) {
      outputs.send("out", Schema.STRING, "card-" + i, "r" + i, 0);
    }
    assertThat(context.flushes()).isEqualTo(Outputs.SEND_AT_ONCE_BELOW);

    // as many on their way as the bound: the next records wait to batch
    outputs.send("out", Schema.STRING, "card-x", "rx", 0);
    outputs.send("out", Schema.STRING, "card-y", "ry", 0);
    assertThat(context.flushes()).isEqualTo(Outputs.SEND_AT_ONCE_BELOW);

    context.completeHeldSends(); // stored: nothing on its way any more
    outputs.send("out", Schema.STRING, "card-z", "rz", 0);
    assertThat(context.flushes()).isEqualTo(Outputs.SEND_AT_ONCE_BELOW + 1);
    assertThat(context.outputs()).hasSize(Outputs.SEND_AT_ONCE_BELOW + 3);
  }

  @Test
  void withoutBatchingNothingIsFlushed() {
    FakeContext context =
        new FakeContext(Map.of()).withFunction("enrich", List.of("in"), "out").holdSendsTo("out");
    Outputs outputs = new Outputs(context, 0);

    outputs.send("out", Schema.STRING, "card-1", "r1", 0);

    assertThat(context.flushes()).isZero();
    assertThat(context.outputs()).hasSize(1);
  }
}
