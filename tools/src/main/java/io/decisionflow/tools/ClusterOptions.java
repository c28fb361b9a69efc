package io.decisionflow.tools;

import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.Pipeline;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import picocli.CommandLine.Option;

/** Where the cluster is and which business unit to work on; shared by the commands. */
final class ClusterOptions {

  @Option(
      names = "--admin-url",
      defaultValue = "${env:PULSAR_ADMIN_URL:-http://127.0.0.1:8080}",
      description = "Pulsar admin (REST) URL (${DEFAULT-VALUE}).")
  String adminUrl;

  @Option(
      names = "--service-url",
      defaultValue = "${env:PULSAR_SERVICE_URL:-pulsar://127.0.0.1:6650}",
      description = "Pulsar broker URL (${DEFAULT-VALUE}).")
  String serviceUrl;

  @Option(
      names = "--project-dir",
      defaultValue = ".",
      description = "Repository root holding pulsar-deploy/ and the built jars (${DEFAULT-VALUE}).")
  Path projectDir;

  @Option(
      names = {"-u", "--unit"},
      defaultValue = "payments",
      description = "Business unit: pulsar-deploy/business-units/<unit>.yaml (${DEFAULT-VALUE}).")
  String unit;

  PulsarAdmin admin() throws PulsarClientException {
    return PulsarAdmin.builder().serviceHttpUrl(adminUrl).build();
  }

  PulsarClient client() throws PulsarClientException {
    return PulsarClient.builder().serviceUrl(serviceUrl).build();
  }

  Path project() {
    return projectDir.toAbsolutePath().normalize();
  }

  Pipeline pipeline(PulsarAdmin admin, Consumer<String> log) {
    return new Pipeline(admin, project(), log);
  }

  BusinessUnit businessUnit(Pipeline pipeline) {
    return BusinessUnit.load(pipeline.businessUnitsDir(), unit);
  }

  /** The business unit's file, read without a cluster connection. */
  BusinessUnit businessUnit() {
    return businessUnit(new Pipeline(null, project(), line -> {}));
  }
}
