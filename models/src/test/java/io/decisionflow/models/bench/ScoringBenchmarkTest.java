package io.decisionflow.models.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.schemas.ScoringRequest;
import io.decisionflow.stages.enrich.FeatureSpec;
import java.util.List;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class ScoringBenchmarkTest {

  @Test
  void scheduleSpacesRecordsEvenlyWithoutDrift() {
    ScoringBenchmark.Schedule schedule = new ScoringBenchmark.Schedule(3);

    assertThat(schedule.offsetNanos(0)).isZero();
    assertThat(schedule.offsetNanos(1)).isEqualTo(333_333_333L);
    assertThat(schedule.offsetNanos(2)).isEqualTo(666_666_666L);
    assertThat(schedule.offsetNanos(3)).isEqualTo(1_000_000_000L);
    // A day at 3/s lands exactly on the day: no accumulated rounding error.
    assertThat(schedule.offsetNanos(3L * 86_400)).isEqualTo(86_400L * 1_000_000_000L);
  }

  @Test
  void scheduleAtFiveThousandPerSecondIsTwoHundredMicrosApart() {
    ScoringBenchmark.Schedule schedule = new ScoringBenchmark.Schedule(5_000);

    assertThat(schedule.offsetNanos(1)).isEqualTo(200_000L);
    assertThat(schedule.offsetNanos(5_000)).isEqualTo(1_000_000_000L);
    assertThat(schedule.offsetNanos(12_345)).isEqualTo(2_469_000_000L);
  }

  @Test
  void scheduleDoesNotOverflowForLongRuns() {
    ScoringBenchmark.Schedule schedule = new ScoringBenchmark.Schedule(1_000_000);

    // 10^13 records at 10^6/s: 10^7 s. i * 10^9 alone would overflow a long.
    assertThat(schedule.offsetNanos(10_000_000_000_000L)).isEqualTo(10_000_000L * 1_000_000_000L);
  }

  @Test
  void scheduleIsMonotonic() {
    ScoringBenchmark.Schedule schedule = new ScoringBenchmark.Schedule(7_919);
    long previous = -1;
    for (long i = 0; i < 50_000; i++) {
      long offset = schedule.offsetNanos(i);
      assertThat(offset).isGreaterThan(previous);
      previous = offset;
    }
  }

  @Test
  void scheduleRejectsBadArguments() {
    assertThatThrownBy(() -> new ScoringBenchmark.Schedule(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("rate");
    assertThatThrownBy(() -> new ScoringBenchmark.Schedule(10).offsetNanos(-1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void rateIsMetOnlyWhenThroughputAndBacklogAreBothFine() {
    assertThat(ScoringBenchmark.rateMet(5_000, 4_990, 3)).isTrue();
    assertThat(ScoringBenchmark.rateMet(5_000, 4_750, ScoringBenchmark.BACKLOG_LIMIT_MS)).isTrue();
    // Too slow.
    assertThat(ScoringBenchmark.rateMet(5_000, 4_000, 3)).isFalse();
    // Kept the rate on average but ended far behind the schedule.
    assertThat(ScoringBenchmark.rateMet(5_000, 5_000, 250)).isFalse();
  }

  @Test
  void tableAlignsFirstColumnLeftAndTheOthersRight() {
    String table =
        new ScoringBenchmark.TextTable("mode", "p50 us", "p99 us")
            .row("batch-1", "95", "1200")
            .row("micro-batch", "1450", "3100")
            .render();

    assertThat(table)
        .isEqualTo(
            "mode         p50 us  p99 us\n"
                + "---------------------------\n"
                + "batch-1          95    1200\n"
                + "micro-batch    1450    3100\n");
  }

  @Test
  void percentileOfAnEmptyHistogramIsADashNotZero() {
    Histogram histogram = new Histogram(3);
    assertThat(ScoringBenchmark.percentile(histogram, 50)).isEqualTo("-");
    assertThat(ScoringBenchmark.percentile(histogram, 100)).isEqualTo("-");

    for (long value = 1; value <= 100; value++) {
      histogram.recordValue(value);
    }
    assertThat(ScoringBenchmark.percentile(histogram, 50)).isEqualTo("50");
    assertThat(ScoringBenchmark.percentile(histogram, 99)).isEqualTo("99");
    assertThat(ScoringBenchmark.percentile(histogram, 100)).isEqualTo("100");
  }

  @Test
  void tableRejectsRowsOfTheWrongWidth() {
    ScoringBenchmark.TextTable table = new ScoringBenchmark.TextTable("a", "b");

    assertThatThrownBy(() -> table.row("1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("1 cells")
        .hasMessageContaining("2 columns");
  }

  @Test
  void requestsCarryTheFeatureSpecAndTheChampionSlot() {
    List<ScoringRequest> requests = ScoringBenchmark.requests(7, 50);

    assertThat(requests).hasSize(50);
    for (ScoringRequest request : requests) {
      assertThat(request.getModelSlot()).isEqualTo("champion");
      assertThat(request.getEnriched().getFeatureSpecVersion()).isEqualTo(FeatureSpec.VERSION);
      assertThat(request.getEnriched().getFeaturesList())
          .extracting(f -> f.getName())
          .isEqualTo(FeatureSpec.NAMES);
    }
    // Same seed, same requests.
    assertThat(ScoringBenchmark.requests(7, 50)).isEqualTo(requests);
  }
}
