package io.decisionflow.tools;

import io.decisionflow.deploy.Pipeline;
import io.decisionflow.deploy.Provisioner;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Channel;
import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.Transaction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.apache.pulsar.common.functions.FunctionConfig;
import org.apache.pulsar.common.policies.data.SubscriptionStats;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Benchmarks the enrich stage alone on durable state (the BookKeeper table service): its maximum
 * rate draining a backlog over many cards, its latency at a fixed rate, and the same stage written
 * the naive way (one blocking state write per record) for comparison.
 */
@Command(
    name = "bench-enrich",
    mixinStandardHelpOptions = true,
    description = {
      "Benchmark the enrich stage on durable Pulsar Functions state: the maximum rate over",
      "--cards cards (a cold pass that loads every card, then warm passes), the latency at",
      "--latency-rate records/s, and the naive stage (one blocking state write per record).",
      "Deploys the functions into --namespace for the run and removes them."
    })
final class BenchEnrichCommand implements Callable<Integer> {

  private static final String TAG = "[bench-enrich] ";

  private static final String SUBSCRIPTION = "bench-enrich";

  /** A drain that neither enriches nor acknowledges a record for this long has failed. */
  private static final int STALL_SECONDS = 60;

  static final String STAGE_PATH = "publish -> enriched received (2 hops + enrich)";
  static final String FLOOR_PATH = "publish -> received (1 hop, broker floor)";

  /**
   * One window of the latency run.
   *
   * @param index its number, from 0, counting the warm-up's
   * @param measured false for a warm-up window
   */
  record Slot(int index, boolean measured, int seconds) {

    /**
     * The windows of a latency run: {@code warmupSeconds} then {@code measuredSeconds}, each cut
     * into windows of {@code window} s (the last of each part may be shorter).
     */
    static List<Slot> plan(int warmupSeconds, int measuredSeconds, int window) {
      List<Slot> slots = new ArrayList<>();
      for (int done = 0; done < warmupSeconds; done += window) {
        slots.add(new Slot(slots.size(), false, Math.min(window, warmupSeconds - done)));
      }
      for (int done = 0; done < measuredSeconds; done += window) {
        slots.add(new Slot(slots.size(), true, Math.min(window, measuredSeconds - done)));
      }
      return slots;
    }
  }

  @Mixin ClusterOptions cluster;

  @Option(
      names = "--namespace",
      defaultValue = "public/default",
      description = "Namespace the functions run in (${DEFAULT-VALUE}).")
  String namespace;

  @Option(
      names = "--cards",
      defaultValue = "100000",
      description = "Distinct cards of the enrich run (${DEFAULT-VALUE}).")
  int cards;

  @Option(
      names = "--passes",
      defaultValue = "4",
      description =
          "Passes over the cards, each card once per pass in a random order; the first is cold"
              + " (${DEFAULT-VALUE}).")
  int passes;

  @Option(
      names = "--naive-cards",
      defaultValue = "1000",
      description = "Distinct cards of the naive run (${DEFAULT-VALUE}).")
  int naiveCards;

  @Option(
      names = "--naive-passes",
      defaultValue = "4",
      description = "Passes of the naive run (${DEFAULT-VALUE}).")
  int naivePasses;

  @Option(
      names = "--latency-rate",
      defaultValue = "1000",
      description = "Records/s of the latency run, open loop (${DEFAULT-VALUE}).")
  int latencyRate;

  @Option(
      names = "--latency-seconds",
      defaultValue = "60",
      description =
          "Measured seconds of the latency run through the stage, and as many through the broker"
              + " alone, alternating in windows of --window-seconds (${DEFAULT-VALUE}).")
  int latencySeconds;

  @Option(
      names = "--window-seconds",
      defaultValue = "10",
      description =
          "Length of the windows in which the stage and the broker floor alternate; the stage's"
              + " first second after the floor's window is often slower (${DEFAULT-VALUE}).")
  int windowSeconds;

  @Option(
      names = "--warmup-seconds",
      defaultValue = "60",
      description =
          "Seconds of each path at the latency rate, alternating as measured, before the"
              + " measured windows; printed, not measured (${DEFAULT-VALUE}).")
  int warmupSeconds;

  @Option(
      names = "--latency-log",
      description =
          "Also write every record of the latency run to this CSV file (path, window, measured,"
              + " intended send time in epoch ms, latency in microseconds), e.g. to line a tail"
              + " up with GC logs.")
  Path latencyLog;

  @Option(
      names = "--settle-seconds",
      defaultValue = "30",
      description =
          "Pause between the drain and the latency run, for the broker, the bookie and the table"
              + " service to finish the work the drain left (${DEFAULT-VALUE}).")
  int settleSeconds;

  @Option(
      names = "--parallelism",
      defaultValue = "1",
      description = "Instances of each function (${DEFAULT-VALUE}).")
  int parallelism;

  @Option(
      names = "--set",
      description = "An enrich userConfig setting, e.g. --set stateFlushDelayMs=200 (repeatable).")
  Map<String, String> settings = new LinkedHashMap<>();

  @Option(names = "--skip-naive", description = "Do not run the naive stage.")
  boolean skipNaive;

  @Option(
      names = "--out",
      defaultValue = "target/bench/enrich.txt",
      description = "Report file, relative to the project (${DEFAULT-VALUE}).")
  Path out;

  /** One measured drain of a backlog. */
  record Drain(
      String variant,
      int cards,
      long records,
      double coldPerSecond,
      double warmPerSecond,
      double warmAckedPerSecond,
      double seconds) {}

  /** Latency percentiles, milliseconds. */
  record Latency(String what, long count, double p50, double p95, double p99, double max) {}

  @Override
  public Integer call() throws Exception {
    String[] ns = namespace.split("/");
    if (ns.length != 2) {
      throw new IllegalArgumentException("--namespace must be tenant/namespace, was " + namespace);
    }
    require(cards >= 1, "--cards", cards, ">= 1");
    require(passes >= 2, "--passes", passes, ">= 2 (the first pass is cold)");
    require(naiveCards >= 1, "--naive-cards", naiveCards, ">= 1");
    require(naivePasses >= 2, "--naive-passes", naivePasses, ">= 2 (the first pass is cold)");
    require(latencyRate >= 1, "--latency-rate", latencyRate, ">= 1");
    require(latencySeconds >= 1, "--latency-seconds", latencySeconds, ">= 1");
    require(warmupSeconds >= 0, "--warmup-seconds", warmupSeconds, ">= 0");
    require(windowSeconds >= 1, "--window-seconds", windowSeconds, ">= 1");
    require(settleSeconds >= 0, "--settle-seconds", settleSeconds, ">= 0");
    Path jar = cluster.project().resolve("functions/target/decisionflow-functions.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalArgumentException(jar + " is missing: build first (mvn package)");
    }
    String run = UUID.randomUUID().toString().substring(0, 8);
    List<Drain> drains = new ArrayList<>();
    List<Latency> latencies = new ArrayList<>();
    try (PulsarAdmin admin = cluster.admin();
        PulsarClient client = cluster.client()) {
      Bench bench = new Bench(admin, client, ns[0], ns[1], jar.toString(), run);
      String enrich = "enrich-bench-" + run;
      bench.deploy(enrich, "io.decisionflow.functions.EnrichFunction", true, settings);
      try {
        drains.add(bench.drain("enrich", enrich, cards, passes));
        if (settleSeconds > 0) {
          System.out.printf(
              Locale.ROOT, "%ssettling for %d s before the latency run%n", TAG, settleSeconds);
          TimeUnit.SECONDS.sleep(settleSeconds);
        }
        latencies.addAll(bench.latency(enrich, cards, latencyRate, warmupSeconds, latencySeconds));
      } finally {
        bench.remove(enrich);
      }
      if (!skipNaive) {
        String naive = "enrich-naive-" + run;
        bench.deploy(
            naive, "io.decisionflow.functions.baseline.BlockingEnrichFunction", false, Map.of());
        try {
          drains.add(bench.drain("naive", naive, naiveCards, naivePasses));
        } finally {
          bench.remove(naive);
        }
      }
    }
    String report = report(drains, latencies);
    System.out.println();
    System.out.print(report);
    Path file = cluster.project().resolve(out);
    Files.createDirectories(file.getParent());
    Files.writeString(file, report);
    System.out.println("wrote " + file);
    return 0;
  }

  private static void require(boolean ok, String option, int value, String rule) {
    if (!ok) {
      throw new IllegalArgumentException(option + " must be " + rule + ", was " + value);
    }
  }

  private String report(List<Drain> drains, List<Latency> latencies) {
    StringBuilder r = new StringBuilder();
    r.append("decisionflow bench-enrich: the enrich stage on durable state (BookKeeper table")
        .append(" service)\n");
    r.append("date:     ").append(Instant.now()).append('\n');
    r.append("setup:    parallelism ")
        .append(parallelism)
        .append(", enrich settings ")
        .append(settings.isEmpty() ? "(defaults)" : settings)
        .append('\n');
    r.append("rates:    records/s draining a backlog; cold = first pass (every card loaded),")
        .append(" warm = later passes;\n          enriched = records published, acked =")
        .append(" records acknowledged (state durable)\n\n");
    r.append(
        String.format(
            Locale.ROOT,
            "%-8s %8s %9s %12s %12s %12s%n",
            "stage",
            "cards",
            "records",
            "cold rec/s",
            "warm rec/s",
            "warm acked/s"));
    for (Drain d : drains) {
      r.append(
          String.format(
              Locale.ROOT,
              "%-8s %8d %9d %12.0f %12.0f %12.0f%n",
              d.variant(),
              d.cards(),
              d.records(),
              d.coldPerSecond(),
              d.warmPerSecond(),
              d.warmAckedPerSecond()));
    }
    if (drains.size() == 2 && drains.get(1).warmAckedPerSecond() > 0) {
      r.append(
          String.format(
              Locale.ROOT,
              "%nwarm acked rate, enrich / naive: %.1fx%n",
              drains.get(0).warmAckedPerSecond() / drains.get(1).warmAckedPerSecond()));
    }
    r.append(
        String.format(
            Locale.ROOT,
            "%nlatency at %d records/s, open loop, from the intended send time (ms); the stage and"
                + " the broker floor (its own topic, no function) alternated in %d s windows, %d s"
                + " of each measured after %d s of each as a warm-up:%n",
            latencyRate,
            windowSeconds,
            latencySeconds,
            warmupSeconds));
    r.append(
        String.format(
            Locale.ROOT,
            "%-56s %8s %7s %7s %7s %7s%n",
            "path",
            "records",
            "p50",
            "p95",
            "p99",
            "max"));
    for (Latency l : latencies) {
      r.append(
          String.format(
              Locale.ROOT,
              "%-56s %8d %7.2f %7.2f %7.2f %7.2f%n",
              l.what(),
              l.count(),
              l.p50(),
              l.p95(),
              l.p99(),
              l.max()));
    }
    if (latencies.size() >= 2) {
      Latency floor = latencies.get(0);
      Latency through = latencies.get(1);
      r.append(
          String.format(
              Locale.ROOT,
              "%nadded by enrich (2 hops + enrich minus the broker floor's 1 hop, same rate,"
                  + " alternating): p50 %.2f ms, p95 %.2f ms, p99 %.2f ms%n",
              through.p50() - floor.p50(),
              through.p95() - floor.p95(),
              through.p99() - floor.p99()));
    }
    return r.toString();
  }

  /** The runs against one cluster. */
  private final class Bench {
    private final PulsarAdmin admin;
    private final PulsarClient client;
    private final String tenant;
    private final String ns;
    private final String jar;
    private final String run;

    Bench(
        PulsarAdmin admin, PulsarClient client, String tenant, String ns, String jar, String run) {
      this.admin = admin;
      this.client = client;
      this.tenant = tenant;
      this.ns = ns;
      this.jar = jar;
      this.run = run;
    }

    String topic(String name) {
      return "persistent://" + tenant + "/" + ns + "/" + name;
    }

    void deploy(String name, String className, boolean manual, Map<String, String> userConfig)
        throws PulsarAdminException, InterruptedException {
      FunctionConfig config = new FunctionConfig();
      config.setTenant(tenant);
      config.setNamespace(ns);
      config.setName(name);
      config.setClassName(className);
      config.setRuntime(FunctionConfig.Runtime.JAVA);
      config.setInputs(List.of(topic(name + "-in")));
      config.setOutput(topic(name + "-out"));
      config.setOutputSchemaType("PROTOBUF_NATIVE");
      config.setRetainKeyOrdering(true);
      config.setSubName(SUBSCRIPTION);
      config.setSubscriptionPosition(SubscriptionInitialPosition.Earliest);
      config.setProcessingGuarantees(
          manual
              ? FunctionConfig.ProcessingGuarantees.MANUAL
              : FunctionConfig.ProcessingGuarantees.ATLEAST_ONCE);
      config.setParallelism(parallelism);
      config.setUserConfig(new LinkedHashMap<>(userConfig));
      // As provisioning does for a unit's transactions: enrich may hold its pending records.
      admin.topics().createNonPartitionedTopic(topic(name + "-in"));
      new Provisioner(admin, line -> {}).allowEnrichBacklog(topic(name + "-in"), new ArrayList<>());
      System.out.println(TAG + "deploying " + className + " as " + tenant + "/" + ns + "/" + name);
      admin.functions().createFunction(config, jar);
      new Pipeline(admin, cluster.project(), System.out::println)
          .awaitRunning(
              new BusinessNamespace(tenant, ns), List.of(name), TAG.trim(), Duration.ofMinutes(3));
    }

    void remove(String name) {
      try {
        admin.functions().deleteFunction(tenant, ns, name);
        admin.topics().delete(topic(name + "-in"), true);
        admin.topics().delete(topic(name + "-out"), true);
        System.out.println(TAG + "removed " + name + " and its topics");
      } catch (PulsarAdminException e) {
        System.out.println(TAG + "could not remove " + name + ": " + e.getMessage());
      }
    }

    /** Publishes {@code passes} passes over {@code n} cards at once and measures the drain. */
    Drain drain(String variant, String function, int n, int passes) throws Exception {
      long total = (long) n * passes;
      AtomicLong enriched = new AtomicLong();
      AtomicBoolean stop = new AtomicBoolean();
      String prefix = variant + "-" + run + "-";
      // Counted, not parsed: the harness should take as little CPU from the stage as it can.
      try (Consumer<byte[]> results =
              client
                  .newConsumer(Schema.BYTES)
                  .topic(topic(function + "-out"))
                  .subscriptionName(SUBSCRIPTION)
                  .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
                  .receiverQueueSize(5000)
                  .subscribe();
          Producer<byte[]> producer =
              client
                  .newProducer(Schema.BYTES)
                  .topic(topic(function + "-in"))
                  // Unbatched, so that the subscription's backlog counts records, not batches.
                  .enableBatching(false)
                  .maxPendingMessages(20_000)
                  .blockIfQueueFull(true)
                  .create()) {
        Thread receiver =
            new Thread(() -> receive(results, stop, m -> enriched.incrementAndGet()), "receiver");
        receiver.start();
        Random random = new Random(42);
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
          order[i] = i;
        }
        long start = System.nanoTime();
        long sent = 0;
        long lastProgress = start;
        System.out.printf(
            Locale.ROOT, "%s%s: publishing %d records over %d cards%n", TAG, variant, total, n);
        for (int pass = 0; pass < passes; pass++) {
          shuffle(order, random);
          for (int i = 0; i < n; i++) {
            producer.sendAsync(transaction(prefix + order[i], prefix + sent, random).toByteArray());
            sent++;
          }
        }
        producer.flush();
        long coldEnrichedAt = 0;
        long warmStart = 0;
        long warmAckedStart = 0;
        long warmAckedStartCount = 0;
        long acked;
        long lastChange = System.nanoTime();
        long lastSeen = -1;
        do {
          long now = System.nanoTime();
          acked = total - backlog(function);
          long done = enriched.get();
          if (done + acked != lastSeen) {
            lastSeen = done + acked;
            lastChange = now;
          } else if (now - lastChange > TimeUnit.SECONDS.toNanos(STALL_SECONDS)) {
            throw new IllegalStateException(
                String.format(
                    Locale.ROOT,
                    "%s: nothing enriched or acknowledged for %d s (enriched %d, acked %d of %d);"
                        + " %s (its log: logs/functions/%s/%s/%s/ in the standalone's folder)",
                    variant,
                    STALL_SECONDS,
                    done,
                    acked,
                    total,
                    Objects.requireNonNullElse(
                        new Pipeline(admin, cluster.project(), line -> {})
                            .problem(new BusinessNamespace(tenant, ns), function),
                        function + " (all instances running)"),
                    tenant,
                    ns,
                    function));
          }
          if (coldEnrichedAt == 0 && done >= n) {
            coldEnrichedAt = now;
            warmStart = now;
          }
          if (warmAckedStart == 0 && acked >= n) {
            warmAckedStart = now;
            warmAckedStartCount = acked;
          }
          if (now - lastProgress > TimeUnit.SECONDS.toNanos(5)) {
            lastProgress = now;
            System.out.printf(
                Locale.ROOT,
                "%s%s: %.0f s, enriched %d, acked %d of %d%n",
                TAG,
                variant,
                (now - start) / 1e9,
                done,
                acked,
                total);
          }
          if (now - start > TimeUnit.MINUTES.toNanos(30)) {
            throw new IllegalStateException(
                variant
                    + ": not drained in 30 minutes (enriched "
                    + done
                    + ", acked "
                    + acked
                    + ")");
          }
          Thread.sleep(500);
        } while (acked < total || enriched.get() < total);
        long end = System.nanoTime();
        stop.set(true);
        receiver.join();
        double cold = n / ((coldEnrichedAt - start) / 1e9);
        double warm = (total - n) / ((end - warmStart) / 1e9);
        double warmAcked = (total - warmAckedStartCount) / ((end - warmAckedStart) / 1e9);
        System.out.printf(
            Locale.ROOT,
            "%s%s: drained in %.1f s: cold %.0f/s, warm %.0f/s, warm acked %.0f/s%n",
            TAG,
            variant,
            (end - start) / 1e9,
            cold,
            warm,
            warmAcked);
        return new Drain(variant, n, total, cold, warm, warmAcked, (end - start) / 1e9);
      }
    }

    /**
     * Records at a fixed rate through {@code function}, over {@code n} warm cards, end to end and
     * topic to topic (the broker's publish time of the enriched record minus that of its input);
     * and the same rate through the broker alone (one topic, no function: the floor). The two
     * alternate in windows of {@code --window-seconds}, so each carries only its own 1,000
     * records/s while both sample the same stretch of the machine: what the stage adds is their
     * difference. The first {@code warmupSeconds} of each are a warm-up, reported apart.
     */
    List<Latency> latency(String function, int n, int rate, int warmupSeconds, int seconds)
        throws Exception {
      String stagePrefix = "enrich-" + run + "-";
      String floorTopic = topic("broker-floor-" + run);
      String input = topic(function + "-in");
      // The input's publish times are read after the run: a subscription made now keeps them,
      // and reading them meanwhile would add a dispatch per record to the measured broker.
      client
          .newConsumer(Schema.BYTES)
          .topic(input)
          .subscriptionName(SUBSCRIPTION + "-publish-times")
          .subscribe()
          .close();
      Map<String, Long> outputPublished = new ConcurrentHashMap<>();
      Histogram through = new Histogram(3);
      Histogram floor = new Histogram(3);
      Histogram throughWarmup = new Histogram(3);
      Histogram floorWarmup = new Histogram(3);
      Random random = new Random(7);
      try (LatencyLog log =
          LatencyLog.open(latencyLog == null ? null : cluster.project().resolve(latencyLog))) {
        for (Slot slot : Slot.plan(warmupSeconds, seconds, windowSeconds)) {
          (slot.measured() ? through : throughWarmup)
              .add(
                  paced(
                      STAGE_PATH,
                      "stage",
                      slot,
                      input,
                      () -> outputConsumer(function),
                      slot.measured()
                          ? m ->
                              outputPublished.put(transactionId(m.getValue()), m.getPublishTime())
                          : m -> {},
                      stagePrefix,
                      stagePrefix + "l" + slot.index() + "-",
                      n,
                      random,
                      rate,
                      log));
          (slot.measured() ? floor : floorWarmup)
              .add(
                  paced(
                      FLOOR_PATH,
                      "floor",
                      slot,
                      floorTopic,
                      () ->
                          client
                              .newConsumer(Topics.TRANSACTIONS.schema())
                              .topic(floorTopic)
                              .subscriptionName(SUBSCRIPTION)
                              .subscribe(),
                      m -> {},
                      "floor-" + run + "-",
                      "floor-" + run + "-" + slot.index() + "-",
                      1000,
                      random,
                      rate,
                      log));
        }
      } finally {
        admin.topics().delete(floorTopic, true);
      }
      Latency stage = topicToTopic(input, outputPublished);
      System.out.printf(
          Locale.ROOT,
          "%s%s: p50 %.2f ms, p99 %.2f ms, max %.2f ms (broker publish times, 1 ms resolution)%n",
          TAG,
          stage.what(),
          stage.p50(),
          stage.p99(),
          stage.max());
      List<Latency> result = new ArrayList<>();
      result.add(latencyOf(FLOOR_PATH, floor));
      result.add(latencyOf(STAGE_PATH, through));
      result.add(stage);
      if (warmupSeconds > 0) {
        String warm = ", warm-up";
        result.add(latencyOf(FLOOR_PATH + warm, floorWarmup));
        result.add(latencyOf(STAGE_PATH + warm, throughWarmup));
      }
      return result;
    }

    /**
     * Input published to enriched published, from the broker's publish times, for the measured
     * records ({@code outputPublished}): reads the input's publish times kept by the subscription
     * {@link #latency} made.
     */
    private Latency topicToTopic(String input, Map<String, Long> outputPublished) throws Exception {
      Histogram h = new Histogram(3);
      int found = 0;
      try (Consumer<byte[]> inputs =
          client
              .newConsumer(Schema.BYTES)
              .topic(input)
              .subscriptionName(SUBSCRIPTION + "-publish-times")
              .receiverQueueSize(5000)
              .subscribe()) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (found < outputPublished.size() && System.nanoTime() < deadline) {
          Message<byte[]> m = inputs.receive(1, TimeUnit.SECONDS);
          if (m == null) {
            break;
          }
          Long out = outputPublished.get(Transaction.parseFrom(m.getValue()).getTransactionId());
          if (out != null) {
            h.recordValue(Math.max(0, out - m.getPublishTime()) * 1000);
            found++;
          }
          inputs.acknowledgeAsync(m);
        }
        inputs.unsubscribe();
      }
      if (found < outputPublished.size()) {
        throw new IllegalStateException(
            "found the input publish time of only "
                + found
                + " of "
                + outputPublished.size()
                + " measured records");
      }
      return latencyOf("input published -> enriched published (enrich)", h);
    }

    /**
     * Publishes the window's seconds at {@code rate}, open loop, to {@code input} (transactions
     * {@code idPrefix<i>} of cards {@code cardPrefix<0..n-1>}), and measures from each record's
     * intended send time to its arrival on a consumer from {@code consumers}. {@code onMeasured}
     * sees each record's message. Prints one line with the window's percentiles and hands every
     * record to {@code log}.
     */
    private <T extends com.google.protobuf.Message> Histogram paced(
        String what,
        String path,
        Slot slot,
        String input,
        Callable<Consumer<T>> consumers,
        java.util.function.Consumer<Message<T>> onMeasured,
        String cardPrefix,
        String idPrefix,
        int n,
        Random random,
        int rate,
        LatencyLog log)
        throws Exception {
      Map<String, Long> intended = new ConcurrentHashMap<>();
      Histogram histogram = new Histogram(3);
      AtomicBoolean stop = new AtomicBoolean();
      int total = rate * slot.seconds();
      long[] due = new long[total]; // in arrival order
      long[] latency = new long[total];
      AtomicInteger received = new AtomicInteger();
      try (Consumer<T> results = consumers.call();
          Producer<byte[]> producer =
              client
                  .newProducer(Schema.BYTES)
                  .topic(input)
                  .enableBatching(false)
                  .blockIfQueueFull(true)
                  .create()) {
        Thread receiver =
            new Thread(
                () ->
                    receive(
                        results,
                        stop,
                        m -> {
                          long now = System.nanoTime();
                          Long sent = intended.remove(transactionId(m.getValue()));
                          if (sent != null) {
                            long micros = Math.max(0, now - sent) / 1000;
                            int i = received.getAndIncrement();
                            due[i] = sent;
                            latency[i] = micros;
                            histogram.recordValue(micros);
                            onMeasured.accept(m);
                          }
                        }),
                "latency-receiver");
        receiver.start();
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
        long interval = TimeUnit.SECONDS.toNanos(1) / rate;
        for (int i = 0; i < total; i++) {
          long at = start + i * interval;
          long wait = at - System.nanoTime();
          if (wait > 0) {
            LockSupport.parkNanos(wait);
          }
          String id = idPrefix + i;
          intended.put(id, at);
          producer.sendAsync(transaction(cardPrefix + random.nextInt(n), id, random).toByteArray());
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (received.get() < total && System.nanoTime() < deadline) {
          Thread.sleep(50);
        }
        stop.set(true);
        receiver.join();
      }
      if (received.get() < total) {
        throw new IllegalStateException(
            what + ": only " + received.get() + " of " + total + " records came back in 60 s");
      }
      log.window(path, slot.index(), slot.measured(), due, latency);
      System.out.printf(
          Locale.ROOT,
          "%s%s: window %d, %d s at %d/s%s, p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
          TAG,
          what,
          slot.index(),
          slot.seconds(),
          rate,
          slot.measured() ? "" : ", warm-up (not measured)",
          histogram.getValueAtPercentile(50) / 1000.0,
          histogram.getValueAtPercentile(99) / 1000.0,
          histogram.getMaxValue() / 1000.0);
      return histogram;
    }

    private static Latency latencyOf(String what, Histogram micros) {
      return new Latency(
          what,
          micros.getTotalCount(),
          micros.getValueAtPercentile(50) / 1000.0,
          micros.getValueAtPercentile(95) / 1000.0,
          micros.getValueAtPercentile(99) / 1000.0,
          micros.getMaxValue() / 1000.0);
    }

    private Consumer<EnrichedTransaction> outputConsumer(String function) throws Exception {
      return client
          .newConsumer(Topics.TRANSACTIONS_ENRICHED.schema())
          .topic(topic(function + "-out"))
          .subscriptionName(SUBSCRIPTION)
          .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
          .receiverQueueSize(5000)
          .subscribe();
    }

    private long backlog(String function) throws PulsarAdminException {
      SubscriptionStats stats =
          admin.topics().getStats(topic(function + "-in")).getSubscriptions().get(SUBSCRIPTION);
      return stats == null ? Long.MAX_VALUE : stats.getMsgBacklog();
    }
  }

  private static String transactionId(com.google.protobuf.Message m) {
    if (m instanceof EnrichedTransaction e) {
      return e.getTransaction().getTransactionId();
    }
    return ((Transaction) m).getTransactionId();
  }

  private static <T> void receive(
      Consumer<T> consumer, AtomicBoolean stop, java.util.function.Consumer<Message<T>> onMessage) {
    try {
      while (!stop.get()) {
        Message<T> message = consumer.receive(100, TimeUnit.MILLISECONDS);
        if (message != null) {
          onMessage.accept(message);
          consumer.acknowledgeAsync(message);
        }
      }
    } catch (PulsarClientException.AlreadyClosedException e) {
      // closed by the run, which stops on an error of its own
    } catch (Exception e) {
      if (!stop.get()) {
        System.err.println(TAG + "receiver failed: " + e);
      }
    }
  }

  private static void shuffle(int[] a, Random random) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  private static final String[] COUNTRIES = {"DE", "FR", "NL", "US", "GB", "ES"};

  private static Transaction transaction(String card, String id, Random random) {
    return Transaction.newBuilder()
        .setTransactionId(id)
        .setCardId(card)
        .setAmount(Math.round(5 + random.nextDouble() * 200) / 1.0)
        .setCurrency("EUR")
        .setMerchantId("merchant-" + random.nextInt(500))
        .setMerchantCategory("5411")
        .setCountry(COUNTRIES[random.nextInt(COUNTRIES.length)])
        .setChannel(random.nextInt(4) == 0 ? Channel.ONLINE : Channel.POS)
        .setEventTimeMs(System.currentTimeMillis())
        .build();
  }
}
