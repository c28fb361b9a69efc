package io.decisionflow.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.pulsar.common.schema.SchemaType;
import org.junit.jupiter.api.Test;

class TopicsTest {

  private final BusinessNamespace payments = new BusinessNamespace("payments", "fraud");

  @Test
  void qualifiesTopicsInsideTheBusinessUnitNamespace() {
    assertThat(Topics.DECISIONS.in(payments)).isEqualTo("persistent://payments/fraud/decisions");
    assertThat(Topics.scoring("champion").in(payments))
        .isEqualTo("persistent://payments/fraud/scoring-champion");
  }

  @Test
  void merchantsIsAFixedTopicOfTheUnitNamespace() {
    assertThat(Topics.fixed()).contains(Topics.MERCHANTS);
    assertThat(Topics.MERCHANTS.in(payments)).isEqualTo("persistent://payments/fraud/merchants");
  }

  @Test
  void everyTopicUsesProtobufNative() {
    for (TopicSpec<?> topic : Topics.fixed()) {
      assertThat(topic.schema().getSchemaInfo().getType())
          .as(topic.name())
          .isEqualTo(SchemaType.PROTOBUF_NATIVE);
    }
  }

  @Test
  void fixedTopicNamesAreDistinct() {
    assertThat(Topics.fixed()).extracting(TopicSpec::name).doesNotHaveDuplicates();
  }

  @Test
  void rejectsSlotNamesThatCannotBeTopics() {
    assertThatThrownBy(() -> Topics.scoring("Champion/1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("model slot")
        .hasMessageContaining("Champion/1");
  }

  @Test
  void parsesAndRejectsNamespaces() {
    assertThat(BusinessNamespace.parse("lending/fraud"))
        .isEqualTo(new BusinessNamespace("lending", "fraud"));
    assertThatThrownBy(() -> BusinessNamespace.parse("lending"))
        .hasMessageContaining("<tenant>/<namespace>")
        .hasMessageContaining("'lending'");
    assertThatThrownBy(() -> new BusinessNamespace("pay ments", "fraud"))
        .hasMessageContaining("tenant")
        .hasMessageContaining("'pay ments'");
  }
}
