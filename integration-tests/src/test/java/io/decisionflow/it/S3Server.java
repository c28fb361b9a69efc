package io.decisionflow.it;

import io.decisionflow.stages.score.store.ObjectStoreSettings;
import io.decisionflow.stages.score.store.S3Clients;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The one local S3-compatible server (S3Proxy on the filesystem) the integration tests of a run
 * share: started on first use as a JVM of its own, on a free port, with its own folder under {@code
 * target/s3proxy/}, and stopped when the test JVM exits. The jar comes through Maven (the
 * integration-tests pom copies {@code org.gaul:s3proxy} to {@code target/s3proxy/s3proxy.jar}).
 * Tests keep apart by unique bucket names.
 */
final class S3Server {

  /**
   * The development credentials of {@code pulsar-deploy/s3-local.sh}, which {@code pulsar-local.sh}
   * also gives the standalone for tiered storage (its offloader reads them only from its
   * environment).
   */
  static final String ACCESS_KEY = "decisionflow";

  static final String SECRET_KEY = "decisionflow-local-secret";

  private static final long START_TIMEOUT_MS = 60_000;

  private static S3Server instance;

  private final String endpoint;
  private final S3Client client;

  private S3Server(String endpoint) {
    this.endpoint = endpoint;
    this.client = S3Clients.create(settings());
  }

  /** The shared server, started on first use. */
  static synchronized S3Server get() throws Exception {
    if (instance == null) {
      Path jar = Path.of(property("decisionflow.s3proxyJar"));
      if (!Files.isRegularFile(jar)) {
        throw new IllegalStateException(
            jar + " missing: the integration-tests pom copies it at pre-integration-test");
      }
      int port = freePort();
      Path dir = Path.of(property("decisionflow.s3proxyDir")).resolve("run-" + port);
      Path data = Files.createDirectories(dir.resolve("data"));
      String endpoint = "http://127.0.0.1:" + port;
      Path properties = dir.resolve("s3proxy.properties");
      Files.write(
          properties,
          List.of(
              "s3proxy.endpoint=" + endpoint,
              "s3proxy.authorization=aws-v2-or-v4",
              "s3proxy.identity=" + ACCESS_KEY,
              "s3proxy.credential=" + SECRET_KEY,
              "jclouds.provider=filesystem",
              "jclouds.filesystem.basedir=" + data));
      Path log = dir.resolve("s3proxy.out");
      Process process =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-Xmx256m",
                  "-jar",
                  jar.toString(),
                  "--properties",
                  properties.toString())
              .directory(dir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    if (instance != null) {
                      instance.client.close();
                    }
                    stop(process);
                  }));
      awaitAnswer(process, endpoint, log);
      System.out.println("[it] S3Proxy answers at " + endpoint + " (data in " + data + ")");
      instance = new S3Server(endpoint);
    }
    return instance;
  }

  String endpoint() {
    return endpoint;
  }

  /** Settings that reach this server with its credentials. */
  ObjectStoreSettings settings() {
    return ObjectStoreSettings.at(endpoint, ACCESS_KEY, SECRET_KEY);
  }

  /** A client of this server, closed at exit. */
  S3Client client() {
    return client;
  }

  /** Creates the bucket {@code name}. */
  void createBucket(String name) {
    client.createBucket(b -> b.bucket(name));
  }

  private static void awaitAnswer(Process process, String endpoint, Path log) throws Exception {
    try {
      Awaitility.await()
          .atMost(Duration.ofMillis(START_TIMEOUT_MS))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                if (!process.isAlive()) {
                  throw new IllegalStateException(
                      "S3Proxy exited with "
                          + process.exitValue()
                          + "; log: "
                          + log
                          + "\n"
                          + tail(log));
                }
                return answers(endpoint);
              });
    } catch (ConditionTimeoutException e) {
      stop(process);
      throw new IllegalStateException(
          "S3Proxy did not answer at " + endpoint + " within 60 s; log: " + log);
    }
  }

  /** Any HTTP answer (S3Proxy refuses an unsigned request with 403) means it is up. */
  private static boolean answers(String endpoint) {
    try {
      HttpURLConnection c = (HttpURLConnection) URI.create(endpoint + "/").toURL().openConnection();
      c.setConnectTimeout(1000);
      c.setReadTimeout(2000);
      c.getResponseCode();
      c.disconnect();
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void stop(Process process) {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "";
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static String property(String name) {
    String value = System.getProperty(name);
    if (value == null) {
      throw new IllegalStateException(
          name + " is not set: run the tests with failsafe (mvn verify)");
    }
    return value;
  }
}
