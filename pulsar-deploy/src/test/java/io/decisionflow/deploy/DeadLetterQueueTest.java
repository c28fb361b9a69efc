package io.decisionflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.decisionflow.schemas.DeadLetter;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DeadLetterQueueTest {

  private static DeadLetterQueue.Entry entry(String id, String stage, String reason, long timeMs) {
    return new DeadLetterQueue.Entry(
        id,
        DeadLetter.newBuilder()
            .setStage(stage)
            .setReason(reason)
            .setSourceTopic("persistent://payments/fraud/" + stage + "-in")
            .setKey("card-" + id)
            .setOriginal(ByteString.copyFromUtf8("original-" + id))
            .putProperties("origin", "test")
            .setTimeMs(timeMs)
            .build());
  }

  private final List<DeadLetterQueue.Entry> entries =
      List.of(
          entry("1:0", "enrich", "amount must be >= 0, was -5.0", 100),
          entry("1:1", "enrich", "card_id is required, was <empty>", 200),
          entry("1:2", "enrich", "amount must be >= 0, was -5.0", 300),
          entry("1:3", "decide", "score must be a probability in [0, 1], was NaN", 400));

  @Test
  void groupsCountByStageAndReasonLargestFirstWithTheirTimeSpan() {
    // When
    List<DeadLetterQueue.Group> groups = DeadLetterQueue.groups(entries);

    // Then
    assertThat(groups)
        .containsExactly(
            new DeadLetterQueue.Group("enrich", "amount must be >= 0, was -5.0", 2, 100, 300),
            new DeadLetterQueue.Group(
                "decide", "score must be a probability in [0, 1], was NaN", 1, 400, 400),
            new DeadLetterQueue.Group("enrich", "card_id is required, was <empty>", 1, 200, 200));
  }

  @Test
  void resubmissionsAreTheOriginalRecordsOfTheSelectionMarkedWithTheirDeadLetter() {
    // Given: enrich's dead letters whose reason mentions the amount
    DeadLetterQueue.Selection selection =
        new DeadLetterQueue.Selection("enrich", "amount", Set.of());

    // When
    List<DeadLetterQueue.Resubmission> out = DeadLetterQueue.resubmissions(entries, selection);

    // Then: back to their source topic, same key, bytes and properties, plus where they came from
    assertThat(out).hasSize(2);
    DeadLetterQueue.Resubmission first = out.get(0);
    assertThat(first.topic()).isEqualTo("persistent://payments/fraud/enrich-in");
    assertThat(first.key()).isEqualTo("card-1:0");
    assertThat(first.value()).isEqualTo("original-1:0".getBytes());
    assertThat(first.properties())
        .isEqualTo(Map.of("origin", "test", DeadLetterQueue.RESUBMITTED_FROM, "1:0"));
    assertThat(out.get(1).key()).isEqualTo("card-1:2");
  }

  @Test
  void selectionByIdAndAll() {
    assertThat(
            DeadLetterQueue.resubmissions(
                entries, new DeadLetterQueue.Selection(null, null, Set.of("1:3"))))
        .extracting(DeadLetterQueue.Resubmission::key)
        .containsExactly("card-1:3");
    assertThat(DeadLetterQueue.resubmissions(entries, DeadLetterQueue.Selection.ALL)).hasSize(4);
  }

  @Test
  void aDeadLetterWithoutSourceTopicCannotBeResubmittedAndSaysWhich() {
    // Given
    DeadLetterQueue.Entry orphan =
        new DeadLetterQueue.Entry("9:9", DeadLetter.newBuilder().setStage("route").build());

    // When / Then
    assertThatThrownBy(
            () -> DeadLetterQueue.resubmissions(List.of(orphan), DeadLetterQueue.Selection.ALL))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dead letter 9:9 has no source_topic: it cannot be resubmitted");
  }
}
