package io.decisionflow.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class PercentilesTest {

  @Test
  void readsMillisecondsFromMicroseconds() {
    Histogram h = Percentiles.newHistogram();
    for (int ms = 1; ms <= 1000; ms++) {
      Percentiles.record(h, ms * 1000L);
    }

    Percentiles p = Percentiles.of(h);

    assertThat(p.count()).isEqualTo(1000);
    // 3 significant digits: within 0.1%
    assertThat(p.p50()).isCloseTo(500, within(0.5));
    assertThat(p.p95()).isCloseTo(950, within(1.0));
    assertThat(p.p99()).isCloseTo(990, within(1.0));
    assertThat(p.max()).isCloseTo(1000, within(1.0));
  }

  @Test
  void oneSlowOutlierShowsInTheMaxAndNotInTheMedian() {
    Histogram h = Percentiles.newHistogram();
    for (int i = 0; i < 999; i++) {
      Percentiles.record(h, 2_000);
    }
    Percentiles.record(h, 5_000_000);

    Percentiles p = Percentiles.of(h);

    assertThat(p.p50()).isCloseTo(2.0, within(0.01));
    assertThat(p.p99()).isCloseTo(2.0, within(0.01));
    assertThat(p.max()).isCloseTo(5000, within(5.0));
  }

  @Test
  void clampsWhatIsOutOfRangeInsteadOfThrowing() {
    Histogram h = Percentiles.newHistogram();
    Percentiles.record(h, -5);
    Percentiles.record(h, Long.MAX_VALUE);

    Percentiles p = Percentiles.of(h);

    assertThat(p.count()).isEqualTo(2);
    assertThat(p.p50()).isZero();
    assertThat(p.max()).isGreaterThanOrEqualTo(Percentiles.HIGHEST_MICROS / 1000.0);
  }

  @Test
  void formatsShortLatenciesWithADecimal() {
    assertThat(new Percentiles(3, 1.25, 12.0, 99.94, 1234.4).format())
        .isEqualTo("p50 1.3 ms, p95 12.0 ms, p99 99.9 ms, max 1234 ms");
    assertThat(Percentiles.of(Percentiles.newHistogram()).count()).isZero();
  }
}
