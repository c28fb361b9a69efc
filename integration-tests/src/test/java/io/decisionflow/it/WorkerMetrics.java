package io.decisionflow.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Reads series from the Prometheus text that the standalone's functions worker serves on {@code
 * /metrics} (its own, the broker's, and every function instance's, scraped live).
 */
final class WorkerMetrics {

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private WorkerMetrics() {}

  /** Checks made on one scrape's text. */
  @FunctionalInterface
  interface Check {
    void on(String metrics) throws Exception;
  }

  /**
   * Scrapes until {@code check} passes on one scrape, for up to 10 s: a scrape may reuse the
   * instance's snapshot of a scrape just before it, so a value is checked when it shows.
   */
  static void eventually(Check check) {
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(600))
        .untilAsserted(() -> check.on(scrape()));
  }

  /** The whole exposition text. */
  static String scrape() throws IOException, InterruptedException {
    HttpResponse<String> response =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(PulsarStandalone.ADMIN_URL + "/metrics/"))
                .timeout(Duration.ofSeconds(30))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException("GET /metrics answered " + response.statusCode());
    }
    return response.body();
  }

  /**
   * The value of the series {@code name} whose labels include {@code labels}, or empty if there is
   * none.
   */
  static OptionalDouble value(String name, Map<String, String> labels)
      throws IOException, InterruptedException {
    return value(scrape(), name, labels);
  }

  static OptionalDouble value(String text, String name, Map<String, String> labels) {
    for (String line : text.split("\n")) {
      if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) {
        continue;
      }
      int close = line.lastIndexOf('}');
      String labelText = close < 0 ? "" : line.substring(name.length() + 1, close);
      boolean matches =
          labels.entrySet().stream()
              .allMatch(e -> labelText.contains(e.getKey() + "=\"" + e.getValue() + "\""));
      if (matches) {
        String[] parts = line.substring(close + 1).trim().split("\\s+");
        return OptionalDouble.of(Double.parseDouble(parts[0]));
      }
    }
    return OptionalDouble.empty();
  }

  /**
   * The sum of the series {@code name} whose labels include {@code labels}, or empty if there is
   * none (e.g. a counter over all its arms).
   */
  static OptionalDouble sum(String text, String name, Map<String, String> labels) {
    double sum = 0;
    boolean found = false;
    for (String line : text.split("\n")) {
      if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) {
        continue;
      }
      int close = line.lastIndexOf('}');
      String labelText = close < 0 ? "" : line.substring(name.length() + 1, close);
      if (labels.entrySet().stream()
          .allMatch(e -> labelText.contains(e.getKey() + "=\"" + e.getValue() + "\""))) {
        sum += Double.parseDouble(line.substring(close + 1).trim().split("\\s+")[0]);
        found = true;
      }
    }
    return found ? OptionalDouble.of(sum) : OptionalDouble.empty();
  }
}
