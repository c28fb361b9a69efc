package io.decisionflow.tools;

import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.Pipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.api.Authentication;
import org.apache.pulsar.client.api.AuthenticationFactory;
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

  @Option(
      names = "--clusters",
      split = ",",
      paramLabel = "CLUSTER",
      defaultValue = "${env:DF_CLUSTERS}",
      description =
          "Clusters the unit's tenant is allowed on, instead of its file's allowedClusters; with"
              + " more than one, the unit's replicatedTopics replicate between them (e.g."
              + " us-east,eu-west for pulsar-deploy/regions-local.sh). Default: $DF_CLUSTERS, else"
              + " the file's.")
  List<String> clusters;

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      defaultValue = "${env:DF_TOKEN_FILE}",
      description =
          "File holding the token (JWT) to authenticate with, on a cluster with token"
              + " authentication (e.g. ~/.cache/decisionflow/auth/admin.token of pulsar-local.sh"
              + " with DF_PULSAR_AUTH=jwt). Default: $DF_TOKEN_FILE, else none.")
  Path tokenFile;

  @Option(
      names = "--secrets-by-name",
      defaultValue = "${env:DF_SECRETS_BY_NAME:-false}",
      description =
          "Hand the sinks the names of the environment variables their secrets come from"
              + " (secretsFromEnv), not the values: for a functions worker whose secrets provider"
              + " reads its own environment (pulsar-local.sh with DF_PULSAR_SECRETS=env). Default:"
              + " $DF_SECRETS_BY_NAME, else false.")
  boolean secretsByName;

  PulsarAdmin admin() throws PulsarClientException {
    var builder = PulsarAdmin.builder().serviceHttpUrl(adminUrl);
    Authentication auth = authentication();
    return (auth == null ? builder : builder.authentication(auth)).build();
  }

  PulsarClient client() throws PulsarClientException {
    var builder = PulsarClient.builder().serviceUrl(serviceUrl);
    Authentication auth = authentication();
    return (auth == null ? builder : builder.authentication(auth)).build();
  }

  /**
   * The token authentication of {@link #tokenFile}, read at each (re)connection, or null.
   *
   * @throws IllegalArgumentException if the file is not there
   */
  private Authentication authentication() throws PulsarClientException {
    if (tokenFile == null) {
      return null;
    }
    if (!Files.isRegularFile(tokenFile)) {
      throw new IllegalArgumentException(
          "--token-file " + tokenFile + " does not exist (or set DF_TOKEN_FILE to a token file)");
    }
    return AuthenticationFactory.create(
        "org.apache.pulsar.client.impl.auth.AuthenticationToken",
        "file://" + tokenFile.toAbsolutePath());
  }

  Path project() {
    return projectDir.toAbsolutePath().normalize();
  }

  Pipeline pipeline(PulsarAdmin admin, Consumer<String> log) {
    return new Pipeline(admin, project(), log);
  }

  BusinessUnit businessUnit(Pipeline pipeline) {
    BusinessUnit loaded = BusinessUnit.load(pipeline.businessUnitsDir(), unit);
    loaded.secretsByName = secretsByName;
    return clusters == null || clusters.isEmpty() ? loaded : loaded.onClusters(clusters);
  }

  /** The business unit's file, read without a cluster connection. */
  BusinessUnit businessUnit() {
    return businessUnit(new Pipeline(null, project(), line -> {}));
  }
}
