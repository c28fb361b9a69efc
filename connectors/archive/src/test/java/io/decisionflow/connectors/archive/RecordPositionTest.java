package io.decisionflow.connectors.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.impl.BatchMessageIdImpl;
import org.apache.pulsar.client.impl.MessageIdImpl;
import org.apache.pulsar.client.impl.TopicMessageIdImpl;
import org.junit.jupiter.api.Test;

class RecordPositionTest {

  @Test
  void readsLedgerEntryBatchIndexAndBatchSizeFromTheSerializedId() {
    assertThat(RecordPosition.of(new BatchMessageIdImpl(17, 4242, 3, 5, 8, null)))
        .isEqualTo(new RecordPosition(17, 4242, 5, 8));
    assertThat(RecordPosition.of(new MessageIdImpl(1L << 40, 0, -1)))
        .isEqualTo(new RecordPosition(1L << 40, 0, -1, 0));
  }

  @Test
  void readsTheIdOfAMessageOfAPartitionedTopic() {
    MessageId id =
        new TopicMessageIdImpl(
            "persistent://payments/fraud/decisions-partition-2",
            new BatchMessageIdImpl(5, 6, 2, 0, 2, null));

    assertThat(RecordPosition.of(id)).isEqualTo(new RecordPosition(5, 6, 0, 2));
  }

  @Test
  void onlyTheLastMessageOfAnEntryEndsIt() {
    assertThat(new RecordPosition(1, 2, -1, 0).endsEntry()).isTrue();
    assertThat(new RecordPosition(1, 2, 0, 1).endsEntry()).isTrue();
    assertThat(new RecordPosition(1, 2, 0, 2).endsEntry()).isFalse();
    assertThat(new RecordPosition(1, 2, 1, 2).endsEntry()).isTrue();
  }

  @Test
  void refusesAnIdWithoutLedgerAndEntry() {
    assertThatThrownBy(() -> RecordPosition.of(MessageId.earliest))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("carries no ledger and entry id");
    assertThatThrownBy(() -> RecordPosition.of(null))
        .hasMessage("a record without a message id cannot be archived");
  }
}
