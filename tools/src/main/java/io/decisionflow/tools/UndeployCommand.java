package io.decisionflow.tools;

import io.decisionflow.deploy.Pipeline;
import org.apache.pulsar.client.admin.PulsarAdmin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** Deletes a business unit's functions; its tenant, namespaces and data stay. */
@Command(
    name = "undeploy",
    mixinStandardHelpOptions = true,
    description = "Delete a business unit's functions (tenant, namespaces and data stay).")
final class UndeployCommand implements java.util.concurrent.Callable<Integer> {

  @Mixin ClusterOptions cluster;

  @Override
  public Integer call() throws Exception {
    try (PulsarAdmin admin = cluster.admin()) {
      Pipeline pipeline = cluster.pipeline(admin, System.out::println);
      pipeline.undeploy(cluster.businessUnit(pipeline));
    }
    return 0;
  }
}
