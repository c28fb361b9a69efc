package io.decisionflow.functions;

import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Map;
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
import javax.management.ObjectName;

/**
 * Numbers a function exposes as attributes of one MBean on the platform MBean server. A Pulsar
 * function instance exports every MBean of its JVM through its Prometheus endpoint (a JMX
 * collector), which the functions worker serves on its {@code /metrics}: an MBean named {@code
 * decisionflow:type=score,fqfn=t/ns/f,instance_id=0,slot=champion} with attribute {@code
 * breaker_state} appears as {@code decisionflow_score_breaker_state{fqfn="t/ns/f",
 * instance_id="0",slot="champion"}}.
 */
final class JmxGauges implements DynamicMBean, AutoCloseable {

  private final ObjectName name;
  private final Map<String, LongSupplier> gauges;
  private final MBeanInfo info;

  private JmxGauges(ObjectName name, Map<String, LongSupplier> gauges, String description) {
    this.name = name;
    this.gauges = Map.copyOf(gauges);
    MBeanAttributeInfo[] attributes =
        gauges.keySet().stream()
            .map(key -> new MBeanAttributeInfo(key, "long", key, true, false, false))
            .toArray(MBeanAttributeInfo[]::new);
    this.info = new MBeanInfo(JmxGauges.class.getName(), description, attributes, null, null, null);
  }

  /**
   * The labels of a function instance, in order: {@code fqfn} (tenant/namespace/name) and {@code
   * instance_id}; callers may add more.
   */
  static Map<String, String> instanceLabels(org.apache.pulsar.functions.api.Context context) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(
        "fqfn",
        context.getTenant() + "/" + context.getNamespace() + "/" + context.getFunctionName());
    labels.put("instance_id", String.valueOf(context.getInstanceId()));
    return labels;
  }

  /**
   * Registers the gauges under {@code decisionflow:type=<type>,<labels...>}, replacing an MBean of
   * the same name left by an earlier run of the function in this JVM.
   *
   * @param labels label names and values, in order
   */
  static JmxGauges register(
      String type,
      Map<String, String> labels,
      Map<String, LongSupplier> gauges,
      String description) {
    StringBuilder object = new StringBuilder("decisionflow:type=").append(quoteIfNeeded(type));
    labels.forEach(
        (key, value) -> object.append(',').append(key).append('=').append(quoteIfNeeded(value)));
    MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    try {
      ObjectName name = new ObjectName(object.toString());
      JmxGauges mbean = new JmxGauges(name, new LinkedHashMap<>(gauges), description);
      if (server.isRegistered(name)) {
        server.unregisterMBean(name);
      }
      server.registerMBean(mbean, name);
      return mbean;
    } catch (JMException e) {
      throw new IllegalStateException("cannot register metrics MBean " + object, e);
    }
  }

  private static String quoteIfNeeded(String value) {
    return value.matches("[A-Za-z0-9_./-]*") ? value : ObjectName.quote(value);
  }

  ObjectName name() {
    return name;
  }

  @Override
  public Object getAttribute(String attribute) throws AttributeNotFoundException {
    LongSupplier gauge = gauges.get(attribute);
    if (gauge == null) {
      throw new AttributeNotFoundException("no attribute " + attribute + " on " + name);
    }
    return gauge.getAsLong();
  }

  @Override
  public void setAttribute(Attribute attribute) throws AttributeNotFoundException {
    throw new AttributeNotFoundException("attributes of " + name + " are read-only");
  }

  @Override
  public AttributeList getAttributes(String[] attributes) {
    AttributeList list = new AttributeList();
    for (String attribute : attributes) {
      LongSupplier gauge = gauges.get(attribute);
      if (gauge != null) {
        list.add(new Attribute(attribute, gauge.getAsLong()));
      }
    }
    return list;
  }

  @Override
  public AttributeList setAttributes(AttributeList attributes) {
    return new AttributeList();
  }

  @Override
  public Object invoke(String actionName, Object[] params, String[] signature) {
    throw new UnsupportedOperationException("no operations on " + name);
  }

  @Override
  public MBeanInfo getMBeanInfo() {
    return info;
  }

  /** Unregisters the MBean. */
  @Override
  public void close() {
    try {
      ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
    } catch (InstanceNotFoundException e) {
      // already gone
    } catch (JMException e) {
      throw new IllegalStateException("cannot unregister " + name, e);
    }
  }
}
