package io.decisionflow.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.decisionflow.tools.BenchEnrichCommand.Slot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchEnrichCommandTest {

  @Test
  void theLatencyRunIsTheWarmUpThenTheMeasuredWindowsNumberedOnward() {
    assertThat(Slot.plan(20, 30, 10))
        .containsExactly(
            new Slot(0, false, 10),
            new Slot(1, false, 10),
            new Slot(2, true, 10),
            new Slot(3, true, 10),
            new Slot(4, true, 10));
  }

  @Test
  void eachPartEndsWithAShorterWindowWhenItIsNotAMultipleOfTheWindow() {
    assertThat(Slot.plan(15, 12, 10))
        .containsExactly(
            new Slot(0, false, 10),
            new Slot(1, false, 5),
            new Slot(2, true, 10),
            new Slot(3, true, 2));
    assertThat(Slot.plan(0, 5, 10)).containsExactly(new Slot(0, true, 5));
    assertThat(Slot.plan(30, 60, 30))
        .containsExactly(new Slot(0, false, 30), new Slot(1, true, 30), new Slot(2, true, 30));
  }

  @Test
  void theLatencyLogHasALinePerRecordWithItsEpochSendTime(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("sub/latency.csv");
    long now = System.nanoTime();
    long before = System.currentTimeMillis();
    try (LatencyLog log = LatencyLog.open(file)) {
      log.window(
          "stage",
          3,
          true,
          new long[] {now, now + TimeUnit.SECONDS.toNanos(2)},
          new long[] {1500, 42});
      log.window("floor", 3, false, new long[] {now}, new long[] {7});
    }
    List<String> lines = Files.readAllLines(file);
    assertThat(lines).hasSize(4);
    assertThat(lines.get(0)).isEqualTo(LatencyLog.HEADER);
    String[] first = lines.get(1).split(",");
    assertThat(first[0]).isEqualTo("stage");
    assertThat(first[1]).isEqualTo("3");
    assertThat(first[2]).isEqualTo("true");
    assertThat(Long.parseLong(first[3])).isBetween(before - 1000, before + 1000);
    assertThat(first[4]).isEqualTo("1500");
    String[] second = lines.get(2).split(",");
    assertThat(Long.parseLong(second[3]) - Long.parseLong(first[3])).isBetween(1999L, 2001L);
    assertThat(lines.get(3)).startsWith("floor,3,false,").endsWith(",7");
  }

  @Test
  void aLogWithoutAFileTakesRecordsAndWritesNothing(@TempDir Path dir) throws Exception {
    try (LatencyLog log = LatencyLog.open(null)) {
      log.window("stage", 0, true, new long[] {1}, new long[] {1});
    }
    try (var files = Files.list(dir)) {
      assertThat(files).isEmpty();
    }
  }
}
