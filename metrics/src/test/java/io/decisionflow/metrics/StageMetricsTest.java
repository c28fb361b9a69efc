package io.decisionflow.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class StageMetricsTest {

  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final AtomicLong wallMs = new AtomicLong(1_700_000_000_000L);
  private final InstanceMetrics metrics = InstanceMetrics.unexported();
  private final StageMetrics enrich = new StageMetrics(metrics, "enrich", nanos::get, wallMs::get);

  @Test
  void countsRecordsInAndOutAndTimesThem() {
    long start = enrich.received();
    nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(3));
    enrich.emitted(start, wallMs.get() - 40);

    assertThat(metrics.value("decisionflow_records_in_total", "stage", "enrich")).isEqualTo(1.0);
    assertThat(metrics.value("decisionflow_records_out_total", "stage", "enrich")).isEqualTo(1.0);
    assertThat(metrics.value("decisionflow_stage_latency_seconds_sum", "stage", "enrich"))
        .isCloseTo(0.003, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(
            metrics.value(
                "decisionflow_stage_latency_seconds_bucket", "stage", "enrich", "le", "0.0025"))
        .isEqualTo(0.0);
    assertThat(
            metrics.value(
                "decisionflow_stage_latency_seconds_bucket", "stage", "enrich", "le", "0.005"))
        .isEqualTo(1.0);
    assertThat(metrics.value("decisionflow_event_latency_seconds_sum", "stage", "enrich"))
        .isCloseTo(0.040, org.assertj.core.data.Offset.offset(1e-9));
  }

  @Test
  void anUnknownEventTimeRecordsNoEventLatencyAndAFutureOneRecordsZero() {
    enrich.emitted(enrich.received(), 0);
    assertThat(metrics.value("decisionflow_event_latency_seconds_count", "stage", "enrich"))
        .isEqualTo(0.0);

    enrich.emitted(enrich.received(), wallMs.get() + 5_000);
    assertThat(metrics.value("decisionflow_event_latency_seconds_count", "stage", "enrich"))
        .isEqualTo(1.0);
    assertThat(metrics.value("decisionflow_event_latency_seconds_sum", "stage", "enrich"))
        .isEqualTo(0.0);
  }

  @Test
  void deadLettersAreCountedByStageAndReason() {
    enrich.invalid("card_id");
    enrich.invalid("card_id");
    enrich.invalid("");
    enrich.gaveUp(new java.util.concurrent.TimeoutException("slow"));
    enrich.retried();

    assertThat(
            metrics.value(
                "decisionflow_dead_letters_total", "stage", "enrich", "reason", "invalid card_id"))
        .isEqualTo(2.0);
    assertThat(
            metrics.value(
                "decisionflow_dead_letters_total", "stage", "enrich", "reason", "invalid record"))
        .isEqualTo(1.0);
    assertThat(
            metrics.value(
                "decisionflow_dead_letters_total", "stage", "enrich", "reason", "TimeoutException"))
        .isEqualTo(1.0);
    assertThat(metrics.value("decisionflow_records_failed_total", "stage", "enrich"))
        .isEqualTo(4.0);
    assertThat(metrics.value("decisionflow_records_retried_total", "stage", "enrich"))
        .isEqualTo(1.0);
  }

  @Test
  void stagesOfOneInstanceShareTheFamiliesAndDifferByLabel() {
    StageMetrics decide = new StageMetrics(metrics, "decide", nanos::get, wallMs::get);
    enrich.received();
    decide.received();
    decide.received();

    assertThat(metrics.value("decisionflow_records_in_total", "stage", "enrich")).isEqualTo(1.0);
    assertThat(metrics.value("decisionflow_records_in_total", "stage", "decide")).isEqualTo(2.0);
  }

  @Test
  void suppliedGaugesAreReadAtEveryScrape() {
    AtomicLong cached = new AtomicLong(7);
    metrics.gauge("decisionflow_enrich_state_cards_cached", "cards", cached::get);
    assertThat(metrics.value("decisionflow_enrich_state_cards_cached")).isEqualTo(7.0);
    cached.set(9);
    assertThat(metrics.value("decisionflow_enrich_state_cards_cached")).isEqualTo(9.0);
  }
}
