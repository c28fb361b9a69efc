package io.decisionflow.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Counter;
import io.prometheus.client.Gauge;
import io.prometheus.client.Histogram;
import io.prometheus.jmx.JmxCollector;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Reads the exported series back through the JMX collector a Pulsar function instance serves its
 * metrics with (the same version), as the instance's endpoint would show them.
 */
class JmxExportTest {

  private final AtomicLong nanos = new AtomicLong();
  private final CollectorRegistry ours = new CollectorRegistry(true);
  private String fqfn;
  private JmxExport export;
  private CollectorRegistry instance;

  @BeforeEach
  void setUp() throws Exception {
    fqfn = "t/ns/f-" + UUID.randomUUID();
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("fqfn", fqfn);
    labels.put("instance_id", "0");
    export = new JmxExport(ours, labels, nanos::get);
    instance = new CollectorRegistry(true);
    new JmxCollector("{}").register(instance);
  }

  @AfterEach
  void tearDown() {
    export.close();
  }

  private Double scraped(String name, String... labels) {
    String[] names = new String[2 + labels.length / 2];
    String[] values = new String[names.length];
    names[0] = "fqfn";
    values[0] = fqfn;
    names[1] = "instance_id";
    values[1] = "0";
    for (int i = 0; i < labels.length / 2; i++) {
      names[2 + i] = labels[2 * i];
      values[2 + i] = labels[2 * i + 1];
    }
    return instance.getSampleValue(name, names, values);
  }

  private void later() {
    nanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(JmxExport.MAX_SNAPSHOT_AGE_MS + 1));
  }

  @Test
  void countersAndGaugesComeOutWithTheirNamesAndTheInstanceLabels() {
    Counter in =
        Counter.build()
            .name("decisionflow_records_in_total")
            .help("in")
            .labelNames("stage")
            .register(ours);
    in.labels("enrich").inc(3);
    Gauge.build().name("decisionflow_score_breaker_state").help("b").register(ours).set(2);

    export.refresh();

    assertThat(scraped("decisionflow_records_in_total", "stage", "enrich")).isEqualTo(3.0);
    assertThat(scraped("decisionflow_score_breaker_state")).isEqualTo(2.0);
  }

  @Test
  void histogramsComeOutAsBucketsSumAndCount() {
    Histogram latency =
        Histogram.build()
            .name("decisionflow_stage_latency_seconds")
            .help("latency")
            .buckets(0.005, 0.1)
            .labelNames("stage")
            .register(ours);
    latency.labels("route").observe(0.004);
    latency.labels("route").observe(0.05);

    export.refresh();

    String name = "decisionflow_stage_latency_seconds";
    assertThat(scraped(name + "_bucket", "stage", "route", "le", "0.005")).isEqualTo(1.0);
    assertThat(scraped(name + "_bucket", "stage", "route", "le", "0.1")).isEqualTo(2.0);
    assertThat(scraped(name + "_bucket", "stage", "route", "le", "+Inf")).isEqualTo(2.0);
    assertThat(scraped(name + "_count", "stage", "route")).isEqualTo(2.0);
    assertThat(scraped(name + "_sum", "stage", "route")).isCloseTo(0.054, within());
    assertThat(scraped(name + "_created", "stage", "route")).isNull();
  }

  @Test
  void valuesAreReadLiveAndNewSeriesAppearAtTheNextRefresh() {
    Counter out =
        Counter.build()
            .name("decisionflow_records_out_total")
            .help("out")
            .labelNames("stage")
            .register(ours);
    out.labels("decide").inc();
    export.refresh();
    assertThat(scraped("decisionflow_records_out_total", "stage", "decide")).isEqualTo(1.0);

    out.labels("decide").inc(4);
    out.labels("enrich").inc();
    // Within the snapshot's age a scrape reads the same snapshot
    assertThat(scraped("decisionflow_records_out_total", "stage", "decide")).isEqualTo(1.0);
    later();
    assertThat(scraped("decisionflow_records_out_total", "stage", "decide")).isEqualTo(5.0);
    assertThat(scraped("decisionflow_records_out_total", "stage", "enrich")).isNull();

    export.refresh();
    assertThat(scraped("decisionflow_records_out_total", "stage", "enrich")).isEqualTo(1.0);
  }

  @Test
  void aScrapeRightAfterARefreshReadsTheValuesOfItsOwnMoment() {
    Gauge breaker = Gauge.build().name("decisionflow_score_breaker_state").help("b").register(ours);
    export.refresh();
    breaker.set(2);

    // The refresh's own read of the registry is not served to the scrape that follows it
    assertThat(scraped("decisionflow_score_breaker_state")).isEqualTo(2.0);
  }

  @Test
  void seriesThatAreGoneAreUnregisteredAndCloseUnregistersAll() {
    Counter retried =
        Counter.build()
            .name("decisionflow_records_retried_total")
            .help("r")
            .labelNames("stage")
            .register(ours);
    retried.labels("score").inc();
    retried.labels("route").inc();
    assertThat(export.refresh()).isEqualTo(2);

    retried.remove("score");
    assertThat(export.refresh()).isEqualTo(1);
    assertThat(scraped("decisionflow_records_retried_total", "stage", "score")).isNull();
    assertThat(scraped("decisionflow_records_retried_total", "stage", "route")).isEqualTo(1.0);

    export.close();
    assertThat(export.names()).isEmpty();
    assertThat(scraped("decisionflow_records_retried_total", "stage", "route")).isNull();
  }

  @Test
  void labelValuesAnMBeanNameCannotHoldAreReplaced() {
    Counter dead =
        Counter.build()
            .name("decisionflow_dead_letters_total")
            .help("d")
            .labelNames("stage", "reason")
            .register(ours);
    dead.labels("enrich", "invalid card_id, \"x\"=y:*?").inc();
    dead.labels("enrich", "").inc(2);

    export.refresh();

    assertThat(
            scraped(
                "decisionflow_dead_letters_total",
                "stage",
                "enrich",
                "reason",
                "invalid card_id_ _x__y___"))
        .isEqualTo(1.0);
    assertThat(scraped("decisionflow_dead_letters_total", "stage", "enrich", "reason", "none"))
        .isEqualTo(2.0);
  }

  @Test
  void aNameThatCannotBeExportedIsRefusedWithTheName() {
    assertThatThrownBy(() -> export.seriesName("decisionflow_records", List.of(), List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("metric decisionflow_records cannot be exported")
        .hasMessageContaining("decisionflow_<name>_<suffix>");
    assertThatThrownBy(() -> export.seriesName("records_in_total", List.of(), List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("records_in_total");

    Counter.build().name("other_things_total").help("o").register(ours);
    assertThatThrownBy(export::refresh).hasMessageContaining("other_things_total");
  }

  private static org.assertj.core.data.Offset<Double> within() {
    return org.assertj.core.data.Offset.offset(1e-9);
  }
}
