package io.decisionflow.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;

/**
 * The one standalone Pulsar every integration test of a run shares. Started once, through the same
 * script people use ({@code pulsar-deploy/pulsar-local.sh}), which reuses a standalone that is
 * already running; stopped when the test JVM exits if this run started it. Tests keep apart by
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
      boolean wasRunning = script(project, "status", false) == 0;
      if (script(project, "start", true) != 0) {
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
                        script(project, "stop", true);
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

  private static Path locateProject() {
    String dir = System.getProperty("decisionflow.projectDir", "..");
    return Path.of(dir).toAbsolutePath().normalize();
  }

  private static int script(Path project, String command, boolean show)
      throws IOException, InterruptedException {
    ProcessBuilder pb =
        new ProcessBuilder(
                "bash", project.resolve("pulsar-deploy/pulsar-local.sh").toString(), command)
            .directory(project.toFile())
            .redirectErrorStream(true);
    if (show) {
      pb.inheritIO();
    } else {
      pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    }
    Process process = pb.start();
    if (!process.waitFor(10, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new IllegalStateException("pulsar-local.sh " + command + " did not finish in 10 min");
    }
    return process.exitValue();
  }
}
