package io.decisionflow.it;

import java.nio.file.Path;
import java.util.Map;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.api.AuthenticationFactory;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;

/**
 * A standalone with token authentication and authorization on ({@code DF_PULSAR_AUTH=jwt}), for the
 * tests of business-unit isolation: instance {@code it-auth} of {@code
 * pulsar-deploy/pulsar-local.sh} on ports 8083/6653 (its own ZooKeeper, bookie and table-service
 * ports), started once per run with its data wiped and stopped when the test JVM exits. Tokens come
 * from the script ({@code pulsar-local.sh token ROLE}), signed with the local key.
 */
final class AuthStandalone {

  static final String ADMIN_URL = "http://127.0.0.1:8083";
  static final String SERVICE_URL = "pulsar://127.0.0.1:6653";

  /** The environment variables of the worker that hold the shared PostgreSQL's credentials. */
  static final String POSTGRES_USER_VARIABLE = "DF_IT_POSTGRES_USER";

  static final String POSTGRES_PASSWORD_VARIABLE = "DF_IT_POSTGRES_PASSWORD";

  private static final Map<String, String> ENV =
      Map.of(
          "DF_PULSAR_INSTANCE", "it-auth",
          "DF_PULSAR_AUTH", "jwt",
          "DF_PULSAR_SECRETS", "env",
          "DF_PULSAR_WEB_PORT", "8083",
          "DF_PULSAR_BROKER_PORT", "6653",
          "DF_PULSAR_ZK_PORT", "2184",
          "DF_PULSAR_BK_PORT", "3184",
          "DF_PULSAR_STREAM_PORT", "4184");

  private static AuthStandalone instance;

  private final Path projectDir;
  private final String adminToken;

  private AuthStandalone(Path projectDir, String adminToken) {
    this.projectDir = projectDir;
    this.adminToken = adminToken;
  }

  /** The auth standalone, started on first use. */
  static synchronized AuthStandalone get() throws Exception {
    if (instance == null) {
      Path project = PulsarStandalone.locateProject();
      // Secrets come from the worker's environment (DF_PULSAR_SECRETS=env): the shared
      // PostgreSQL's credentials go there, so the standalone starts afresh for this run.
      PostgresServer postgres = PostgresServer.get();
      Map<String, String> env = new java.util.HashMap<>(ENV);
      env.put(POSTGRES_USER_VARIABLE, io.decisionflow.deploy.LocalPostgres.USER);
      env.put(POSTGRES_PASSWORD_VARIABLE, postgres.server().password());
      LocalScripts.run(project, "pulsar-local.sh", ENV, "stop");
      if (LocalScripts.run(project, "pulsar-local.sh", env, "start", "--clean") != 0) {
        throw new IllegalStateException("pulsar-local.sh start (DF_PULSAR_AUTH=jwt) failed");
      }
      instance = new AuthStandalone(project, token(project, "admin"));
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    if (System.getenv("DF_KEEP_PULSAR") == null) {
                      try {
                        LocalScripts.run(project, "pulsar-local.sh", ENV, "stop");
                      } catch (Exception e) {
                        System.err.println("stopping the auth standalone failed: " + e);
                      }
                    }
                  }));
    }
    return instance;
  }

  Path projectDir() {
    return projectDir;
  }

  /** A token for {@code role}, signed with the local key. */
  String token(String role) throws Exception {
    return token(projectDir, role);
  }

  private static String token(Path project, String role) throws Exception {
    return LocalScripts.output(project, "pulsar-local.sh", ENV, "token", role).trim();
  }

  /** An admin client with the superuser token (the caller closes it). */
  PulsarAdmin admin() throws PulsarClientException {
    return admin(adminToken);
  }

  /** An admin client with {@code token} (the caller closes it). */
  PulsarAdmin admin(String token) throws PulsarClientException {
    return PulsarAdmin.builder()
        .serviceHttpUrl(ADMIN_URL)
        .authentication(AuthenticationFactory.token(token))
        .build();
  }

  /** A client with {@code token}, or without authentication if null (the caller closes it). */
  PulsarClient client(String token) throws PulsarClientException {
    var builder =
        PulsarClient.builder()
            .serviceUrl(SERVICE_URL)
            .operationTimeout(10, java.util.concurrent.TimeUnit.SECONDS);
    return (token == null ? builder : builder.authentication(AuthenticationFactory.token(token)))
        .build();
  }
}
