package io.decisionflow.tools;

import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.FunctionDeployer;
import io.decisionflow.deploy.LocalModelStore;
import io.decisionflow.deploy.ModelRegistry;
import io.decisionflow.deploy.Pipeline;
import io.decisionflow.deploy.Provisioner;
import io.decisionflow.deploy.UserConfigOverrides;
import io.decisionflow.models.synthetic.TransactionGenerator;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.tools.bench.BenchmarkReport;
import io.decisionflow.tools.bench.BrokerCeiling;
import io.decisionflow.tools.bench.DecisionTally;
import io.decisionflow.tools.bench.GroundTruth;
import io.decisionflow.tools.bench.JvmCpu;
import io.decisionflow.tools.bench.LoadGenerator;
import io.decisionflow.tools.bench.RateSchedule;
import io.decisionflow.tools.bench.RateSearch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.apache.pulsar.client.api.SubscriptionMode;
import org.apache.pulsar.common.functions.FunctionConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The benchmark: in one run on one cluster, the broker's ceiling with pulsar-perf at the
 * transactions' size, then per topology (the chained pipeline, the naive baseline) the highest rate
 * it sustains and its latency and CPU at 25, 50 and 80 % of it; prints and writes a table.
 */
@Command(
    name = "benchmark",
    mixinStandardHelpOptions = true,
    description = {
      "Measure the broker ceiling (pulsar-perf, at the transactions' size), then for each",
      "topology the maximum sustainable rate (open-loop steps, doubling then bisecting) and the",
      "end-to-end latency (HdrHistogram p50/p95/p99/max), CPU per JVM and alert precision/recall",
      "at 25, 50 and 80 %% of it, for the chained pipeline, the naive baseline and the fused",
      "topology. Prints the table and writes it to --out. Deploys each topology",
      "in turn into the unit's namespace under a tenant of its own (--tenant), without the guard",
      "and the sinks."
    })
final class BenchmarkCommand implements Callable<Integer> {

  @Mixin ClusterOptions cluster;

  @Option(
      names = "--topologies",
      split = ",",
      defaultValue = "naive,chained,fused",
      description =
          "Topologies to measure, in order: chained (pulsar-deploy/functions), naive"
              + " (pulsar-deploy/functions-naive), fused (pulsar-deploy/functions-fused)"
              + " (${DEFAULT-VALUE}).")
  List<String> topologies;

  @Option(
      names = "--out",
      description = "Write the table here (default: target/benchmark/benchmark-<time>.md).")
  Path out;

  @Option(
      names = "--pulsar-home",
      description =
          "Pulsar distribution whose bin/pulsar-perf measures the ceiling (default: the one"
              + " pulsar-deploy/pulsar-local.sh uses, in DECISIONFLOW_HOME/dist).")
  Path pulsarHome;

  @Option(
      names = "--ceiling-seconds",
      defaultValue = "15",
      description = "Seconds of pulsar-perf (${DEFAULT-VALUE}).")
  int ceilingSeconds;

  @Option(
      names = "--ceiling-rate",
      defaultValue = "200000",
      description = "Rate pulsar-perf offers, above what the broker takes (${DEFAULT-VALUE}).")
  int ceilingRate;

  @Option(
      names = "--start-rate",
      description =
          "First rate of the search, per second (default: 500 for chained, 50 for naive, whose"
              + " blocking state calls manage about 80/s).")
  Integer startRate;

  @Option(
      names = "--max-rate",
      defaultValue = "50000",
      description = "Highest rate the search tries (${DEFAULT-VALUE}).")
  int maxRate;

  @Option(
      names = "--fixed-rate",
      description =
          "Skip the search: measure at fractions of this rate, taken as the maximum. Without the"
              + " search's steps the latency runs start right after the warm-up, on JVMs still"
              + " compiling: give a fixed-rate run a longer --warmup-seconds (e.g. 180).")
  Integer fixedRate;

  @Option(
      names = "--precision",
      defaultValue = "0.1",
      description = "Stop the search once within this fraction of the limit (${DEFAULT-VALUE}).")
  double precision;

  @Option(
      names = "--step-seconds",
      defaultValue = "15",
      description = "Seconds of traffic per search step (${DEFAULT-VALUE}).")
  int stepSeconds;

  @Option(
      names = "--measure-seconds",
      defaultValue = "20",
      description = "Seconds of traffic per latency measurement (${DEFAULT-VALUE}).")
  int measureSeconds;

  @Option(
      names = "--drain-seconds",
      defaultValue = "10",
      description =
          "A step is sustained only if all its decisions arrive within this many seconds after"
              + " its last send (${DEFAULT-VALUE}).")
  int drainSeconds;

  @Option(
      names = "--sustainable-p99-ms",
      defaultValue = "1000",
      description =
          "A step is sustained only if its end-to-end p99 is at most this (${DEFAULT-VALUE}).")
  double sustainableP99Ms;

  @Option(
      names = "--warmup-seconds",
      defaultValue = "30",
      description =
          "Seconds of traffic at the start rate before measuring, while the instances' JIT"
              + " compilers work (${DEFAULT-VALUE}).")
  int warmupSeconds;

  @Option(
      names = "--lead-in-seconds",
      defaultValue = "20",
      description =
          "Each latency level runs on cards of its own, after this many seconds of traffic at its"
              + " rate over them that are not measured (${DEFAULT-VALUE}).")
  int leadInSeconds;

  @Option(
      names = "--warmup-rounds",
      defaultValue = "6",
      description =
          "Warm-up rounds at most: they repeat until one is sustained (${DEFAULT-VALUE}).")
  int warmupRounds;

  @Option(
      names = "--cards",
      defaultValue = "10000",
      description = "Distinct cards of the generated stream (${DEFAULT-VALUE}).")
  int cards;

  @Option(names = "--seed", description = "Generator seed (default: the current time).")
  Long seed;

  @Option(
      names = "--smoke",
      description =
          "A run of seconds that exercises every part (for the test suite): a 3 s ceiling, the"
              + " chained topology only unless --topologies says otherwise, --fixed-rate 40,"
              + " 3 s steps, no warm-up.")
  boolean smoke;

  @Option(
      names = "--set",
      paramLabel = "FUNCTION.KEY=VALUE",
      description =
          "A userConfig setting of one function of the measured topologies, for tuning runs, e.g."
              + " --set score-champion.maxBatchWaitMs=0 --set enrich.outputBatchingDelayMicros=0;"
              + " a dotted KEY sets a nested one, e.g. fused.enrich.stateFlushDelayMs=200"
              + " (repeatable; numbers and true/false are typed).")
  List<String> settings = new ArrayList<>();

  @Option(
      names = "--tenant",
      description =
          "Tenant to run in (default: the unit's tenant with -bench appended, so that the"
              + " benchmark never replaces the functions of the unit itself).")
  String tenant;

  @Option(
      names = "--keep-running",
      description = "Leave the last topology deployed (default: undeploy it).")
  boolean keepRunning;

  private static final Map<String, String> FUNCTIONS_DIRS =
      Map.of(
          "chained", "pulsar-deploy/functions",
          "naive", "pulsar-deploy/functions-naive",
          "fused", "pulsar-deploy/functions-fused");

  private static final Map<String, Integer> START_RATES =
      Map.of("chained", 500, "naive", 50, "fused", 1000);

  private volatile DecisionTally current = new DecisionTally(new GroundTruth());

  @Override
  public Integer call() throws Exception {
    if (smoke) {
      applySmoke();
    }
    validate();
    Path project = cluster.project();
    String stamp =
        DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
            .withZone(ZoneOffset.UTC)
            .format(Instant.now());
    Path report =
        out != null ? out : project.resolve("target/benchmark/benchmark-" + stamp + ".md");
    Path workDir = report.toAbsolutePath().getParent();
    Files.createDirectories(workDir);
    Path perfHome =
        pulsarHome != null ? pulsarHome : DemoCommand.home().resolve("dist/apache-pulsar-4.0.8");
    long runSeed = seed != null ? seed : System.currentTimeMillis();
    int messageBytes = messageBytes(runSeed);
    try (PulsarAdmin admin = cluster.admin();
        PulsarClient client = cluster.client()) {
      Pipeline base = cluster.pipeline(admin, line -> System.out.println("[deploy] " + line));
      BusinessUnit unit = cluster.businessUnit(base);
      unit.pipeline.sinks.clear();
      unit.tenant = tenant != null ? tenant : unit.tenant + "-bench";
      BusinessNamespace ns = unit.pipelineNamespace();

      String ceilingTopic = "persistent://public/default/decisionflow-ceiling-" + stamp;
      BrokerCeiling.Result ceiling =
          new BrokerCeiling(perfHome, line -> System.out.println("[ceiling] " + line))
              .measure(
                  cluster.serviceUrl,
                  cluster.adminUrl,
                  ceilingTopic,
                  messageBytes,
                  ceilingRate,
                  Duration.ofSeconds(ceilingSeconds),
                  workDir);
      System.out.println("[ceiling] " + ceiling.format());
      deleteQuietly(admin, ceilingTopic);

      new Provisioner(admin, line -> System.out.println("[deploy] " + line))
          .provision(unit, base.modelSlots());
      DemoCommand.loadMerchants(client, ns);
      publishModels(client, base, ns, project);

      List<BenchmarkReport.Topology> results = new ArrayList<>();
      try {
        for (String name : topologies) {
          Pipeline topology =
              base.topology(project.resolve(FUNCTIONS_DIRS.get(name)), Set.of("guard"));
          System.out.println("[benchmark] topology " + name + ": deploying");
          base.undeploy(unit);
          // The benchmark's own tenant: what earlier topologies and runs left unread goes
          admin.namespaces().clearNamespaceBacklog(ns.toString());
          DemoCommand.resetRouting(client, topology, unit);
          startAtTheEnd(admin, topology.render(unit, Map.of()));
          topology.deploy(unit, overrides(modelLocations(project, name), settings));
          topology.awaitRunning(unit, Duration.ofSeconds(240));
          results.add(measure(client, ns, name, runSeed, results));
        }
      } finally {
        if (!keepRunning) {
          base.undeploy(unit);
        }
      }
      List<String> header =
          List.of(
              "run: "
                  + DateTimeFormatter.ISO_INSTANT.format(
                      Instant.now().truncatedTo(ChronoUnit.SECONDS))
                  + ", "
                  + Runtime.getRuntime().availableProcessors()
                  + " cores, Java "
                  + Runtime.version(),
              "unit: "
                  + ns
                  + ", "
                  + cards
                  + " cards, "
                  + messageBytes
                  + "-byte transactions, seed "
                  + runSeed
                  + (settings.isEmpty() ? "" : "; settings: " + String.join(" ", settings)),
              String.format(
                  Locale.ROOT,
                  "sustained: every decision within %d s of the step's last send, end-to-end p99"
                      + " <= %.0f ms, the generator at most 5 %% of the step late at its end; steps"
                      + " of %d s, latency runs of %d s",
                  drainSeconds,
                  sustainableP99Ms,
                  stepSeconds,
                  measureSeconds));
      String table = BenchmarkReport.render(header, ceiling, results);
      Files.writeString(report, table);
      System.out.println();
      System.out.println(table);
      System.out.println("[benchmark] table written to " + report);
    }
    return 0;
  }

  private void applySmoke() {
    ceilingSeconds = 3;
    ceilingRate = 5000;
    if (topologies.equals(List.of("naive", "chained", "fused"))) {
      topologies = List.of("chained");
    }
    if (fixedRate == null) {
      fixedRate = 40;
    }
    stepSeconds = 3;
    measureSeconds = 3;
    warmupSeconds = 0;
    leadInSeconds = 0;
  }

  private void validate() {
    for (String t : topologies) {
      if (!FUNCTIONS_DIRS.containsKey(t)) {
        throw new IllegalArgumentException(
            "--topologies: unknown topology '" + t + "'; known: " + FUNCTIONS_DIRS.keySet());
      }
    }
    if (startRate != null && (startRate < 1 || maxRate < startRate)) {
      throw new IllegalArgumentException(
          "--start-rate must be >= 1 and --max-rate >= --start-rate, was "
              + startRate
              + " and "
              + maxRate);
    }
    if (fixedRate != null && fixedRate < 4) {
      throw new IllegalArgumentException("--fixed-rate must be >= 4, was " + fixedRate);
    }
    if (stepSeconds < 1 || measureSeconds < 1 || drainSeconds < 1 || ceilingSeconds < 1) {
      throw new IllegalArgumentException(
          "--step-seconds, --measure-seconds, --drain-seconds and --ceiling-seconds must be >= 1");
    }
    if (cards < 1) {
      throw new IllegalArgumentException("--cards must be >= 1, was " + cards);
    }
    if (leadInSeconds < 0) {
      throw new IllegalArgumentException("--lead-in-seconds must be >= 0, was " + leadInSeconds);
    }
    if (warmupRounds < 1) {
      throw new IllegalArgumentException("--warmup-rounds must be >= 1, was " + warmupRounds);
    }
  }

  /**
   * {@code base} plus the {@code --set} settings ({@code function.key=value}, see {@link
   * UserConfigOverrides#parse}).
   *
   * @throws IllegalArgumentException naming a setting that does not parse
   */
  static Map<String, Map<String, Object>> overrides(
      Map<String, Map<String, Object>> base, List<String> settings) {
    return UserConfigOverrides.mergeByFunction(base, UserConfigOverrides.parse(settings));
  }

  /**
   * The fused function serves each slot's configured model: the models the build trained (the
   * chained pipeline's score functions get theirs from the registry).
   */
  private static Map<String, Map<String, Object>> modelLocations(Path project, String topology) {
    if (!topology.equals("fused")) {
      return Map.of();
    }
    Map<String, String> slots = new LinkedHashMap<>();
    slots.put("champion", trained(project, "fraud-v1").toString());
    slots.put("challenger", trained(project, "fraud-v2").toString());
    return Pipeline.fusedModelLocations(slots);
  }

  private static Path trained(Path project, String model) {
    Path dir = project.resolve("models/target/models").resolve(model);
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(dir + " is not a directory: build first (mvn package)");
    }
    return dir;
  }

  /** The mean serialized size of the generator's transactions: pulsar-perf's message size. */
  private int messageBytes(long runSeed) {
    TransactionGenerator g = generator(runSeed);
    long bytes = 0;
    for (int i = 0; i < 1000; i++) {
      bytes += g.next(System.currentTimeMillis()).transaction().getSerializedSize();
    }
    return (int) Math.max(1, bytes / 1000);
  }

  private TransactionGenerator generator(long runSeed) {
    return new TransactionGenerator(
        TransactionGenerator.Options.defaults(runSeed).withCards(cards));
  }

  private static void publishModels(
      PulsarClient client, Pipeline pipeline, BusinessNamespace ns, Path project) throws Exception {
    ModelRegistry registry =
        new ModelRegistry(client, line -> System.out.println("[models] " + line));
    for (String slot : pipeline.modelSlots()) {
      String model = "champion".equals(slot) ? "fraud-v1" : "fraud-v2";
      Path dir = project.resolve("models/target/models").resolve(model);
      if (!Files.isDirectory(dir)) {
        throw new IllegalArgumentException(dir + " is not a directory: build first (mvn package)");
      }
      registry.publish(
          ns, slot, dir, new LocalModelStore(DemoCommand.defaultModelStore()), "benchmark");
    }
  }

  /**
   * Creates each function's subscription at the end of its input topics if it does not exist yet,
   * so that a topology deployed after another starts with the traffic of its own run, not with what
   * its inputs hold from earlier runs (existing subscriptions are emptied by clearing the tenant's
   * backlog just before).
   */
  private static void startAtTheEnd(PulsarAdmin admin, List<FunctionDeployer.Deployment> functions)
      throws PulsarAdminException {
    for (FunctionDeployer.Deployment d : functions) {
      FunctionConfig config = d.config();
      if (config.getInputs() == null || config.getSubName() == null) {
        continue;
      }
      for (String topic : config.getInputs()) {
        List<String> subscriptions;
        try {
          subscriptions = admin.topics().getSubscriptions(topic);
        } catch (PulsarAdminException.NotFoundException e) {
          subscriptions = List.of();
        }
        if (!subscriptions.contains(config.getSubName())) {
          admin.topics().createSubscription(topic, config.getSubName(), MessageId.latest);
        }
      }
    }
  }

  private BenchmarkReport.Topology measure(
      PulsarClient client,
      BusinessNamespace ns,
      String name,
      long runSeed,
      List<BenchmarkReport.Topology> before)
      throws Exception {
    AtomicBoolean running = new AtomicBoolean(true);
    String prefix = "bench" + runSeed + "-" + name + "-";
    try (Consumer<Decision> decisions =
            client
                .newConsumer(Topics.DECISIONS.schema())
                .topic(Topics.DECISIONS.in(ns))
                .subscriptionName("benchmark-" + runSeed + "-" + name)
                .subscriptionInitialPosition(SubscriptionInitialPosition.Latest)
                // Non-durable: a finished run leaves no subscription to hold a backlog (which
                // would, at the namespace's backlog quota, block the pipeline's producers)
                .subscriptionMode(SubscriptionMode.NonDurable)
                .receiverQueueSize(10_000)
                .subscribe();
        Producer<Transaction> producer =
            GenerateCommand.transactionProducer(client, Topics.TRANSACTIONS.in(ns))) {
      Thread receiver = receive(decisions, running);
      try {
        Stepper stepper =
            new Stepper(generator(runSeed ^ name.hashCode()), prefix, producer, sustainableP99Ms);
        // The score functions load their models after they report running
        RateSearch.Step first = stepper.run(name + " first decisions", 10, 1, 180);
        if (first.result().missing() > 0) {
          throw new IllegalStateException(
              first.result().missing()
                  + " of 10 first transactions got no decision in 180 s; check the functions:"
                  + " pulsar-admin functions status --tenant "
                  + ns.tenant()
                  + " --namespace "
                  + ns.namespace()
                  + " --name <enrich|route|score-champion|decide>");
        }
        int start = startRate != null ? startRate : Math.min(START_RATES.get(name), maxRate);
        warmUp(stepper, name, start);
        int max;
        String note;
        if (fixedRate != null) {
          max = fixedRate;
          note = "fixed";
        } else {
          RateSearch.Outcome outcome =
              new RateSearch(
                      rate -> stepper.run(name + " search", rate, stepSeconds, drainSeconds),
                      line -> System.out.println("[benchmark] " + name + " " + line))
                  .search(start, maxRate, precision);
          max = outcome.maxRate();
          note = "";
          System.out.printf(
              "[benchmark] %s sustains %d/s (%d steps)%n", name, max, outcome.steps().size());
        }
        List<BenchmarkReport.Level> levels = new ArrayList<>();
        Map<String, Integer> rates = new LinkedHashMap<>();
        rates.put("25%", max / 4);
        rates.put("50%", max / 2);
        rates.put("80%", max * 4 / 5);
        // The naive baseline's top load again, to compare latency at the same rate
        for (BenchmarkReport.Topology earlier : before) {
          if (earlier.name().equals("naive") && !earlier.levels().isEmpty()) {
            BenchmarkReport.Level top = earlier.levels().get(earlier.levels().size() - 1);
            rates.put(earlier.name() + " " + top.label(), top.step().rate());
          }
        }
        JvmCpu cpu = JvmCpu.of(ns.tenant(), ns.namespace());
        int index = 0;
        for (Map.Entry<String, Integer> level : rates.entrySet()) {
          if (level.getValue() < 1) {
            continue;
          }
          // Cards of their own for each level, led in at the level's rate: every topology is
          // measured on cards with the same short history at a given rate. The search's cards
          // have taken thousands of transactions each at a fast topology's top rates, and a
          // card's state (its windows, merchants and ids) grows with them.
          Stepper fresh =
              new Stepper(
                  generator(runSeed ^ name.hashCode()),
                  prefix + "l" + index++ + "-",
                  producer,
                  sustainableP99Ms);
          if (leadInSeconds > 0) {
            fresh.run(
                name + " lead-in at " + level.getKey(),
                level.getValue(),
                leadInSeconds,
                drainSeconds);
          }
          JvmCpu.Sample cpuBefore = cpu.sample();
          RateSearch.Step step =
              fresh.run(
                  name + " at " + level.getKey(), level.getValue(), measureSeconds, drainSeconds);
          JvmCpu.Sample cpuAfter = cpu.sample();
          Map<String, Double> cores = JvmCpu.coresBetween(cpuBefore, cpuAfter);
          System.out.printf(
              "[benchmark] %s at %s (%d/s): %s%n",
              name, level.getKey(), level.getValue(), step.result().latency().format());
          levels.add(
              new BenchmarkReport.Level(
                  level.getKey(),
                  step,
                  cores,
                  JvmCpu.standaloneCoresBetween(cpuBefore, cpuAfter, cores)));
        }
        return new BenchmarkReport.Topology(
            name, BenchmarkReport.PUBLISH_HOPS.get(name), max, note, levels);
      } finally {
        running.set(false);
        receiver.join(2000);
      }
    }
  }

  /**
   * Traffic at the start rate until a round of {@code --warmup-seconds} is sustained (at most
   * {@code --warmup-rounds}): the search's first step then meets JVMs that have compiled their hot
   * paths. Six instance JVMs compiling on two cores took more than one round here, and a search
   * whose first steps fail on cold JVMs only looks below them.
   */
  private void warmUp(Stepper stepper, String name, int rate) throws Exception {
    for (int round = 1; warmupSeconds > 0 && round <= warmupRounds; round++) {
      RateSearch.Step step = stepper.run(name + " warm-up", rate, warmupSeconds, 60);
      if (step.passed()) {
        System.out.printf(
            "[benchmark] %s warm: round %d at %d/s sustained (%s)%n",
            name, round, rate, step.result().latency().format());
        return;
      }
      System.out.printf(
          "[benchmark] %s warm-up round %d at %d/s not sustained (%s)%s%n",
          name,
          round,
          rate,
          step.failure(),
          round < warmupRounds ? "; once more" : "; searching anyway");
    }
  }

  /** Runs steps of open-loop traffic and waits for their decisions. */
  private final class Stepper {
    private final TransactionGenerator transactions;
    private final String prefix;
    private final Producer<Transaction> producer;
    private final double maxP99Ms;

    Stepper(
        TransactionGenerator transactions,
        String prefix,
        Producer<Transaction> producer,
        double maxP99Ms) {
      this.transactions = transactions;
      this.prefix = prefix;
      this.producer = producer;
      this.maxP99Ms = maxP99Ms;
    }

    RateSearch.Step run(String what, int rate, int seconds, int drain) throws Exception {
      GroundTruth truth = new GroundTruth();
      DecisionTally tally = new DecisionTally(truth);
      current = tally;
      LoadGenerator generator =
          new LoadGenerator(
              transactions,
              prefix,
              GenerateCommand.sender(producer),
              truth,
              LoadGenerator.Clock.SYSTEM);
      RateSchedule schedule = RateSchedule.constant(rate, Duration.ofSeconds(seconds));
      LoadGenerator.Report sent =
          generator.run(
              schedule,
              n ->
                  System.out.printf(
                      "[benchmark] %s %d/s: sent %d/%d, decided %d%n",
                      what, rate, n, schedule.total(), tally.decided()));
      producer.flush();
      if (generator.failed() > 0) {
        throw new IllegalStateException(
            what + ": " + generator.failed() + " sends failed: " + generator.firstFailure());
      }
      waitFor(tally, Duration.ofSeconds(drain));
      DecisionTally.Result result = tally.result();
      String failure =
          RateSearch.Criteria.forStep(maxP99Ms, schedule.duration())
              .failure(result, sent.lastBehindMicros());
      if (!tally.complete()) {
        // Let the pipeline finish this step's backlog before the next step starts
        long settleStart = System.nanoTime();
        waitFor(tally, Duration.ofSeconds(180));
        System.out.printf(
            "[benchmark] %s %d/s: backlog settled in %.1f s (%d/%d decided)%n",
            what, rate, (System.nanoTime() - settleStart) / 1e9, tally.decided(), truth.size());
      }
      return new RateSearch.Step(rate, result, sent.lastBehindMicros(), failure);
    }

    private void waitFor(DecisionTally tally, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      long nextProgress = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (!tally.complete() && System.nanoTime() < deadline) {
        TimeUnit.MILLISECONDS.sleep(20);
        if (System.nanoTime() > nextProgress) {
          System.out.printf("[benchmark] waiting for decisions: %d%n", tally.decided());
          nextProgress += TimeUnit.SECONDS.toNanos(5);
        }
      }
    }
  }

  /** Receives decisions into the current step's tally on a daemon thread. */
  private Thread receive(Consumer<Decision> consumer, AtomicBoolean running) {
    return DemoRun.receive(
        consumer,
        d ->
            current.add(
                d.getTransactionId(),
                "ALERT".equals(d.getOutcome()),
                d.getEventTimeMs(),
                ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now()),
                d.getEnrichedAtMs(),
                d.getRoutedAtMs(),
                d.getScoredAtMs(),
                d.getDecidedAtMs()),
        running,
        System.out,
        "benchmark-decisions");
  }

  private static void deleteQuietly(PulsarAdmin admin, String topic) {
    try {
      admin.topics().delete(topic, true);
    } catch (PulsarAdminException e) {
      System.out.println("[ceiling] could not delete " + topic + ": " + e.getMessage());
    }
  }
}
