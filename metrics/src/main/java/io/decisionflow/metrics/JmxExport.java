package io.decisionflow.metrics;

import io.prometheus.client.Collector;
import io.prometheus.client.CollectorRegistry;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

/**
 * Exports the series of a Prometheus {@link CollectorRegistry} as MBeans of the platform MBean
 * server, which is how metrics leave a Pulsar function instance: the instance serves its own
 * Prometheus endpoint (its metrics port) from a registry of its own, and that registry includes a
 * JMX collector over every MBean of the JVM; the functions worker's {@code /metrics} serves every
 * instance's endpoint. A function's classes cannot reach the instance's registry (they are loaded
 * apart from it), so they register their metrics in a registry of their own and this class mirrors
 * it into MBeans that the JMX collector turns back into the same series.
 *
 * <p>The JMX collector names a series {@code <domain>_<first key property's value>_<attribute>} and
 * turns the other key properties into labels, in order. So a sample {@code
 * decisionflow_stage_latency_seconds_bucket{stage="enrich",le="0.005"}} becomes the MBean {@code
 * decisionflow:metric=stage_latency_seconds,fqfn=...,instance_id=0,stage=enrich,le=0.005} with the
 * attribute {@code bucket}, and comes out with its name and labels intact (plus the constant labels
 * given here). Every sample name must therefore read {@code decisionflow_<name>_<suffix>}. The
 * exported series are {@code untyped}: Prometheus's {@code rate} and {@code histogram_quantile}
 * work on them as on typed ones.
 *
 * <p>MBeans for new series (a label value seen for the first time) are registered by a refresh
 * every {@code refreshEvery}; values are read live: the first attribute a scrape reads takes a
 * snapshot of the registry that the rest of that scrape (any read within {@value
 * #MAX_SNAPSHOT_AGE_MS} ms) reuses, so that one scrape reads the registry once.
 */
public final class JmxExport implements AutoCloseable {

  /** The domain of the MBeans, and the prefix every exported sample name has. */
  public static final String DOMAIN = "decisionflow";

  static final long MAX_SNAPSHOT_AGE_MS = 500;

  private static final System.Logger LOG = System.getLogger(JmxExport.class.getName());
  private static final String PREFIX = DOMAIN + "_";

  private final CollectorRegistry registry;
  private final Map<String, String> constantLabels;
  private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();
  private final LongSupplier nanoTime;
  private final Map<ObjectName, SeriesBean> beans = new HashMap<>();
  private final Object snapshotLock = new Object();
  private volatile Snapshot snapshot; // null until the first scrape
  private ScheduledExecutorService refresher;

  JmxExport(CollectorRegistry registry, Map<String, String> constantLabels, LongSupplier nanoTime) {
    this.registry = registry;
    // In the caller's order: the label order of every series.
    this.constantLabels = Collections.unmodifiableMap(new LinkedHashMap<>(constantLabels));
    this.nanoTime = nanoTime;
  }

  /**
   * Exports {@code registry} now and then every {@code refreshEvery}, each series with {@code
   * constantLabels} (in their order) before its own labels.
   *
   * @throws IllegalArgumentException if a sample name does not read {@code
   *     decisionflow_<name>_<suffix>}, or a label value cannot be part of an MBean name
   */
  public static JmxExport start(
      CollectorRegistry registry, Map<String, String> constantLabels, Duration refreshEvery) {
    JmxExport export = new JmxExport(registry, constantLabels, System::nanoTime);
    export.refresh();
    export.refresher =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "decisionflow-metrics-export");
              thread.setDaemon(true);
              return thread;
            });
    long every = Math.max(1, refreshEvery.toMillis());
    export.refresher.scheduleWithFixedDelay(
        export::refreshQuietly, every, every, TimeUnit.MILLISECONDS);
    return export;
  }

  /** The constant labels of every exported series. */
  public Map<String, String> constantLabels() {
    return constantLabels;
  }

  /**
   * Registers an MBean for every series that has none yet and unregisters those of series that are
   * gone.
   *
   * @return the number of MBeans registered now
   */
  public synchronized int refresh() {
    Snapshot current = collect();
    for (Map.Entry<ObjectName, Map<String, Double>> series : current.values().entrySet()) {
      SeriesBean bean = beans.get(series.getKey());
      Set<String> attributes = series.getValue().keySet();
      if (bean == null || !bean.attributes.equals(attributes)) {
        register(new SeriesBean(series.getKey(), Set.copyOf(attributes)));
      }
    }
    for (ObjectName gone : List.copyOf(beans.keySet())) {
      if (!current.values().containsKey(gone)) {
        unregister(gone);
      }
    }
    return beans.size();
  }

  private void refreshQuietly() {
    try {
      refresh();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot export metrics through JMX: " + e, e);
    }
  }

  /** The MBeans registered now, by name. */
  synchronized Set<ObjectName> names() {
    return Set.copyOf(beans.keySet());
  }

  private void register(SeriesBean bean) {
    try {
      if (server.isRegistered(bean.name)) {
        server.unregisterMBean(bean.name);
      }
      server.registerMBean(bean, bean.name);
      beans.put(bean.name, bean);
    } catch (JMException e) {
      throw new IllegalStateException("cannot register the metrics MBean " + bean.name, e);
    }
  }

  private void unregister(ObjectName name) {
    beans.remove(name);
    try {
      server.unregisterMBean(name);
    } catch (InstanceNotFoundException e) {
      // already gone
    } catch (JMException e) {
      throw new IllegalStateException("cannot unregister the metrics MBean " + name, e);
    }
  }

  /**
   * Reads the registry, or reuses the snapshot an earlier read took less than {@value
   * #MAX_SNAPSHOT_AGE_MS} ms ago (the same scrape). A {@link #refresh} does not count: its snapshot
   * only finds the series, so a scrape right after it still reads the values of that moment.
   */
  private Snapshot recent() {
    Snapshot current = snapshot;
    long now = nanoTime.getAsLong();
    if (isRecent(current, now)) {
      return current;
    }
    synchronized (snapshotLock) {
      current = snapshot;
      if (isRecent(current, now)) {
        return current;
      }
      current = collect();
      snapshot = current;
      return current;
    }
  }

  private static boolean isRecent(Snapshot snapshot, long nowNanos) {
    return snapshot != null
        && nowNanos - snapshot.takenNanos() <= TimeUnit.MILLISECONDS.toNanos(MAX_SNAPSHOT_AGE_MS);
  }

  private Snapshot collect() {
    Map<ObjectName, Map<String, Double>> values = new LinkedHashMap<>();
    for (Collector.MetricFamilySamples family : Collections.list(registry.metricFamilySamples())) {
      for (Collector.MetricFamilySamples.Sample sample : family.samples) {
        if (sample.name.endsWith("_created")) {
          continue; // creation timestamps of counters and histograms: not worth a series each
        }
        SeriesName series = seriesName(sample.name, sample.labelNames, sample.labelValues);
        values
            .computeIfAbsent(series.object(), n -> new LinkedHashMap<>())
            .put(series.attribute(), sample.value);
      }
    }
    return new Snapshot(values, nanoTime.getAsLong());
  }

  /** The MBean name and attribute of one sample. */
  SeriesName seriesName(String sampleName, List<String> labelNames, List<String> labelValues) {
    int suffix = sampleName.lastIndexOf('_');
    if (!sampleName.startsWith(PREFIX) || suffix <= PREFIX.length()) {
      throw new IllegalArgumentException(
          "metric "
              + sampleName
              + " cannot be exported: its name must read "
              + PREFIX
              + "<name>_<suffix>, e.g. decisionflow_records_in_total");
    }
    StringBuilder name =
        new StringBuilder(DOMAIN).append(":metric=").append(sampleName, PREFIX.length(), suffix);
    constantLabels.forEach((label, value) -> appendProperty(name, label, value));
    for (int i = 0; i < labelNames.size(); i++) {
      appendProperty(name, labelNames.get(i), labelValues.get(i));
    }
    try {
      return new SeriesName(new ObjectName(name.toString()), sampleName.substring(suffix + 1));
    } catch (MalformedObjectNameException e) {
      throw new IllegalArgumentException(
          "metric "
              + sampleName
              + " cannot be exported as the MBean "
              + name
              + ": "
              + e.getMessage(),
          e);
    }
  }

  private static void appendProperty(StringBuilder name, String label, String value) {
    name.append(',').append(label).append('=').append(mbeanValue(value));
  }

  /**
   * A label value as an unquoted MBean key property value: the characters an MBean name reserves
   * become {@code _}, and an empty value (which an MBean name cannot hold) becomes {@code none}.
   */
  static String mbeanValue(String value) {
    if (value == null || value.isEmpty()) {
      return "none";
    }
    StringBuilder safe = new StringBuilder(value.length());
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      safe.append(",=:\"*?\n\\".indexOf(c) >= 0 ? '_' : c);
    }
    return safe.toString();
  }

  /** Stops refreshing and unregisters every MBean. */
  @Override
  public synchronized void close() {
    if (refresher != null) {
      refresher.shutdownNow();
    }
    for (ObjectName name : List.copyOf(beans.keySet())) {
      unregister(name);
    }
  }

  record SeriesName(ObjectName object, String attribute) {}

  private record Snapshot(Map<ObjectName, Map<String, Double>> values, long takenNanos) {}

  /** One series (one set of label values), with an attribute per sample suffix. */
  private final class SeriesBean implements DynamicMBean {

    private final ObjectName name;
    private final Set<String> attributes;
    private final MBeanInfo info;

    SeriesBean(ObjectName name, Set<String> attributes) {
      this.name = name;
      this.attributes = attributes;
      MBeanAttributeInfo[] infos =
          attributes.stream()
              .sorted()
              .map(
                  a ->
                      new MBeanAttributeInfo(
                          a, Double.class.getName(), "decisionflow metric", true, false, false))
              .toArray(MBeanAttributeInfo[]::new);
      this.info =
          new MBeanInfo(
              SeriesBean.class.getName(), "a decisionflow metric series", infos, null, null, null);
    }

    @Override
    public Object getAttribute(String attribute) throws AttributeNotFoundException {
      Map<String, Double> values = recent().values().get(name);
      Double value = values == null ? null : values.get(attribute);
      if (value == null) {
        throw new AttributeNotFoundException("no attribute " + attribute + " on " + name + " now");
      }
      return value;
    }

    @Override
    public AttributeList getAttributes(String[] names) {
      Map<String, Double> values = recent().values().get(name);
      AttributeList list = new AttributeList();
      if (values != null) {
        for (String attribute : names) {
          Double value = values.get(attribute);
          if (value != null) {
            list.add(new Attribute(attribute, value));
          }
        }
      }
      return list;
    }

    @Override
    public void setAttribute(Attribute attribute) throws AttributeNotFoundException {
      throw new AttributeNotFoundException("attributes of " + name + " are read-only");
    }

    @Override
    public AttributeList setAttributes(AttributeList list) {
      return new AttributeList();
    }

    @Override
    public Object invoke(String action, Object[] params, String[] signature) {
      throw new UnsupportedOperationException("no operations on " + name);
    }

    @Override
    public MBeanInfo getMBeanInfo() {
      return info;
    }
  }
}
