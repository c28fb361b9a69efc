package io.decisionflow.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RateSearchTest {

  /** A system that sustains up to {@code capacity}/s. */
  private static RateSearch.Probe capacity(int capacity, List<Integer> tried) {
    return rate -> {
      tried.add(rate);
      DecisionTally.Result result =
          new DecisionTally.Result(
              rate,
              rate <= capacity ? rate : rate / 2,
              0,
              new Percentiles(rate, 5, 8, 10, 12),
              0,
              0,
              0,
              0,
              Map.of());
      return new RateSearch.Step(
          rate, result, 0, new RateSearch.Criteria(1000, 50_000).failure(result, 0));
    };
  }

  @Test
  void doublesThenBisectsToWithinThePrecision() throws Exception {
    List<Integer> tried = new ArrayList<>();
    RateSearch.Outcome outcome =
        new RateSearch(capacity(3_300, tried), line -> {}).search(500, 100_000, 0.05);

    // 4000 fails twice (a failure counts only once repeated), then bisection
    assertThat(tried).startsWith(500, 1000, 2000, 4000, 4000, 3000);
    assertThat(outcome.maxRate()).isBetween((int) (3_300 / 1.05), 3_300);
    assertThat(outcome.steps()).hasSameSizeAs(tried);
  }

  @Test
  void stopsAtTheMaximumIfEverythingPasses() throws Exception {
    List<Integer> tried = new ArrayList<>();
    RateSearch.Outcome outcome =
        new RateSearch(capacity(1_000_000, tried), line -> {}).search(1000, 5000, 0.05);

    assertThat(tried).containsExactly(1000, 2000, 4000, 5000);
    assertThat(outcome.maxRate()).isEqualTo(5000);
  }

  @Test
  void looksBelowTheStartWhenTheStartFails() throws Exception {
    List<Integer> tried = new ArrayList<>();
    RateSearch.Outcome outcome =
        new RateSearch(capacity(130, tried), line -> {}).search(1000, 5000, 0.1);

    assertThat(tried).startsWith(1000, 1000, 500, 500, 250, 250, 125);
    assertThat(outcome.maxRate()).isBetween((int) (130 / 1.1), 130);
  }

  @Test
  void aStepThatFailsOnceIsTriedAgainBeforeItCounts() throws Exception {
    List<Integer> tried = new ArrayList<>();
    RateSearch.Probe capacity = capacity(3_300, tried);
    int[] calls = {0};
    RateSearch.Probe coldFirst =
        rate -> {
          RateSearch.Step step = capacity.run(rate);
          if (calls[0]++ == 0) {
            return new RateSearch.Step(rate, step.result(), 0, "p99 1500 ms > 1000.0 ms");
          }
          return step;
        };

    RateSearch.Outcome outcome = new RateSearch(coldFirst, line -> {}).search(1000, 100_000, 0.05);

    assertThat(tried).startsWith(1000, 1000, 2000, 4000);
    assertThat(outcome.maxRate()).isBetween((int) (3_300 / 1.05), 3_300);
  }

  @Test
  void reportsZeroWhenNothingIsSustained() throws Exception {
    RateSearch.Outcome outcome =
        new RateSearch(capacity(0, new ArrayList<>()), line -> {}).search(1000, 5000, 0.1);

    assertThat(outcome.maxRate()).isZero();
  }

  @Test
  void criteriaSayWhyAStepFailed() {
    RateSearch.Criteria criteria = new RateSearch.Criteria(500, 50_000);
    DecisionTally.Result slow =
        new DecisionTally.Result(
            100, 100, 0, new Percentiles(100, 5, 8, 750, 900), 0, 0, 0, 0, Map.of());
    DecisionTally.Result lost =
        new DecisionTally.Result(
            100, 97, 0, new Percentiles(97, 5, 8, 10, 12), 0, 0, 0, 0, Map.of());
    DecisionTally.Result fine =
        new DecisionTally.Result(
            100, 100, 0, new Percentiles(100, 5, 8, 10, 12), 0, 0, 0, 0, Map.of());

    assertThat(criteria.failure(slow, 0)).isEqualTo("p99 750 ms > 500.0 ms");
    assertThat(criteria.failure(lost, 0)).isEqualTo("3 of 100 not decided in time");
    assertThat(criteria.failure(fine, 80_000))
        .isEqualTo("the generator ended 80.0 ms behind its schedule");
    assertThat(RateSearch.Criteria.forStep(100, java.time.Duration.ofSeconds(15)))
        .isEqualTo(new RateSearch.Criteria(100, 750_000));
    assertThat(RateSearch.Criteria.forStep(100, java.time.Duration.ofSeconds(1)))
        .isEqualTo(new RateSearch.Criteria(100, 100_000));
    assertThat(criteria.failure(fine, 0)).isNull();
    assertThatThrownBy(() -> new RateSearch(rate -> null, l -> {}).search(0, 10, 0.1))
        .hasMessageContaining("start 0");
  }
}
