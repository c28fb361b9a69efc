package io.decisionflow.connectors.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;

class ArchiveLayoutTest {

  private static final RecordPosition FIRST = new RecordPosition(12, 345, 6, 10);

  private static long hour(String instant) {
    return ArchiveLayout.hourOf(Instant.parse(instant).toEpochMilli());
  }

  @Test
  void namesAnObjectByTenantNamespaceUtcDateAndHourPartitionAndFirstPosition() {
    String key =
        new ArchiveLayout("decisions")
            .key(
                "persistent://payments/fraud/decisions-partition-3",
                hour("2026-02-28T23:59:59.999Z"),
                FIRST);

    assertThat(key)
        .isEqualTo(
            "decisions/tenant=payments/namespace=fraud/date=2026-02-28/hour=23/"
                + "decisions-partition-3-0000000000000000012-0000000000000000345-0000000006.jsonl.gz");
  }

  @Test
  void anEmptyPrefixPutsTheTenantFoldersAtTheTopOfTheBucket() {
    assertThat(
            new ArchiveLayout("")
                .key("payments/fraud/decisions", hour("2026-01-01T00:00:00Z"), FIRST))
        .startsWith("tenant=payments/namespace=fraud/date=2026-01-01/hour=00/decisions-0000");
  }

  @Test
  void readsTheTopicNameFormsPulsarAccepts() {
    assertThat(ArchiveLayout.TopicPath.parse("non-persistent://t/ns/x"))
        .isEqualTo(new ArchiveLayout.TopicPath("t", "ns", "x"));
    assertThat(ArchiveLayout.TopicPath.parse("t/ns/x"))
        .isEqualTo(new ArchiveLayout.TopicPath("t", "ns", "x"));
    assertThat(ArchiveLayout.TopicPath.parse("x"))
        .isEqualTo(new ArchiveLayout.TopicPath("public", "default", "x"));
    assertThatThrownBy(() -> ArchiveLayout.TopicPath.parse("persistent://t/x"))
        .hasMessage(
            "topic name must be [persistent://]tenant/namespace/topic, was persistent://t/x");
  }

  @Test
  void theHourIsUtcAndFloorsTimesBeforeTheEpoch() {
    assertThat(hour("1970-01-01T00:59:59.999Z")).isZero();
    assertThat(hour("1970-01-01T01:00:00Z")).isEqualTo(1);
    assertThat(hour("1969-12-31T23:59:59.999Z")).isEqualTo(-1);
  }

  @Test
  void namesSortInTheOrderOfTheirFirstPositions() {
    List<RecordPosition> positions =
        List.of(
            new RecordPosition(9, 99, 5, 10),
            new RecordPosition(10, 0, -1, 0),
            new RecordPosition(10, 1, 2, 3),
            new RecordPosition(10, 1, 10, 11),
            new RecordPosition(10, 10, 0, 1),
            new RecordPosition(123_456_789_012L, 7, -1, 0));
    ArchiveLayout layout = new ArchiveLayout("decisions");
    long hour = hour("2026-01-01T07:00:00Z");
    List<String> names = new ArrayList<>();
    for (RecordPosition position : positions) {
      names.add(layout.key("persistent://payments/fraud/decisions", hour, position));
    }

    assertThat(names).isSortedAccordingTo(Comparator.naturalOrder());
    assertThat(positions).isSortedAccordingTo(Comparator.naturalOrder());
  }
}
