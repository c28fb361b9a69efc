package io.decisionflow.tools;

import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.Pipeline;
import io.decisionflow.deploy.Provisioner;
import java.util.concurrent.Callable;
import org.apache.pulsar.client.admin.PulsarAdmin;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** Creates or updates a business unit's tenant, namespaces, policies and topic schemas. */
@Command(
    name = "provision",
    mixinStandardHelpOptions = true,
    description =
        "Create or update a business unit's tenant, namespaces and policies (idempotent).")
final class ProvisionCommand implements Callable<Integer> {

  @Mixin ClusterOptions cluster;

  @Override
  public Integer call() throws Exception {
    try (PulsarAdmin admin = cluster.admin()) {
      Pipeline pipeline = cluster.pipeline(admin, System.out::println);
      BusinessUnit unit = cluster.businessUnit(pipeline);
      new Provisioner(admin, System.out::println).provision(unit, pipeline.modelSlots());
    }
    return 0;
  }
}
