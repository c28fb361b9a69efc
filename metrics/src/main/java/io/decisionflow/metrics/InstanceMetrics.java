package io.decisionflow.metrics;

import io.prometheus.client.Collector;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Counter;
import io.prometheus.client.Gauge;
import io.prometheus.client.Histogram;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.DoubleSupplier;

/**
 * The Prometheus metrics of one function or sink instance: a registry of its own, exported through
 * the instance's metrics endpoint by a {@link JmxExport} with the instance's labels ({@code fqfn}
 * and {@code instance_id}, as Pulsar's own function metrics have).
 *
 * <p>A metric asked for twice by name is registered once: the stages of one instance share their
 * families and differ by label.
 */
public final class InstanceMetrics implements AutoCloseable {

  /** Buckets of the latency histograms, in seconds: 0.5 ms to 30 s. */
  public static final double[] LATENCY_BUCKETS = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
  };

  /**
   * How often MBeans are registered for new series: a label value seen for the first time appears
   * within this. Gauges and the series of a {@link StageMetrics} are exported as soon as they are
   * made.
   */
  public static final Duration EXPORT_REFRESH = Duration.ofSeconds(2);

  private final CollectorRegistry registry = new CollectorRegistry(true);
  private final Map<String, Collector> collectors = new ConcurrentHashMap<>();
  private JmxExport export;

  private InstanceMetrics() {}

  /**
   * Metrics exported with the labels {@code fqfn="<tenant>/<namespace>/<name>"} and {@code
   * instance_id}.
   */
  public static InstanceMetrics exported(
      String tenant, String namespace, String name, int instanceId) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("fqfn", tenant + "/" + namespace + "/" + name);
    labels.put("instance_id", String.valueOf(instanceId));
    InstanceMetrics metrics = new InstanceMetrics();
    metrics.export = JmxExport.start(metrics.registry, labels, EXPORT_REFRESH);
    return metrics;
  }

  /** Metrics kept in this process only, for tests and tools. */
  public static InstanceMetrics unexported() {
    return new InstanceMetrics();
  }

  /** The registry every metric of the instance is in. */
  public CollectorRegistry registry() {
    return registry;
  }

  /** A counter; {@code name} ends in {@code _total}. */
  public Counter counter(String name, String help, String... labelNames) {
    return (Counter)
        collectors.computeIfAbsent(
            name,
            n -> Counter.build().name(n).help(help).labelNames(labelNames).register(registry));
  }

  /** A histogram of durations in seconds, with {@link #LATENCY_BUCKETS}. */
  public Histogram latency(String name, String help, String... labelNames) {
    return histogram(name, help, LATENCY_BUCKETS, labelNames);
  }

  /** A histogram with the given bucket bounds. */
  public Histogram histogram(String name, String help, double[] buckets, String... labelNames) {
    return (Histogram)
        collectors.computeIfAbsent(
            name,
            n ->
                Histogram.build()
                    .name(n)
                    .help(help)
                    .buckets(buckets)
                    .labelNames(labelNames)
                    .register(registry));
  }

  /**
   * A gauge whose value is read from {@code value} at every scrape, for the label values {@code
   * labelValues} of {@code labelNames}; several calls with the same name add series to one gauge.
   */
  public void gauge(
      String name,
      String help,
      List<String> labelNames,
      List<String> labelValues,
      DoubleSupplier value) {
    Gauge gauge =
        (Gauge)
            collectors.computeIfAbsent(
                name,
                n ->
                    Gauge.build()
                        .name(n)
                        .help(help)
                        .labelNames(labelNames.toArray(String[]::new))
                        .register(registry));
    gauge.setChild(
        new Gauge.Child() {
          @Override
          public double get() {
            return value.getAsDouble();
          }
        },
        labelValues.toArray(String[]::new));
    refreshExport(); // served from the next scrape on, not only after the next refresh
  }

  /** A gauge without labels whose value is read from {@code value} at every scrape. */
  public void gauge(String name, String help, DoubleSupplier value) {
    gauge(name, help, List.of(), List.of(), value);
  }

  /**
   * The current value of a sample, e.g. {@code value("decisionflow_records_in_total", "stage",
   * "enrich")}, or null if there is none.
   */
  public Double value(String sampleName, String... labelNamesAndValues) {
    if (labelNamesAndValues.length % 2 != 0) {
      throw new IllegalArgumentException(
          "labels come in name/value pairs: " + Arrays.toString(labelNamesAndValues));
    }
    String[] names = new String[labelNamesAndValues.length / 2];
    String[] values = new String[names.length];
    for (int i = 0; i < names.length; i++) {
      names[i] = labelNamesAndValues[2 * i];
      values[i] = labelNamesAndValues[2 * i + 1];
    }
    return registry.getSampleValue(sampleName, names, values);
  }

  /** Exports the series that appeared since the last refresh now. */
  public void refreshExport() {
    if (export != null) {
      export.refresh();
    }
  }

  /** Unregisters the instance's MBeans. */
  @Override
  public void close() {
    if (export != null) {
      export.close();
    }
  }
}
