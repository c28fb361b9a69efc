package io.decisionflow.it;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;

/**
 * The two local regions, {@code us-east} and {@code eu-west}: geo-replicated standalones of their
 * own (ports 8081/6651 and 8082/6652), started once per run through the script people use ({@code
 * pulsar-deploy/regions-local.sh}) with their data wiped, and stopped when the test JVM exits. If
 * both already answer, the tests use them. Tests keep apart by unique tenants, as on the shared
 * standalone. A test may stop and restart a region (the failover drill).
 */
final class Regions {

  /** One region: a cluster of its own. */
  record Region(String name, String adminUrl, String serviceUrl, PulsarAdmin admin) {

    /** A new client of this region (the caller closes it). */
    PulsarClient newClient() throws PulsarClientException {
      return PulsarClient.builder()
          .serviceUrl(serviceUrl)
          // Reconnect soon after a region comes back (the default backoff grows to 60 s).
          .maxBackoffInterval(2, TimeUnit.SECONDS)
          .build();
    }

    boolean answers() {
      return PulsarStandalone.answers(adminUrl);
    }
  }

  static final String US_EAST = "us-east";
  static final String EU_WEST = "eu-west";

  private static Regions instance;

  private final Path projectDir;
  private final Map<String, Region> regions = new LinkedHashMap<>();

  private Regions(Path projectDir) throws PulsarClientException {
    this.projectDir = projectDir;
    add(US_EAST, 8081, 6651);
    add(EU_WEST, 8082, 6652);
  }

  private void add(String name, int webPort, int brokerPort) throws PulsarClientException {
    String adminUrl = "http://127.0.0.1:" + webPort;
    regions.put(
        name,
        new Region(
            name,
            adminUrl,
            "pulsar://127.0.0.1:" + brokerPort,
            PulsarAdmin.builder().serviceHttpUrl(adminUrl).build()));
  }

  /** Both regions, started and registered with each other on first use. */
  static synchronized Regions get() throws Exception {
    if (instance == null) {
      Path project = PulsarStandalone.locateProject();
      Regions regions = new Regions(project);
      boolean wereRunning = regions.regions.values().stream().allMatch(Region::answers);
      if (wereRunning) {
        System.out.println("[it] using the regions already running");
        regions.script("start"); // registers them with each other, idempotently
      } else {
        regions.script("start", "--clean");
      }
      instance = regions;
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    regions.regions.values().forEach(r -> r.admin().close());
                    if (!wereRunning && System.getenv("DF_KEEP_PULSAR") == null) {
                      try {
                        regions.script("stop");
                      } catch (Exception e) {
                        System.err.println("stopping the regions failed: " + e.getMessage());
                      }
                    }
                  }));
    }
    return instance;
  }

  Region region(String name) {
    Region region = regions.get(name);
    if (region == null) {
      throw new IllegalArgumentException("no region " + name + " (known: " + regions.keySet());
    }
    return region;
  }

  List<String> names() {
    return List.copyOf(regions.keySet());
  }

  Path projectDir() {
    return projectDir;
  }

  /** Stops one region's standalone and its function instances (its data stays). */
  void stop(String name) throws Exception {
    script("stop", region(name).name());
  }

  /** Starts one region again on its data and registers the regions with each other. */
  void start(String name) throws Exception {
    script("start", region(name).name());
  }

  private void script(String... args) throws IOException, InterruptedException {
    // A region restarting on its data also restarts its pipeline's function JVMs while its broker
    // starts: on two busy cores that has taken up to ~2 min, so allow more than the default 240 s.
    Map<String, String> env = Map.of("DF_PULSAR_START_TIMEOUT", "600");
    if (LocalScripts.run(projectDir, "regions-local.sh", env, args) != 0) {
      throw new IllegalStateException(
          "regions-local.sh " + String.join(" ", args) + " failed (see above)");
    }
  }
}
