package io.decisionflow.functions;

import io.decisionflow.metrics.InstanceMetrics;
import org.apache.pulsar.functions.api.Context;

/** The Prometheus metrics of a function instance, served on the instance's metrics endpoint. */
final class FunctionMetrics {

  private FunctionMetrics() {}

  /** Metrics labelled with the instance's {@code fqfn} and {@code instance_id}. */
  static InstanceMetrics open(Context context) {
    return InstanceMetrics.exported(
        context.getTenant(),
        context.getNamespace(),
        context.getFunctionName(),
        context.getInstanceId());
  }
}
