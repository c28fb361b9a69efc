package io.decisionflow.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class RateScheduleTest {

  @Test
  void aConstantRateSpacesMessagesEvenly() {
    RateSchedule s = RateSchedule.constant(1000, Duration.ofSeconds(2));

    assertThat(s.total()).isEqualTo(2000);
    assertThat(s.dueNanos(0)).isZero();
    assertThat(s.dueNanos(1)).isEqualTo(1_000_000);
    assertThat(s.dueNanos(1999)).isEqualTo(1_999_000_000L);
    assertThat(s.duration()).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void aFractionalIntervalDoesNotDriftOverTheRun() {
    RateSchedule s = RateSchedule.constant(3, Duration.ofSeconds(30));

    assertThat(s.total()).isEqualTo(90);
    // 1/3 s apart: message 89 is due at 29.666... s, rounded once, not 89 rounding errors
    assertThat(s.dueNanos(89)).isEqualTo(29_666_666_667L);
  }

  @Test
  void stepsFollowEachOther() {
    RateSchedule s = RateSchedule.parse("100x2s, 1000x1s");

    assertThat(s.total()).isEqualTo(200 + 1000);
    assertThat(s.stepOf(199)).isZero();
    assertThat(s.stepOf(200)).isEqualTo(1);
    assertThat(s.dueNanos(199)).isEqualTo(1_990_000_000L);
    assertThat(s.dueNanos(200)).isEqualTo(2_000_000_000L);
    assertThat(s.dueNanos(201)).isEqualTo(2_001_000_000L);
    assertThat(s.duration()).isEqualTo(Duration.ofSeconds(3));
    assertThat(s).hasToString("100x2s,1000x1s");
  }

  @Test
  void dueTimesNeverGoBack() {
    RateSchedule s = RateSchedule.parse("7x1.5s,1300x0.5s,11x2s");
    long previous = -1;
    for (long i = 0; i < s.total(); i++) {
      assertThat(s.dueNanos(i)).isGreaterThan(previous);
      assertThat(s.dueNanos(i)).isLessThan(s.duration().toNanos());
      previous = s.dueNanos(i);
    }
  }

  @Test
  void badSchedulesNameTheStep() {
    assertThatThrownBy(() -> RateSchedule.parse("100x2s,fast"))
        .hasMessageContaining("'fast'")
        .hasMessageContaining("<rate>x<seconds>s");
    assertThatThrownBy(() -> RateSchedule.parse("0x2s"))
        .hasMessageContaining("'0x2s'")
        .hasMessageContaining("rate must be > 0");
    assertThatThrownBy(() -> RateSchedule.parse("10x0s")).hasMessageContaining("duration");
    assertThatThrownBy(() -> RateSchedule.of(List.of())).hasMessageContaining("at least one");
    assertThatThrownBy(() -> RateSchedule.constant(10, Duration.ofSeconds(1)).dueNanos(10))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }
}
