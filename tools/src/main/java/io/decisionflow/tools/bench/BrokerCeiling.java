package io.decisionflow.tools.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The broker ceiling: Pulsar's own {@code bin/pulsar-perf produce} and {@code consume} on one
 * topic, with the project's message size, on the standalone the pipeline runs on, right before the
 * pipeline runs. No pipeline on this broker can publish faster than this; a pipeline of N publish
 * hops shares it N ways.
 */
public final class BrokerCeiling {

  /**
   * What pulsar-perf measured: the producer's sustained rate, the messages it sent and the consumer
   * received, and the producer's publish latency in ms.
   */
  public record Result(
      double producedPerSecond,
      long sent,
      long received,
      int messageBytes,
      double publishP50Ms,
      double publishP99Ms,
      double publishMaxMs) {

    /**
     * The ceiling: the rate produced, if the consumer received (nearly) all of it within its run;
     * else that rate scaled down to the share it received.
     */
    public double perSecond() {
      if (sent <= 0) {
        return 0;
      }
      return received >= sent * 0.99
          ? producedPerSecond
          : producedPerSecond * Math.min(1.0, (double) received / sent);
    }

    public String format() {
      return String.format(
          Locale.ROOT,
          "broker ceiling: %.0f msg/s (%.0f msg/s produced, %d of %d received; %d-byte messages);"
              + " publish latency p50 %.1f ms, p99 %.1f ms, max %.1f ms",
          perSecond(),
          producedPerSecond,
          received,
          sent,
          messageBytes,
          publishP50Ms,
          publishP99Ms,
          publishMaxMs);
    }
  }

  private static final Pattern AGGREGATED_RATE =
      Pattern.compile(
          "Aggregated throughput stats --- (\\d+) records (?:sent|received) --- ([0-9.]+) msg/s");
  private static final Pattern AGGREGATED_LATENCY =
      Pattern.compile(
          "Aggregated latency stats --- Latency: mean:\\s*([0-9.]+) ms - med:\\s*([0-9.]+)"
              + " - 95pct:\\s*([0-9.]+) - 99pct:\\s*([0-9.]+).*Max:\\s*([0-9.]+)");

  private final Path pulsarHome;
  private final Consumer<String> log;

  /**
   * @param pulsarHome a Pulsar distribution: {@code bin/pulsar-perf} runs from there
   */
  public BrokerCeiling(Path pulsarHome, Consumer<String> log) {
    this.pulsarHome = pulsarHome;
    this.log = log;
  }

  /**
   * Runs a consumer, then a producer at most {@code maxRate} msg/s for {@code duration} on {@code
   * topic} (a topic of its own: the run leaves its messages there).
   *
   * @param workDir where the tools' output goes ({@code ceiling-produce.log}, {@code
   *     ceiling-consume.log})
   */
  public Result measure(
      String serviceUrl,
      String adminUrl,
      String topic,
      int messageBytes,
      int maxRate,
      Duration duration,
      Path workDir)
      throws IOException, InterruptedException {
    Path perf = pulsarHome.resolve("bin/pulsar-perf");
    if (!Files.isExecutable(perf)) {
      throw new IllegalArgumentException(
          "--pulsar-home: no bin/pulsar-perf in " + pulsarHome + "; point it at a Pulsar 4 folder");
    }
    Files.createDirectories(workDir);
    Path consumeLog = workDir.resolve("ceiling-consume.log");
    Path produceLog = workDir.resolve("ceiling-produce.log");
    long seconds = Math.max(1, duration.toSeconds());
    List<String> consume =
        List.of(
            perf.toString(),
            "consume",
            "--service-url",
            serviceUrl,
            "--subscriptions",
            "ceiling",
            "--test-duration",
            Long.toString(seconds + 10),
            topic);
    List<String> produce =
        List.of(
            perf.toString(),
            "produce",
            "--service-url",
            serviceUrl,
            "--admin-url",
            adminUrl,
            "--rate",
            Integer.toString(maxRate),
            "--size",
            Integer.toString(messageBytes),
            "--test-duration",
            Long.toString(seconds),
            topic);
    log.accept(
        String.format(
            Locale.ROOT,
            "broker ceiling: pulsar-perf produce/consume %d-byte messages for %d s on %s",
            messageBytes,
            seconds,
            topic));
    Process consumer = start(consume, consumeLog);
    try {
      // The consumer must be subscribed before the first message (its JVM takes a few seconds)
      waitForLine(consumer, consumeLog, "Start receiving from", Duration.ofSeconds(60));
      Process producer = start(produce, produceLog);
      if (!producer.waitFor(seconds + 90, TimeUnit.SECONDS)) {
        producer.destroyForcibly();
        throw new IOException("pulsar-perf produce did not finish; see " + produceLog);
      }
      // The consumer stops once it has been idle, or at its own duration
      if (!consumer.waitFor(seconds + 60, TimeUnit.SECONDS)) {
        consumer.destroy();
        consumer.waitFor(10, TimeUnit.SECONDS);
      }
    } finally {
      consumer.destroyForcibly();
    }
    return parse(Files.readString(produceLog), Files.readString(consumeLog), messageBytes);
  }

  /** Reads the aggregated stats pulsar-perf prints on exit. */
  static Result parse(String produceOutput, String consumeOutput, int messageBytes) {
    MatchResult produced = last(AGGREGATED_RATE, produceOutput, "pulsar-perf produce");
    MatchResult received = last(AGGREGATED_RATE, consumeOutput, "pulsar-perf consume");
    MatchResult latency = last(AGGREGATED_LATENCY, produceOutput, "pulsar-perf produce latency");
    return new Result(
        Double.parseDouble(produced.group(2)),
        Long.parseLong(produced.group(1)),
        Long.parseLong(received.group(1)),
        messageBytes,
        Double.parseDouble(latency.group(2)),
        Double.parseDouble(latency.group(4)),
        Double.parseDouble(latency.group(5)));
  }

  private static MatchResult last(Pattern pattern, String output, String what) {
    Matcher m = pattern.matcher(output);
    MatchResult found = null;
    while (m.find()) {
      found = m.toMatchResult();
    }
    if (found == null) {
      throw new IllegalStateException(
          what + " printed no aggregated stats (did it fail? its log is next to the report)");
    }
    return found;
  }

  private Process start(List<String> command, Path logFile) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.redirectOutput(logFile.toFile());
    builder.environment().putIfAbsent("PULSAR_MEM", "-Xms256m -Xmx512m");
    return builder.start();
  }

  private static void waitForLine(Process process, Path logFile, String text, Duration timeout)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.exists(logFile) && Files.readString(logFile).contains(text)) {
        return;
      }
      if (!process.isAlive()) {
        throw new IOException("pulsar-perf consume exited early; see " + logFile);
      }
      TimeUnit.MILLISECONDS.sleep(200);
    }
    throw new IOException(
        "pulsar-perf consume did not subscribe in " + timeout + "; see " + logFile);
  }
}
