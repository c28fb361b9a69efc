package io.decisionflow.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.FunctionDeployer;
import io.decisionflow.deploy.Pipeline;
import io.decisionflow.deploy.RoutingRegistry;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.control.RoutingArm;
import io.decisionflow.schemas.control.RoutingStatus;
import io.decisionflow.schemas.control.RoutingTable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Schema;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Automated rollback on a real standalone: a whole pipeline routes 50/50 to a champion serving the
 * trained model and a challenger serving a model that fails (NaN) for every transaction above 0, so
 * every challenger record is scored by the fallback rules. The guard function publishes a table
 * that gives the challenger's weight to the champion, with the reason; the route function applies
 * it, and from then on every transaction is decided by the champion.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class GuardRollbackIT {

  private static final String VERSION = "it-guard-" + UUID.randomUUID().toString().substring(0, 6);
  private static final String ROLLBACK = VERSION + "-rollback-challenger";

  private TopicCollector collector;
  private PulsarStandalone pulsar;
  private BusinessUnit unit;
  private BusinessNamespace ns;
  private Pipeline pipeline;
  private Path faultyDir;
  private final List<RoutingTable> tables = new CopyOnWriteArrayList<>();
  private final List<RoutingStatus> statuses = new CopyOnWriteArrayList<>();
  private final Map<String, Decision> decisions = new ConcurrentHashMap<>();

  @BeforeAll
  void deployAPipelineWhoseChallengerAlwaysFails() throws Exception {
    pulsar = PulsarStandalone.get();
    collector = new TopicCollector(pulsar.client());
    unit = TestUnits.isolated(pulsar.projectDir(), "payments");
    ns = unit.pipelineNamespace();
    pipeline = new Pipeline(pulsar.admin(), pulsar.projectDir(), System.out::println);
    faultyDir = Files.createTempDirectory("guard-faulty-model");
    Path faulty = FaultyModels.nanAboveAmount(faultyDir.resolve("model"), 0);

    Map<String, Map<String, Object>> overrides =
        new LinkedHashMap<>(pipeline.modelLocationOverrides(pulsar.model().toString()));
    overrides.put(
        "score-challenger",
        Map.of(
            "modelLocation", faulty.toString(),
            "breakerWindowCalls", 4,
            "breakerOpenSeconds", 5,
            "breakerProbes", 1));
    overrides.put(
        "route",
        Map.of(
            "routingVersion",
            VERSION,
            "arms",
            List.of(
                Map.of("name", "champion", "slot", "champion", "weight", 50),
                Map.of("name", "challenger", "slot", "challenger", "weight", 50))));
    overrides.put("guard", Map.of("windowSeconds", 30, "minRecords", 20, "cooldownSeconds", 30));
    Pipeline.Result result = pipeline.deploy(unit, overrides);
    assertThat(result.functions()).containsKey("guard");
    assertThat(result.functions().values()).containsOnly(FunctionDeployer.Outcome.CREATED);

    collect(Topics.ROUTING.in(ns), Topics.ROUTING.schema(), tables::add);
    collect(Topics.ROUTING_STATUS.in(ns), Topics.ROUTING_STATUS.schema(), statuses::add);
    collect(
        Topics.DECISIONS.in(ns),
        Topics.DECISIONS.schema(),
        d -> decisions.put(d.getTransactionId(), d));
    pipeline.awaitRunning(unit, Duration.ofMinutes(4));
  }

  @AfterAll
  void undeploy() throws Exception {
    if (collector != null) {
      collector.close();
    }
    if (pipeline != null) {
      pipeline.undeploy(unit);
    }
  }

  @Test
  void aChallengerScoredOnlyByTheFallbackRulesIsRolledBackAutomatically() throws Exception {
    // Given transactions streaming in, 25 a second, each of a card of its own
    List<String> before = new CopyOnWriteArrayList<>();
    try (Producer<Transaction> producer =
        pulsar
            .client()
            .newProducer(Topics.TRANSACTIONS.schema())
            .topic(Topics.TRANSACTIONS.in(ns))
            .create()) {
      AtomicInteger next = new AtomicInteger();
      // When the challenger's decisions are all fallback scores (one transaction every 40 ms)
      try {
        await()
            .atMost(Duration.ofSeconds(150))
            .pollDelay(Duration.ZERO)
            .pollInterval(Duration.ofMillis(40))
            .until(
                () -> {
                  Transaction txn =
                      TestTransactions.ordinary("guard-before-" + next.getAndIncrement());
                  before.add(txn.getTransactionId());
                  producer.newMessage().key(txn.getCardId()).value(txn).sendAsync();
                  return rollback() != null;
                });
      } catch (ConditionTimeoutException e) {
        // the assertion below says what was decided so far
      }
      producer.flush();

      // Then the guard publishes a table that moves the challenger's weight to the champion
      RoutingTable rollback = rollback();
      assertThat(rollback)
          .as("a table published by the guard within 150 s; decisions so far: %s", summary())
          .isNotNull();
      assertThat(rollback.getVersion()).isEqualTo(ROLLBACK);
      assertThat(rollback.getArmsList())
          .containsExactly(arm("champion", 100), arm("challenger", 0));
      assertThat(rollback.getReason())
          .startsWith("arm challenger: fallback rate ")
          .contains("over the last 30 s")
          .endsWith("exceeds 20%");
      // And the challenger's decisions before were indeed fallback scores
      assertThat(decisions.values())
          .filteredOn(d -> d.getArm().equals("challenger"))
          .isNotEmpty()
          .allMatch(Decision::getFallback);

      // And the route function applied it
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  statuses.stream()
                      .anyMatch(
                          s ->
                              s.getEvent() == RoutingStatus.Event.APPLIED
                                  && ROLLBACK.equals(s.getAppliedVersion())));

      // And `routing show` lists it with who published it and why
      RoutingRegistry registry = new RoutingRegistry(pulsar.client(), System.out::println);
      assertThat(registry.current(ns)).contains(rollback);
      assertThat(registry.history(ns))
          .anySatisfy(
              t -> {
                assertThat(t.getPublishedBy()).isEqualTo("guard");
                assertThat(t.getReason()).contains("fallback rate");
              });

      // When 200 more transactions of new cards come
      List<String> after = new ArrayList<>();
      for (int n = 0; n < 200; n++) {
        Transaction txn = TestTransactions.ordinary("guard-after-" + n);
        after.add(txn.getTransactionId());
        producer.newMessage().key(txn.getCardId()).value(txn).sendAsync();
      }
      producer.flush();
      await().atMost(Duration.ofMinutes(2)).until(() -> decisions.keySet().containsAll(after));

      // Then every one was decided by the champion, under the rollback table, by the model
      for (String id : after) {
        Decision d = decisions.get(id);
        assertThat(d.getArm()).as(id).isEqualTo("champion");
        assertThat(d.getRoutingVersion()).as(id).isEqualTo(ROLLBACK);
        assertThat(d.getFallback()).as(id).isFalse();
      }
      // And the guard published exactly one table
      assertThat(tables).filteredOn(t -> t.getPublishedBy().equals("guard")).hasSize(1);
    }
  }

  private RoutingTable rollback() {
    return tables.stream().filter(t -> t.getPublishedBy().equals("guard")).findFirst().orElse(null);
  }

  private String summary() {
    Map<String, Long> byArmAndFallback = new java.util.TreeMap<>();
    decisions
        .values()
        .forEach(
            d ->
                byArmAndFallback.merge(d.getArm() + "/fallback=" + d.getFallback(), 1L, Long::sum));
    return byArmAndFallback + ", statuses " + statuses;
  }

  private static RoutingArm arm(String name, int weight) {
    return RoutingArm.newBuilder().setName(name).setModelSlot(name).setWeight(weight).build();
  }

  private <T> void collect(String topic, Schema<T> schema, java.util.function.Consumer<T> sink)
      throws PulsarClientException {
    collector.collect(topic, schema, sink);
  }
}
