package io.decisionflow.it;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.Pipeline;
import io.decisionflow.deploy.Provisioner;
import io.decisionflow.deploy.RoutingRegistry;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Lineage;
import io.decisionflow.schemas.Score;
import io.decisionflow.schemas.ScoringRequest;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.control.RoutingArm;
import io.decisionflow.schemas.control.RoutingStatus;
import io.decisionflow.schemas.control.RoutingTable;
import io.decisionflow.schemas.control.ShadowArm;
import io.decisionflow.stages.enrich.FeatureSpec;
import io.decisionflow.stages.route.RouteStage;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The routing table on a real standalone. The split tests run the route function alone (enriched
 * transactions in, {@code scoring-*} observed, nothing scored); the shadow test runs the whole
 * pipeline of a second unit with the trained model.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class RoutingTableIT {

  private static final int CARDS = 20_000;
  private static final int STICKY_SAMPLE = 5_000;
  private static final List<String> SLOTS = List.of("champion", "challenger");

  private TopicCollector collector;
  private PulsarStandalone pulsar;
  private RoutingRegistry registry;

  // The unit whose route function runs alone.
  private BusinessUnit splitUnit;
  private BusinessNamespace ns;
  private Producer<EnrichedTransaction> enriched;
  private final Map<String, ScoringRequest> routed = new ConcurrentHashMap<>();
  private final List<RoutingStatus> statuses = new CopyOnWriteArrayList<>();
  private final String cardPrefix = "rt-" + UUID.randomUUID().toString().substring(0, 8) + "-";

  // The unit whose whole pipeline runs.
  private BusinessUnit shadowUnit;
  private Pipeline shadowPipeline;

  @BeforeAll
  void deployTheRouteFunctionAlone() throws Exception {
    pulsar = PulsarStandalone.get();
    collector = new TopicCollector(pulsar.client());
    registry = new RoutingRegistry(pulsar.client(), System.out::println);
    splitUnit = TestUnits.isolated(pulsar.projectDir(), "payments");
    ns = splitUnit.pipelineNamespace();
    new Provisioner(pulsar.admin(), System.out::println).provision(splitUnit, SLOTS);
    for (String slot : SLOTS) {
      collect(
          Topics.scoring(slot).in(ns),
          Topics.scoring(slot).schema(),
          r -> routed.put(r.getEnriched().getTransaction().getTransactionId(), r));
    }
    collect(Topics.ROUTING_STATUS.in(ns), Topics.ROUTING_STATUS.schema(), statuses::add);
    enriched =
        pulsar
            .client()
            .newProducer(Topics.TRANSACTIONS_ENRICHED.schema())
            .topic(Topics.TRANSACTIONS_ENRICHED.in(ns))
            .enableBatching(true)
            .create();

    TestUnits.deployAlone(pulsar, splitUnit, "route");
  }

  @AfterAll
  void undeploy() throws Exception {
    if (collector != null) {
      collector.close();
    }
    if (enriched != null) {
      enriched.close();
    }
    if (splitUnit != null) {
      new Pipeline(pulsar.admin(), pulsar.projectDir(), System.out::println).undeploy(splitUnit);
    }
    if (shadowPipeline != null) {
      shadowPipeline.undeploy(shadowUnit);
    }
  }

  @Test
  @Order(1)
  void aSeventyThirtySplitHoldsWithinTwoPercentOver20kCardsAndIsSticky() throws Exception {
    // Given the unit's configured table, 70/30, applied
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> latestStatus() != null && "static-1".equals(latestStatus().getAppliedVersion()));

    // When one transaction of each of 20k distinct cards is routed
    Map<String, String> cardOf = sendCards(0, CARDS);
    await().atMost(Duration.ofMinutes(3)).until(() -> routed.keySet().containsAll(cardOf.keySet()));

    // Then 70/30 within 2 points, each card on the arm its hash gives, by the configured table
    Map<String, String> armOfCard = armsByCard(cardOf);
    long champion = armOfCard.values().stream().filter("champion"::equals).count();
    assertThat(champion / (double) CARDS).isCloseTo(0.70, within(0.02));
    assertThat(cardOf.keySet())
        .allSatisfy(id -> assertThat(routed.get(id).getRoutingVersion()).isEqualTo("static-1"));
    assertThat(cardOf.keySet()).allSatisfy(id -> assertThat(routed.get(id).getShadow()).isFalse());

    // And a second transaction of each of 5k of those cards lands on the same arm
    Map<String, String> again = sendCards(0, STICKY_SAMPLE);
    await().atMost(Duration.ofMinutes(2)).until(() -> routed.keySet().containsAll(again.keySet()));
    Map<String, String> armAgain = armsByCard(again);
    assertThat(armAgain).hasSize(STICKY_SAMPLE);
    armAgain.forEach((card, arm) -> assertThat(arm).as(card).isEqualTo(armOfCard.get(card)));
    assertThat(restarts("route")).isZero();
  }

  @Test
  @Order(2)
  void aLiveChangeTo5050AppliesWithinSecondsWithoutARestartAndMovesOnlyTheCardsThatMust()
      throws Exception {
    // Given the arms of 5k cards under 70/30
    Map<String, String> before = routeCards(0, STICKY_SAMPLE);
    assertThat(before).hasSize(STICKY_SAMPLE);

    // When a 50/50 table is published while transactions stream in
    String version = "it-50-50-" + UUID.randomUUID().toString().substring(0, 6);
    List<String> streamed = new CopyOnWriteArrayList<>();
    AtomicInteger next = new AtomicInteger();
    // 20 records every 50 ms, ~400 records/s
    ScheduledExecutorService stream = Executors.newSingleThreadScheduledExecutor();
    stream.scheduleAtFixedRate(
        () -> {
          try {
            streamed.addAll(sendCards(CARDS + 100_000 + next.getAndAdd(20), 20).keySet());
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        },
        0,
        50,
        MILLISECONDS);
    long published = System.nanoTime();
    registry.publish(ns, table(version, 50, 50), SLOTS);

    // Then within 30 s the instance says it applied it, and records carry the new version
    try {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  statuses.stream()
                      .anyMatch(
                          s ->
                              s.getEvent() == RoutingStatus.Event.APPLIED
                                  && version.equals(s.getAppliedVersion())));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  streamed.stream()
                      .map(routed::get)
                      .anyMatch(r -> r != null && version.equals(r.getRoutingVersion())));
    } finally {
      stream.shutdown();
      stream.awaitTermination(30, TimeUnit.SECONDS);
    }
    System.out.printf(
        "[it] routing table %s applied %d ms after publishing%n",
        version, (System.nanoTime() - published) / 1_000_000);
    assertThat(restarts("route")).isZero();

    // And new cards split 50/50 within 2 points
    Map<String, String> fresh = sendCards(CARDS, 10_000);
    await().atMost(Duration.ofMinutes(2)).until(() -> routed.keySet().containsAll(fresh.keySet()));
    Map<String, String> freshArms = armsByCard(fresh);
    assertThat(fresh.keySet())
        .allSatisfy(id -> assertThat(routed.get(id).getRoutingVersion()).isEqualTo(version));
    long champion = freshArms.values().stream().filter("champion"::equals).count();
    assertThat(champion / (double) fresh.size()).isCloseTo(0.50, within(0.02));

    // And of the known cards only champion's move, to challenger: about 20 of 70 points
    Map<String, String> after = routeCards(0, STICKY_SAMPLE);
    assertThat(after).hasSize(STICKY_SAMPLE);
    long moved = before.keySet().stream().filter(c -> !before.get(c).equals(after.get(c))).count();
    assertThat(before.keySet())
        .filteredOn(c -> before.get(c).equals("challenger"))
        .allSatisfy(c -> assertThat(after.get(c)).as(c).isEqualTo("challenger"));
    assertThat(moved / (double) STICKY_SAMPLE).isCloseTo(0.20, within(0.03));
  }

  @Test
  @Order(3)
  void aBadTableIsRefusedWithItsReasonAndTheCurrentTableKeepsRouting() throws Exception {
    // Given the current table
    String current = registry.current(ns).orElseThrow().getVersion();

    // When tables that break the rules are announced (the registry would refuse to publish them)
    registry.announce(ns, table("it-bad-sum", 60, 30));
    registry.announce(
        ns,
        RoutingTable.newBuilder()
            .setVersion("it-bad-slot")
            .addArms(arm("champion", "champion", 50))
            .addArms(arm("v9", "fraud-v9", 50))
            .build());

    // Then each is refused, saying why, and the current table keeps routing
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> refused("it-bad-sum") != null && refused("it-bad-slot") != null);
    assertThat(refused("it-bad-sum").getReason())
        .isEqualTo("arms[*].weight: must add up to 100, was 90");
    assertThat(refused("it-bad-slot").getReason()).contains("unknown slot 'fraud-v9'");
    assertThat(refused("it-bad-slot").getAppliedVersion()).isEqualTo(current);
    Map<String, String> later = sendCards(CARDS + 50_000, 200);
    await().atMost(Duration.ofMinutes(1)).until(() -> routed.keySet().containsAll(later.keySet()));
    assertThat(later.keySet())
        .allSatisfy(id -> assertThat(routed.get(id).getRoutingVersion()).isEqualTo(current));
    RoutingStatus reported = registry.statuses(ns).get("route/0");
    assertThat(reported.getEvent()).isEqualTo(RoutingStatus.Event.REFUSED);
    assertThat(reported.getAppliedVersion()).isEqualTo(current);
    assertThat(registry.history(ns))
        .extracting(RoutingTable::getVersion)
        .endsWith(current, "it-bad-sum", "it-bad-slot");
    assertThat(restarts("route")).isZero();
  }

  @Test
  @Order(4)
  void shadowCopiesAreScoredToShadowScoresButNeverDecided() throws Exception {
    // Given the whole pipeline of a unit of its own, champion deciding every card and a shadow arm
    // scoring half of them on challenger
    shadowUnit = TestUnits.isolated(pulsar.projectDir(), "payments");
    BusinessNamespace shadowNs = shadowUnit.pipelineNamespace();
    shadowPipeline = new Pipeline(pulsar.admin(), pulsar.projectDir(), System.out::println);
    shadowPipeline.deploy(
        shadowUnit, shadowPipeline.modelLocationOverrides(pulsar.model().toString()));
    Map<String, List<Decision>> decisions = new ConcurrentHashMap<>();
    Map<String, List<Score>> shadowScores = new ConcurrentHashMap<>();
    List<RoutingStatus> shadowStatuses = new CopyOnWriteArrayList<>();
    collect(
        Topics.DECISIONS.in(shadowNs),
        Topics.DECISIONS.schema(),
        d ->
            decisions
                .computeIfAbsent(d.getTransactionId(), k -> new CopyOnWriteArrayList<>())
                .add(d));
    collect(
        Topics.SHADOW_SCORES.in(shadowNs),
        Topics.SHADOW_SCORES.schema(),
        s ->
            shadowScores
                .computeIfAbsent(
                    s.getRequest().getEnriched().getTransaction().getTransactionId(),
                    k -> new CopyOnWriteArrayList<>())
                .add(s));
    collect(
        Topics.ROUTING_STATUS.in(shadowNs), Topics.ROUTING_STATUS.schema(), shadowStatuses::add);
    shadowPipeline.awaitRunning(shadowUnit, Duration.ofMinutes(3));
    ShadowArm candidate =
        ShadowArm.newBuilder()
            .setName("candidate")
            .setModelSlot("challenger")
            .setMirrorPercent(50)
            .build();
    String version = "it-shadow-" + UUID.randomUUID().toString().substring(0, 6);
    registry.publish(
        shadowNs, table(version, 100, 0).toBuilder().addShadows(candidate).build(), SLOTS);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                shadowStatuses.stream()
                    .anyMatch(
                        s ->
                            s.getEvent() == RoutingStatus.Event.APPLIED
                                && version.equals(s.getAppliedVersion())));

    // When 200 transactions of 200 cards flow through
    Map<String, String> cardOf = new HashMap<>();
    try (Producer<Transaction> transactions =
        pulsar
            .client()
            .newProducer(Topics.TRANSACTIONS.schema())
            .topic(Topics.TRANSACTIONS.in(shadowNs))
            .create()) {
      for (int i = 0; i < 200; i++) {
        Transaction txn = TestTransactions.ordinary(cardPrefix + "shadow-" + i);
        cardOf.put(txn.getTransactionId(), txn.getCardId());
        transactions.newMessage().key(txn.getCardId()).value(txn).sendAsync();
      }
      transactions.flush();
    }
    Set<String> mirrored =
        cardOf.entrySet().stream()
            .filter(e -> RouteStage.mirrors(candidate, e.getValue()))
            .map(Map.Entry::getKey)
            .collect(Collectors.toSet());
    assertThat(mirrored).isNotEmpty().hasSizeLessThan(cardOf.size());
    await()
        .atMost(Duration.ofMinutes(3))
        .until(
            () ->
                decisions.keySet().containsAll(cardOf.keySet())
                    && shadowScores.keySet().containsAll(mirrored));

    // Then every transaction is decided once, by the deciding arm only
    assertThat(decisions).containsOnlyKeys(cardOf.keySet());
    decisions.forEach(
        (id, list) -> {
          assertThat(list).as(id).hasSize(1);
          assertThat(list.get(0).getArm()).as(id).isEqualTo("champion");
          assertThat(list.get(0).getRoutingVersion()).as(id).isEqualTo(version);
        });
    // And the mirrored half, and only it, was scored by the shadow arm, once each
    assertThat(shadowScores).containsOnlyKeys(mirrored);
    shadowScores.forEach(
        (id, list) -> {
          assertThat(list).as(id).hasSize(1);
          Score score = list.get(0);
          assertThat(score.getRequest().getShadow()).isTrue();
          assertThat(score.getRequest().getArm()).isEqualTo("candidate");
          assertThat(score.getModelSlot()).isEqualTo("challenger");
        });
  }

  private Map<String, String> sendCards(int from, int count) throws PulsarClientException {
    Map<String, String> cardOf = new HashMap<>();
    for (int i = from; i < from + count; i++) {
      Transaction txn = TestTransactions.ordinary(cardPrefix + i);
      cardOf.put(txn.getTransactionId(), txn.getCardId());
      enriched
          .newMessage()
          .key(txn.getCardId())
          .value(
              EnrichedTransaction.newBuilder()
                  .setTransaction(txn)
                  .setFeatureSpecVersion(FeatureSpec.VERSION)
                  .setLineage(Lineage.newBuilder().setEnrichedAtMs(System.currentTimeMillis()))
                  .build())
          .sendAsync();
    }
    enriched.flush();
    return cardOf;
  }

  /** Sends a transaction of each card, waits until all are routed; returns the arm by card. */
  private Map<String, String> routeCards(int from, int count) throws PulsarClientException {
    Map<String, String> cardOf = sendCards(from, count);
    await().atMost(Duration.ofMinutes(2)).until(() -> routed.keySet().containsAll(cardOf.keySet()));
    return armsByCard(cardOf);
  }

  /** The arm each card's transaction (of {@code cardOf}) was routed to, by card. */
  private Map<String, String> armsByCard(Map<String, String> cardOf) {
    Map<String, String> arms = new HashMap<>();
    cardOf.forEach(
        (id, card) -> {
          ScoringRequest request = routed.get(id);
          if (request != null) {
            arms.put(card, request.getArm());
          }
        });
    return arms;
  }

  private static RoutingTable table(String version, int champion, int challenger) {
    return RoutingTable.newBuilder()
        .setVersion(version)
        .setReason("RoutingTableIT")
        .setPublishedBy("it")
        .addArms(arm("champion", "champion", champion))
        .addArms(arm("challenger", "challenger", challenger))
        .build();
  }

  private static RoutingArm arm(String name, String slot, int weight) {
    return RoutingArm.newBuilder().setName(name).setModelSlot(slot).setWeight(weight).build();
  }

  private RoutingStatus latestStatus() {
    return statuses.isEmpty() ? null : statuses.get(statuses.size() - 1);
  }

  private RoutingStatus refused(String version) {
    return statuses.stream()
        .filter(
            s ->
                s.getEvent() == RoutingStatus.Event.REFUSED
                    && version.equals(s.getRequestedVersion()))
        .findFirst()
        .orElse(null);
  }

  private long restarts(String function) throws Exception {
    return pulsar
        .admin()
        .functions()
        .getFunctionStatus(ns.tenant(), ns.namespace(), function)
        .getInstances()
        .stream()
        .mapToLong(i -> i.getStatus().getNumRestarts())
        .sum();
  }

  private <T> void collect(String topic, Schema<T> schema, java.util.function.Consumer<T> sink)
      throws PulsarClientException {
    collector.collect(topic, schema, sink);
  }
}
