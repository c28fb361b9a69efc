package io.decisionflow.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.FunctionDeployer;
import io.decisionflow.deploy.LocalPostgres;
import io.decisionflow.deploy.MerchantRegistry;
import io.decisionflow.deploy.Pipeline;
import io.decisionflow.deploy.Provisioner;
import io.decisionflow.models.synthetic.TransactionGenerator;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.Transaction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * Two regions on two real standalones ({@code us-east}, {@code eu-west}), each running the payments
 * pipeline on its own transactions with a PostgreSQL of its own: decisions, alerts and dead letters
 * replicate both ways, transactions do not, a replicated decision lands once in the other region's
 * PostgreSQL, and a region that is stopped mid-stream neither stops the other nor loses anything
 * once it is back (the failover drill of the README's runbook).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 25, unit = TimeUnit.MINUTES)
class GeoReplicationIT {

  private static final Duration DEPLOYED_WITHIN = Duration.ofMinutes(4);
  private static final Duration DECIDED_WITHIN = Duration.ofMinutes(3);

  /** One region's side of the test. */
  private static final class Side {
    final Regions.Region region;
    final Pipeline pipeline;
    final LocalPostgres postgres;
    final String database;
    BusinessUnit unit;
    PulsarClient client;
    TopicCollector collector;
    Producer<Transaction> transactions;

    /** Decisions made here (not replicated), by transaction id. */
    final Map<String, Decision> decidedHere = new ConcurrentHashMap<>();

    /** Transaction id to the cluster a replicated decision came from. */
    final Map<String, String> replicatedIn = new ConcurrentHashMap<>();

    /** Transaction ids of replicated alerts. */
    final Set<String> alertsReplicatedIn = ConcurrentHashMap.newKeySet();

    Side(Regions.Region region, Pipeline pipeline, LocalPostgres postgres, String database) {
      this.region = region;
      this.pipeline = pipeline;
      this.postgres = postgres;
      this.database = database;
    }

    String name() {
      return region.name();
    }
  }

  private Regions regions;
  private final Map<String, Side> sides = new LinkedHashMap<>();
  private String tenant;

  @BeforeAll
  void deployThePipelineInBothRegions() throws Exception {
    regions = Regions.get();
    tenant = "it-geo-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
    Path model = regions.projectDir().resolve("models/target/models/fraud-v1");
    assertThat(model).isDirectory();
    TransactionGenerator tables =
        new TransactionGenerator(TransactionGenerator.Options.defaults(0));
    for (String name : regions.names()) {
      Regions.Region region = regions.region(name);
      Path pgDir =
          Path.of("target/postgres")
              .resolve("geo-" + name + "-" + ProcessHandle.current().pid())
              .toAbsolutePath();
      Files.createDirectories(pgDir.getParent());
      LocalPostgres postgres =
          LocalPostgres.start(pgDir, 0, "it-" + Long.toHexString(System.nanoTime()));
      Pipeline base =
          new Pipeline(
              region.admin(),
              regions.projectDir(),
              line -> System.out.println("[" + name + "] " + line));
      // The guard is left out: a JVM less per region on a 2-core machine, and nothing here rolls
      // back.
      Pipeline pipeline = base.topology(base.functionsDir(), Set.of("guard"));
      Side side = new Side(region, pipeline, postgres, "decisions_" + name.replace('-', '_'));
      BusinessUnit unit = BusinessUnit.load(base.businessUnitsDir(), "payments");
      unit.tenant = tenant;
      unit.onClusters(regions.names());
      unit.pipeline.sinks.clear();
      TestUnits.withPostgresSink(unit, postgres, side.database);
      side.unit = unit;
      side.client = region.newClient();
      sides.put(name, side);

      List<String> provisioned =
          new Provisioner(region.admin(), line -> System.out.println("[" + name + "] " + line))
              .provision(unit, pipeline.modelSlots());
      assertThat(provisioned)
          .contains(
              "set replication of persistent://"
                  + unit.pipelineNamespace()
                  + "/decisions to [eu-west, us-east]");
      new MerchantRegistry(side.client, System.out::println)
          .publish(
              unit.pipelineNamespace(),
              MerchantRegistry.changes(tables.merchantTable(), tables.unknownMerchants()));
      Pipeline.Result result =
          pipeline.deploy(unit, pipeline.modelLocationOverrides(model.toString()));
      assertThat(result.functions().values()).containsOnly(FunctionDeployer.Outcome.CREATED);
      collect(side);
      side.transactions =
          side.client
              .newProducer(Topics.TRANSACTIONS.schema())
              .topic(Topics.TRANSACTIONS.in(unit.pipelineNamespace()))
              .sendTimeout(5, TimeUnit.SECONDS)
              .create();
      // One region at a time: a dozen function JVMs starting at once starve two cores.
      pipeline.awaitRunning(unit, DEPLOYED_WITHIN);
    }
  }

  private static void collect(Side side) throws PulsarClientException {
    BusinessNamespace ns = side.unit.pipelineNamespace();
    side.collector = new TopicCollector(side.client);
    side.collector.collectMessages(
        Topics.DECISIONS.in(ns),
        Topics.DECISIONS.schema(),
        message -> {
          Decision decision = message.getValue();
          if (message.isReplicated()) {
            side.replicatedIn.put(decision.getTransactionId(), message.getReplicatedFrom());
          } else {
            side.decidedHere.put(decision.getTransactionId(), decision);
          }
        });
    side.collector.collectMessages(
        Topics.FRAUD_ALERTS.in(ns),
        Topics.FRAUD_ALERTS.schema(),
        message -> {
          if (message.isReplicated()) {
            side.alertsReplicatedIn.add(message.getValue().getTransactionId());
          }
        });
  }

  @AfterAll
  void undeploy() throws Exception {
    for (Side side : sides.values()) {
      if (side.collector != null) {
        side.collector.close();
      }
      try {
        if (side.transactions != null) {
          side.transactions.close();
        }
        side.client.close();
        side.pipeline.undeploy(side.unit);
      } catch (Exception e) {
        System.err.println(side.name() + ": undeploy failed: " + e.getMessage());
      }
      side.postgres.stop();
    }
  }

  @Test
  @Order(1)
  void decisionsReplicateBothWaysOnceIntoEachPostgresAndTransactionsStayHome() throws Exception {
    // Given each region's own stream of transactions
    Map<String, Set<String>> sent = new LinkedHashMap<>();
    for (Side side : sides.values()) {
      sent.put(side.name(), send(side, "both-" + side.name() + "-", 40));
    }
    Set<String> all = union(sent.values());

    // Then each region decides its own transactions, and only those
    for (Side side : sides.values()) {
      await()
          .atMost(DECIDED_WITHIN)
          .until(() -> side.decidedHere.keySet().containsAll(sent.get(side.name())));
    }
    for (Side side : sides.values()) {
      Set<String> othersOnly = new java.util.HashSet<>(all);
      othersOnly.removeAll(sent.get(side.name()));
      assertThat(side.decidedHere.keySet()).doesNotContainAnyElementsOf(othersOnly);
    }

    // And reads the other region's decisions, replicated from it
    for (Side side : sides.values()) {
      Side other = other(side);
      await()
          .atMost(DECIDED_WITHIN)
          .until(() -> side.replicatedIn.keySet().containsAll(sent.get(other.name())));
      assertThat(sent.get(other.name()))
          .allSatisfy(id -> assertThat(side.replicatedIn.get(id)).isEqualTo(other.name()));
    }
    // (alerts replicate too, when there are any)
    for (Side side : sides.values()) {
      Side other = other(side);
      Set<String> otherAlerts = new java.util.HashSet<>();
      other.decidedHere.forEach(
          (id, d) -> {
            if (sent.get(other.name()).contains(id) && "ALERT".equals(d.getOutcome())) {
              otherAlerts.add(id);
            }
          });
      await().atMost(DECIDED_WITHIN).until(() -> side.alertsReplicatedIn.containsAll(otherAlerts));
    }

    // And each region's PostgreSQL holds every decision of both regions once, as decided
    for (Side side : sides.values()) {
      await()
          .atMost(DECIDED_WITHIN)
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> rows(side, "both-").keySet().equals(all));
      Map<String, Double> rows = rows(side, "both-");
      for (Side decider : sides.values()) {
        assertThat(sent.get(decider.name()))
            .allSatisfy(
                id -> assertThat(rows.get(id)).isEqualTo(decider.decidedHere.get(id).getScore()));
      }
    }
    // And no transaction crossed: each region's transactions topic holds its own only
    for (Side side : sides.values()) {
      String topic = Topics.TRANSACTIONS.in(side.unit.pipelineNamespace());
      assertThat(side.region.admin().topics().getStats(topic).getReplication()).isEmpty();
      assertThat(side.region.admin().topics().getStats(topic).getMsgInCounter())
          .isEqualTo(sent.get(side.name()).size());
    }
  }

  @Test
  @Order(2)
  void failoverDrillARegionStoppedMidStreamLosesNothingAndTheOtherKeepsDeciding() throws Exception {
    Side east = sides.get(Regions.US_EAST);
    Side west = sides.get(Regions.EU_WEST);
    Map<String, Sender> senders = new LinkedHashMap<>();
    for (Side side : sides.values()) {
      Sender sender = new Sender(side, "drill-" + side.name() + "-", 25);
      senders.put(side.name(), sender);
      sender.start();
    }
    Sender eastSender = senders.get(east.name());
    Sender westSender = senders.get(west.name());
    long stopAt = 0;
    long stoppedAt = 0;
    long restartAt = 0;
    long brokerBackAt = 0;
    long functionsBackAt = 0;
    try {
      // Given both regions deciding their streams
      await().atMost(Duration.ofSeconds(60)).until(() -> westSender.acked.size() >= 50);

      // When eu-west stops mid-stream
      stopAt = System.nanoTime();
      regions.stop(west.name());
      stoppedAt = System.nanoTime();
      assertThat(west.region.answers()).isFalse();
      long refusedAtStop = westSender.refused.get();

      // Then us-east keeps deciding its own traffic while eu-west is down
      await().atMost(Duration.ofSeconds(30)).until(() -> eastSender.acked.size() >= 400);
      Set<String> eastDuringOutage = Set.copyOf(eastSender.acked);
      await()
          .atMost(DECIDED_WITHIN)
          .until(() -> east.decidedHere.keySet().containsAll(eastDuringOutage));
      // (a send waits up to its 5 s timeout before it is refused)
      await().atMost(Duration.ofSeconds(30)).until(() -> westSender.refused.get() > refusedAtStop);
      assertThat(west.region.answers()).isFalse();

      // When eu-west comes back
      restartAt = System.nanoTime();
      regions.start(west.name());
      brokerBackAt = System.nanoTime();
      west.pipeline.awaitRunning(west.unit, DEPLOYED_WITHIN);
      functionsBackAt = System.nanoTime();
      long westAckedAtReturn = westSender.acked.size();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> westSender.acked.size() >= westAckedAtReturn + 50);
    } finally {
      senders.values().forEach(Sender::stop);
    }

    // Then every transaction either region accepted is decided in its region, replicated to the
    // other, and in both PostgreSQL databases once
    for (Side side : sides.values()) {
      Set<String> acked = senders.get(side.name()).acked;
      Side other = other(side);
      await().atMost(DECIDED_WITHIN).until(() -> side.decidedHere.keySet().containsAll(acked));
      await().atMost(DECIDED_WITHIN).until(() -> other.replicatedIn.keySet().containsAll(acked));
    }
    long decidedEverywhereAt = System.nanoTime();
    Set<String> all = union(List.of(eastSender.acked, westSender.acked));
    Set<String> maybe = union(List.of(eastSender.refusedIds, westSender.refusedIds));
    Map<String, Integer> rowCounts = new HashMap<>();
    for (Side side : sides.values()) {
      await()
          .atMost(DECIDED_WITHIN)
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> rows(side, "drill-").keySet().containsAll(all));
      Set<String> stored = rows(side, "drill-").keySet();
      Set<String> unexpected = new java.util.TreeSet<>(stored);
      unexpected.removeAll(all);
      unexpected.removeAll(maybe);
      assertThat(unexpected).as("rows in %s for transactions never sent", side.name()).isEmpty();
      rowCounts.put(side.name(), stored.size());
    }
    System.out.printf(
        "[drill] sent: us-east %d, eu-west %d (refused while down: %d); decided: us-east %d,"
            + " eu-west %d; replicated: into eu-west %d, into us-east %d; rows: us-east %d,"
            + " eu-west %d%n",
        eastSender.acked.size(),
        westSender.acked.size(),
        westSender.refused.get(),
        count(east.decidedHere.keySet(), "drill-"),
        count(west.decidedHere.keySet(), "drill-"),
        count(west.replicatedIn.keySet(), "drill-"),
        count(east.replicatedIn.keySet(), "drill-"),
        rowCounts.get(east.name()),
        rowCounts.get(west.name()));
    System.out.printf(
        "[drill] eu-west: stopped in %.1f s, down %.1f s; broker back %.1f s and its pipeline"
            + " running %.1f s after the restart began; every decision in both regions %.1f s"
            + " after that%n",
        seconds(stoppedAt - stopAt),
        seconds(restartAt - stoppedAt),
        seconds(brokerBackAt - restartAt),
        seconds(functionsBackAt - restartAt),
        seconds(decidedEverywhereAt - functionsBackAt));
    assertThat(eastSender.refused.get()).as("us-east never refused a transaction").isZero();
  }

  /** Sends transactions to one region at a steady rate until stopped; keeps what was acked. */
  private static final class Sender {
    final Side side;
    final String prefix;
    final int perSecond;
    final Set<String> acked = ConcurrentHashMap.newKeySet();
    final AtomicLong refused = new AtomicLong();
    // A send refused as the broker went down may still have been stored before it died: such a
    // transaction may be decided, or not, and both are right. Every acked one must be.
    final Set<String> refusedIds = ConcurrentHashMap.newKeySet();
    final AtomicBoolean running = new AtomicBoolean(true);
    final Thread thread;

    Sender(Side side, String prefix, int perSecond) {
      this.side = side;
      this.prefix = prefix;
      this.perSecond = perSecond;
      this.thread = new Thread(this::run, "send-" + side.name());
      thread.setDaemon(true);
    }

    void start() {
      thread.start();
    }

    void stop() {
      running.set(false);
      try {
        thread.join(TimeUnit.SECONDS.toMillis(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private void run() {
      TransactionGenerator generator =
          new TransactionGenerator(TransactionGenerator.Options.defaults(prefix.hashCode()));
      long gap = TimeUnit.SECONDS.toNanos(1) / perSecond;
      long next = System.nanoTime();
      for (int i = 0; running.get(); i++) {
        String id = prefix + i;
        Transaction txn = transaction(generator, id);
        try {
          side.transactions.send(txn);
          acked.add(id);
        } catch (PulsarClientException e) {
          refused.incrementAndGet(); // the region is down, or went down with the send in flight
          refusedIds.add(id);
        }
        next += gap;
        long wait = next - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait); // pacing the sender, not waiting for a result
        } else {
          next = System.nanoTime();
        }
      }
    }
  }

  private static Set<String> send(Side side, String prefix, int n) throws PulsarClientException {
    TransactionGenerator generator =
        new TransactionGenerator(TransactionGenerator.Options.defaults(prefix.hashCode()));
    Set<String> ids = new java.util.HashSet<>();
    for (int i = 0; i < n; i++) {
      String id = prefix + i;
      side.transactions.send(transaction(generator, id));
      ids.add(id);
    }
    return ids;
  }

  /** The generator's next transaction, at the current time, with the id {@code id}. */
  private static Transaction transaction(TransactionGenerator generator, String id) {
    return generator.next(System.currentTimeMillis()).transaction().toBuilder()
        .setTransactionId(id)
        .build();
  }

  private Side other(Side side) {
    return sides.values().stream().filter(s -> s != side).findFirst().orElseThrow();
  }

  /** Transaction id to score of the rows of the side's decisions table with {@code prefix}. */
  private static Map<String, Double> rows(Side side, String prefix) throws Exception {
    return PostgresServer.scores(side.postgres, side.database, prefix);
  }

  private static Set<String> union(java.util.Collection<Set<String>> sets) {
    Set<String> all = new java.util.HashSet<>();
    sets.forEach(all::addAll);
    return all;
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }

  private static long count(Set<String> ids, String prefix) {
    return ids.stream().filter(id -> id.startsWith(prefix)).count();
  }
}
