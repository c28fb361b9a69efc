package io.decisionflow.tools;

import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.DecisionsDatabase;
import io.decisionflow.deploy.LocalModelStore;
import io.decisionflow.deploy.LocalPostgres;
import io.decisionflow.deploy.MerchantRegistry;
import io.decisionflow.deploy.ModelRegistry;
import io.decisionflow.deploy.ModelStore;
import io.decisionflow.deploy.Pipeline;
import io.decisionflow.deploy.Provisioner;
import io.decisionflow.models.synthetic.TransactionGenerator;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.DeadLetter;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.stages.enrich.FeatureSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.apache.pulsar.client.api.SubscriptionMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The local demo: deploys a business unit's pipeline, streams synthetic transactions through it at
 * a fixed rate, and prints what came out.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Deploy a business unit's pipeline, load the synthetic generator's merchant table, publish",
      "synthetic transactions at a fixed rate (open loop), and print a summary: decisions/s,",
      "end-to-end latency from event time, alerts, dead letters. pulsar-deploy/demo.sh starts",
      "Pulsar and builds first."
    })
final class DemoCommand implements Callable<Integer> {

  private static final String POSTGRES_SINK = "decisions-postgres";
  private static final String ARCHIVE_SINK = "decisions-archive";

  /** The development credentials of the local store (pulsar-deploy/s3-local.sh). */
  private static final String LOCAL_S3_ACCESS_KEY = "decisionflow";

  private static final String LOCAL_S3_SECRET_KEY = "decisionflow-local-secret";

  @Mixin ClusterOptions cluster;

  @Option(
      names = "--rate",
      defaultValue = "100",
      description = "Transactions per second (${DEFAULT-VALUE}).")
  int rate;

  @Option(
      names = "--count",
      defaultValue = "2000",
      description = "Transactions to publish (${DEFAULT-VALUE}).")
  int count;

  @Option(
      names = "--malformed",
      defaultValue = "3",
      description =
          "Malformed records to publish among them, to show dead letters (${DEFAULT-VALUE}).")
  int malformed;

  @Option(
      names = "--champion-model",
      defaultValue = "models/target/models/fraud-v1",
      description = "Model published to the champion slot (${DEFAULT-VALUE}).")
  Path championModel;

  @Option(
      names = "--challenger-model",
      defaultValue = "models/target/models/fraud-v2",
      description = "Model published to every other slot (${DEFAULT-VALUE}).")
  Path challengerModel;

  @Option(
      names = "--model-store",
      description =
          "Model store the demo publishes into (default: model-store/feature-spec-<version> in"
              + " DECISIONFLOW_HOME, else ~/.cache/decisionflow).")
  Path modelStore;

  @Option(
      names = "--warmup-seconds",
      defaultValue = "10",
      description =
          "Seconds of traffic at --rate before the measured run, reported apart (${DEFAULT-VALUE}).")
  int warmupSeconds;

  @Option(names = "--seed", description = "Generator seed (default: the current time).")
  Long seed;

  @Option(
      names = "--skip-deploy",
      description =
          "Stream through the pipeline already deployed (e.g. with pulsar-admin); implies"
              + " --keep-running.")
  boolean skipDeploy;

  @Option(
      names = "--keep-running",
      description = "Leave the pipeline deployed when the demo ends (default: undeploy it).")
  boolean keepRunning;

  @Option(
      names = "--no-postgres",
      description =
          "Leave out the decisions-postgres sink (by default the demo runs a PostgreSQL of its own"
              + " in DECISIONFLOW_HOME/postgres/demo and the sink writes every decision there).")
  boolean noPostgres;

  @Option(
      names = "--archive-endpoint",
      defaultValue = "http://127.0.0.1:9000",
      description =
          "S3-compatible store of the decisions archive, with the development credentials of"
              + " pulsar-deploy/s3-local.sh (${DEFAULT-VALUE}).")
  String archiveEndpoint;

  @Option(names = "--no-archive", description = "Leave out the decisions-archive sink.")
  boolean noArchive;

  @Option(
      names = "--timeout",
      defaultValue = "120",
      description =
          "Seconds to wait for the last decisions after the last send (${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Override
  public Integer call() throws Exception {
    if (rate < 1 || count < 1 || malformed < 0) {
      throw new IllegalArgumentException("--rate and --count must be >= 1 and --malformed >= 0");
    }
    Path champion = existingModel("--champion-model", championModel);
    Path challenger = existingModel("--challenger-model", challengerModel);
    try (PulsarAdmin admin = cluster.admin();
        PulsarClient client = cluster.client()) {
      Pipeline pipeline = cluster.pipeline(admin, line -> System.out.println("[deploy] " + line));
      BusinessUnit unit = cluster.businessUnit(pipeline);
      List<String> slots = pipeline.modelSlots();
      if (noArchive || skipDeploy) {
        unit.pipeline.sinks.remove(ARCHIVE_SINK);
      } else if (unit.pipeline.sinks.containsKey(ARCHIVE_SINK)) {
        useLocalArchive(unit.pipeline.sinks.get(ARCHIVE_SINK));
      }
      LocalPostgres postgres = null;
      if (noPostgres || skipDeploy) {
        unit.pipeline.sinks.remove(POSTGRES_SINK);
      } else if (unit.pipeline.sinks.containsKey(POSTGRES_SINK)) {
        postgres = startPostgres(unit.pipeline.sinks.get(POSTGRES_SINK));
      }
      try {
        run(admin, client, pipeline, unit, slots, champion, challenger, postgres);
      } finally {
        if (postgres != null) {
          postgres.stop();
        }
      }
    }
    return 0;
  }

  /**
   * Puts back the unit's configured routing table if the unit's {@code routing} topic holds another
   * one, e.g. a rollback the guard published in an earlier run: each demo starts from the unit's
   * file.
   */
  static void resetRouting(PulsarClient client, Pipeline pipeline, BusinessUnit unit)
      throws Exception {
    BusinessNamespace ns = unit.pipelineNamespace();
    io.decisionflow.deploy.RoutingRegistry registry =
        new io.decisionflow.deploy.RoutingRegistry(
            client, line -> System.out.println("[routing] " + line));
    java.util.Optional<io.decisionflow.schemas.control.RoutingTable> current = registry.current(ns);
    if (current.isEmpty()) {
      return;
    }
    java.util.Optional<io.decisionflow.schemas.control.RoutingTable> configured =
        pipeline.configuredRoutingTable(unit);
    if (configured.isEmpty()
        || io.decisionflow.stages.route.RoutingTables.sameRouting(
            current.get(), configured.get())) {
      return;
    }
    System.out.printf(
        "[routing] %s routes by %s (%s), left by an earlier run; putting back the unit's table%n",
        ns,
        current.get().getVersion(),
        io.decisionflow.stages.route.RoutingTables.describe(current.get()));
    registry.publish(
        ns,
        configured.get().toBuilder()
            .setVersion(configured.get().getVersion() + "-demo-" + System.currentTimeMillis())
            .setReason("demo: the unit's configured table")
            .build(),
        pipeline.routingSlots(unit));
  }

  /** Points the archive sink at the local store, which must answer. */
  private void useLocalArchive(BusinessUnit.SinkSettings sink) {
    try {
      java.net.HttpURLConnection c =
          (java.net.HttpURLConnection)
              java.net.URI.create(archiveEndpoint).toURL().openConnection();
      c.setConnectTimeout(2000);
      c.getResponseCode();
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException(
          "--archive-endpoint "
              + archiveEndpoint
              + " does not answer: start the local store (pulsar-deploy/s3-local.sh start), or"
              + " leave the archive out with --no-archive");
    }
    sink.configs.put("endpoint", archiveEndpoint);
    // Objects every 5 s, so that the summary can count the run's rows in the archive.
    sink.configs.put("maxBatchAgeMs", 5000);
    sink.secretsFromEnv.clear();
    sink.secrets.put("accessKey", LOCAL_S3_ACCESS_KEY);
    sink.secrets.put("secretKey", LOCAL_S3_SECRET_KEY);
    System.out.printf(
        "[archive] decisions to s3://%s/ at %s%n", sink.configs.get("bucket"), archiveEndpoint);
  }

  /**
   * Starts the demo's own PostgreSQL, migrates the decisions table, and points the sink at it, with
   * the credentials as secrets.
   */
  private LocalPostgres startPostgres(BusinessUnit.SinkSettings sink) throws Exception {
    long start = System.nanoTime();
    String password = "demo-" + Long.toHexString(new java.security.SecureRandom().nextLong());
    LocalPostgres postgres =
        LocalPostgres.start(home().resolve("postgres").resolve("demo"), 0, password);
    DecisionsDatabase.Migration migration =
        DecisionsDatabase.migrate(postgres.jdbcUrl(), LocalPostgres.USER, password);
    sink.configs.put("jdbcUrl", postgres.jdbcUrl());
    sink.secretsFromEnv.clear();
    sink.secrets.put("userName", LocalPostgres.USER);
    sink.secrets.put("password", password);
    System.out.printf(
        "[postgres] PostgreSQL at %s, up in %.1f s; decisions table at schema version %s%n",
        postgres.jdbcUrl(), (System.nanoTime() - start) / 1e9, migration.version());
    return postgres;
  }

  private void run(
      PulsarAdmin admin,
      PulsarClient client,
      Pipeline pipeline,
      BusinessUnit unit,
      List<String> slots,
      Path champion,
      Path challenger,
      LocalPostgres postgres)
      throws Exception {
    if (!skipDeploy) {
      new Provisioner(admin, line -> System.out.println("[deploy] " + line)).provision(unit, slots);
    }
    // The generator's merchant table before the first transaction, so that enrich computes the
    // features the labels were drawn from (and the models trained on): read at its start, or
    // live if it already runs.
    loadMerchants(client, unit.pipelineNamespace());
    if (!skipDeploy) {
      // Models first: each score function serves its slot's announced model from the start.
      ModelStore store = new LocalModelStore(store());
      ModelRegistry registry =
          new ModelRegistry(client, line -> System.out.println("[models] " + line));
      for (String slot : slots) {
        registry.publish(
            unit.pipelineNamespace(),
            slot,
            "champion".equals(slot) ? champion : challenger,
            store,
            "demo");
      }
      resetRouting(client, pipeline, unit);
      pipeline.deploy(unit, Map.of());
    }
    pipeline.awaitRunning(unit, Duration.ofSeconds(180));
    try {
      stream(client, unit, postgres);
    } finally {
      if (keepRunning || skipDeploy) {
        System.out.println(
            "[demo] pipeline left running in "
                + unit.pipelineNamespace()
                + "; remove it with: java -jar tools/target/decisionflow-tools.jar undeploy --unit "
                + unit.name);
      } else {
        pipeline.undeploy(unit);
      }
    }
  }

  /**
   * Publishes the generator's merchant table to the unit's {@code merchants} topic, and deletes the
   * merchants it leaves unknown (a table loaded earlier may hold them).
   */
  static void loadMerchants(PulsarClient client, BusinessNamespace ns) throws Exception {
    TransactionGenerator generator =
        new TransactionGenerator(TransactionGenerator.Options.defaults(0));
    MerchantRegistry.Summary loaded =
        new MerchantRegistry(client, line -> System.out.println("[merchants] " + line))
            .publish(
                ns,
                MerchantRegistry.changes(generator.merchantTable(), generator.unknownMerchants()));
    System.out.printf(
        "[merchants] %s: loaded the generator's merchant table, %d merchants (%d deleted:"
            + " unknown on purpose)%n",
        ns, loaded.published(), loaded.deleted());
  }

  private Path existingModel(String option, Path dir) {
    Path model = cluster.project().resolve(dir).normalize();
    if (!skipDeploy && !Files.isDirectory(model)) {
      throw new IllegalArgumentException(
          option + " " + model + " is not a directory: build first (mvn package)");
    }
    return model;
  }

  /**
   * Waits (up to 60 s) until the sink has stored a row for every decision of this run, and says how
   * many rows there are: one per transaction id.
   */
  private static String stored(LocalPostgres postgres, String prefix, long decided)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    long rows;
    while (true) {
      try (java.sql.Connection c = postgres.connect();
          java.sql.PreparedStatement q =
              c.prepareStatement("SELECT count(*) FROM decisions WHERE card_id LIKE ?")) {
        q.setString(1, prefix + "%");
        try (java.sql.ResultSet rs = q.executeQuery()) {
          rs.next();
          rows = rs.getLong(1);
        }
      }
      if (rows >= decided || System.nanoTime() > deadline) {
        break;
      }
      Thread.sleep(250);
    }
    return String.format(
        "postgres        %d rows in table decisions for %d decisions of this run (%s), one per"
            + " transaction id%n                (%s; psql -h 127.0.0.1 -p %d -U %s %s)",
        rows,
        decided,
        rows == decided ? "all stored" : (decided - rows) + " MISSING",
        postgres.jdbcUrl(),
        postgres.port(),
        LocalPostgres.USER,
        LocalPostgres.DATABASE);
  }

  /**
   * Waits (up to 60 s) until the archive holds a row for every decision of this run, and says how
   * many rows and objects it holds for the run.
   */
  private String archived(
      BusinessUnit.SinkSettings sink, BusinessNamespace ns, String prefix, long decided)
      throws Exception {
    String bucket = String.valueOf(sink.configs.get("bucket"));
    String folder = "decisions/tenant=" + ns.tenant() + "/namespace=" + ns.namespace() + "/";
    com.fasterxml.jackson.databind.ObjectMapper json =
        new com.fasterxml.jackson.databind.ObjectMapper();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    try (software.amazon.awssdk.services.s3.S3Client s3 =
        io.decisionflow.stages.score.store.S3Clients.create(
            io.decisionflow.stages.score.store.ObjectStoreSettings.at(
                archiveEndpoint, LOCAL_S3_ACCESS_KEY, LOCAL_S3_SECRET_KEY))) {
      while (true) {
        java.util.Map<String, Integer> copies = new java.util.HashMap<>();
        java.util.Set<String> objects = new java.util.HashSet<>();
        for (software.amazon.awssdk.services.s3.model.S3Object object :
            s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(folder)).contents()) {
          try (java.io.BufferedReader lines =
              new java.io.BufferedReader(
                  new java.io.InputStreamReader(
                      new java.util.zip.GZIPInputStream(
                          s3.getObject(b -> b.bucket(bucket).key(object.key()))),
                      java.nio.charset.StandardCharsets.UTF_8))) {
            String line;
            while ((line = lines.readLine()) != null) {
              com.fasterxml.jackson.databind.JsonNode row = json.readTree(line);
              String id = row.path("transaction_id").asText();
              if (row.path("card_id").asText().startsWith(prefix)) {
                copies.merge(id, 1, Integer::sum);
                objects.add(object.key());
              }
            }
          }
        }
        long rows = copies.values().stream().mapToLong(Integer::longValue).sum();
        if (copies.size() >= decided || System.nanoTime() > deadline) {
          return String.format(
              "archive         %d rows in %d objects for %d decisions of this run (%s, %d"
                  + " transactions twice)%n                (s3://%s/%s...: gzip JSON lines"
                  + " by date and hour)",
              rows,
              objects.size(),
              decided,
              copies.size() >= decided ? "all archived" : (decided - copies.size()) + " MISSING",
              copies.values().stream().filter(c -> c > 1).count(),
              bucket,
              folder);
        }
        Thread.sleep(1000);
      }
    }
  }

  /** DECISIONFLOW_HOME, else ~/.cache/decisionflow. */
  static Path home() {
    String home = System.getenv("DECISIONFLOW_HOME");
    return home != null && !home.isBlank()
        ? Path.of(home)
        : Path.of(System.getProperty("user.home"), ".cache", "decisionflow");
  }

  private Path store() {
    if (modelStore != null) {
      return modelStore.toAbsolutePath().normalize();
    }
    return defaultModelStore();
  }

  /** The local model store of the current feature spec, in DECISIONFLOW_HOME. */
  static Path defaultModelStore() {
    // One store per feature spec: the build trains v1 and v2 again for each spec, and a store
    // keeps one artifact per version.
    return home()
        .resolve("model-store")
        .resolve("feature-spec-" + FeatureSpec.VERSION)
        .toAbsolutePath()
        .normalize();
  }

  private void stream(PulsarClient client, BusinessUnit unit, LocalPostgres postgres)
      throws Exception {
    BusinessNamespace ns = unit.pipelineNamespace();
    String subscription = "demo-" + System.currentTimeMillis();
    try (Consumer<Decision> decisions =
            client
                .newConsumer(Topics.DECISIONS.schema())
                .topic(Topics.DECISIONS.in(ns))
                .subscriptionName(subscription)
                .subscriptionInitialPosition(SubscriptionInitialPosition.Latest)
                // Non-durable: a finished run leaves no subscription to hold a backlog (which
                // would, at the namespace's backlog quota, block the pipeline's producers)
                .subscriptionMode(SubscriptionMode.NonDurable)
                .subscribe();
        Consumer<DeadLetter> deadLetters =
            client
                .newConsumer(Topics.DEAD_LETTERS.schema())
                .topic(Topics.DEAD_LETTERS.in(ns))
                .subscriptionName(subscription)
                .subscriptionInitialPosition(SubscriptionInitialPosition.Latest)
                // Non-durable: a finished run leaves no subscription to hold a backlog (which
                // would, at the namespace's backlog quota, block the pipeline's producers)
                .subscriptionMode(SubscriptionMode.NonDurable)
                .subscribe();
        Producer<Transaction> producer =
            client
                .newProducer(Topics.TRANSACTIONS.schema())
                .topic(Topics.TRANSACTIONS.in(ns))
                .enableBatching(true)
                .batchingMaxPublishDelay(1, TimeUnit.MILLISECONDS)
                .blockIfQueueFull(true)
                .create();
        Producer<byte[]> raw =
            client.newProducer(Schema.BYTES).topic(Topics.TRANSACTIONS.in(ns)).create()) {
      long runSeed = seed != null ? seed : System.currentTimeMillis();
      TransactionGenerator generator =
          new TransactionGenerator(TransactionGenerator.Options.defaults(runSeed));
      DemoRun demo =
          new DemoRun(
              generator, "run" + runSeed + "-", producer, raw, decisions, deadLetters, System.out);
      try {
        // First decisions: the score functions load their model after they report running.
        DemoRun.Summary first =
            demo.stream("first decisions", rate, 10, 0, Duration.ofSeconds(180));
        if (first.missing() > 0) {
          throw new IllegalStateException(
              first.missing()
                  + " of 10 first transactions got no decision in 180 s; check the functions:"
                  + " pulsar-admin functions status --tenant "
                  + ns.tenant()
                  + " --namespace "
                  + ns.namespace()
                  + " --name <enrich|route|score-champion|decide>");
        }
        long warmed = 0;
        if (warmupSeconds > 0) {
          DemoRun.Summary warm =
              demo.stream(
                  "warm-up", rate, rate * warmupSeconds, 0, Duration.ofSeconds(timeoutSeconds));
          System.out.println("[demo] warm-up (excluded from the summary): " + warm.line());
          warmed = warm.decided();
        }
        DemoRun.Summary summary =
            demo.stream("run", rate, count, malformed, Duration.ofSeconds(timeoutSeconds));
        System.out.println();
        System.out.println(summary.render(ns.toString(), rate, runSeed));
        if (postgres != null) {
          long decided = first.decided() + summary.decided() + warmed;
          System.out.println(stored(postgres, "run" + runSeed + "-", decided));
        }
        BusinessUnit.SinkSettings archive = unit.pipeline.sinks.get(ARCHIVE_SINK);
        if (archive != null) {
          long decided = first.decided() + summary.decided() + warmed;
          System.out.println(archived(archive, ns, "run" + runSeed + "-", decided));
        }
      } finally {
        demo.stop();
      }
    }
  }
}
