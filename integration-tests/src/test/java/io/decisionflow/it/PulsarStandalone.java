package io.decisionflow.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;

/**
 * The one standalone Pulsar every integration test of a run shares. If a standalone already answers
 * on the default ports (e.g. a developer's), the tests use it; otherwise the harness starts one
 * through the same script people use ({@code pulsar-deploy/pulsar-local.sh}), as an instance of its
 * own ({@code it}) with its data wiped, and stops it when the test JVM exits. Tests keep apart by
 * unique tenants and names.
 */
final class PulsarStandalone {

  static final String ADMIN_URL = "http://127.0.0.1:8080";
  static final String SERVICE_URL = "pulsar://127.0.0.1:6650";

  private static PulsarStandalone instance;

  private final Path projectDir;
  private final PulsarAdmin admin;
  private final PulsarClient client;

  private PulsarStandalone(Path projectDir) throws PulsarClientException {
    this.projectDir = projectDir;
    this.admin = PulsarAdmin.builder().serviceHttpUrl(ADMIN_URL).build();
    this.client = PulsarClient.builder().serviceUrl(SERVICE_URL).build();
  }

  /** The shared standalone, started on first use. */
  static synchronized PulsarStandalone get() throws Exception {
    if (instance == null) {
      Path project = locateProject();
      boolean wasRunning = answers();
      if (wasRunning) {
        System.out.println("[it] using the standalone already running at " + ADMIN_URL);
      } else if (script(project, "start", "--clean") != 0) {
        throw new IllegalStateException("pulsar-deploy/pulsar-local.sh start failed (see above)");
      }
      instance = new PulsarStandalone(project);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    instance.close();
                    if (!wasRunning && System.getenv("DF_KEEP_PULSAR") == null) {
                      try {
                        script(project, "stop");
                      } catch (Exception e) {
                        System.err.println("stopping standalone failed: " + e.getMessage());
                      }
                    }
                  }));
    }
    return instance;
  }

  PulsarAdmin admin() {
    return admin;
  }

  PulsarClient client() {
    return client;
  }

  Path projectDir() {
    return projectDir;
  }

  /** The model the build trained. */
  Path model() {
    Path model = projectDir.resolve("models/target/models/fraud-v1");
    if (!Files.isDirectory(model)) {
      throw new IllegalStateException(model + " missing: the models module trains it at package");
    }
    return model;
  }

  private void close() {
    try {
      client.close();
    } catch (PulsarClientException e) {
      // closing at exit
    }
    admin.close();
  }

  static Path locateProject() {
    String dir = System.getProperty("decisionflow.projectDir", "..");
    return Path.of(dir).toAbsolutePath().normalize();
  }

  private static boolean answers() {
    return answers(ADMIN_URL);
  }

  /** Whether the broker at {@code adminUrl} answers its health check (without authentication). */
  static boolean answers(String adminUrl) {
    try {
      java.net.HttpURLConnection c =
          (java.net.HttpURLConnection)
              java.net.URI.create(adminUrl + "/admin/v2/brokers/health").toURL().openConnection();
      c.setConnectTimeout(2000);
      c.setReadTimeout(5000);
      return c.getResponseCode() == 200;
    } catch (IOException e) {
      return false;
    }
  }

  private static int script(Path project, String... args) throws IOException, InterruptedException {
    return LocalScripts.run(project, "pulsar-local.sh", Map.of("DF_PULSAR_INSTANCE", "it"), args);
  }
}
