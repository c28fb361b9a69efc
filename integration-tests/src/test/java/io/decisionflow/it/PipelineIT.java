package io.decisionflow.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.DeadLetterQueue;
import io.decisionflow.deploy.FunctionDeployer;
import io.decisionflow.deploy.MerchantRegistry;
import io.decisionflow.deploy.Pipeline;
import io.decisionflow.deploy.Provisioner;
import io.decisionflow.models.synthetic.TransactionGenerator;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Channel;
import io.decisionflow.schemas.DeadLetter;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.state.CardState;
import io.decisionflow.stages.enrich.FeatureSpec;
import io.decisionflow.stages.score.TensorFlowModel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.common.functions.FunctionState;
import org.apache.pulsar.common.policies.data.FunctionStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The four chained functions, deployed from {@code pulsar-deploy/functions/*.yaml} for a business
 * unit of its own, on the real standalone, with the model the build trained.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class PipelineIT {

  /** The decide threshold of the payments unit (business-units/payments.yaml). */
  private static final double PAYMENTS_THRESHOLD = 0.2;

  private static final Duration DECIDED_WITHIN = Duration.ofMinutes(3);
  private static final long DAYTIME = Instant.parse("2026-06-01T10:00:00Z").toEpochMilli();
  private static final ObjectMapper JSON = new ObjectMapper();

  private TopicCollector collector;
  private PulsarStandalone pulsar;
  private String database;
  private BusinessUnit unit;
  private BusinessNamespace ns;
  private Pipeline pipeline;
  private Producer<Transaction> transactions;
  private Producer<byte[]> rawTransactions;
  private final Map<String, List<Decision>> decisions = new ConcurrentHashMap<>();
  private final Map<String, Decision> alerts = new ConcurrentHashMap<>();
  private final Map<String, Decision> oks = new ConcurrentHashMap<>();
  private final Queue<DeadLetter> deadLetters = new ConcurrentLinkedQueue<>();

  @BeforeAll
  void deployPipeline() throws Exception {
    pulsar = PulsarStandalone.get();
    collector = new TopicCollector(pulsar.client());
    unit = TestUnits.isolated(pulsar.projectDir(), "payments");
    ns = unit.pipelineNamespace();
    TestUnits.withPostgresSink(unit);
    database = unit.tenant.replace('-', '_');
    pipeline =
        new Pipeline(
            pulsar.admin(), pulsar.projectDir(), line -> System.out.println("[deploy] " + line));
    // The generator's merchant table, as the demo loads it, before enrich starts and reads it.
    new Provisioner(pulsar.admin(), line -> System.out.println("[deploy] " + line))
        .provision(unit, pipeline.modelSlots());
    TransactionGenerator tables =
        new TransactionGenerator(TransactionGenerator.Options.defaults(0));
    new MerchantRegistry(pulsar.client(), System.out::println)
        .publish(ns, MerchantRegistry.changes(tables.merchantTable(), tables.unknownMerchants()));

    Pipeline.Result result =
        pipeline.deploy(unit, pipeline.modelLocationOverrides(pulsar.model().toString()));

    assertThat(result.functions().values()).containsOnly(FunctionDeployer.Outcome.CREATED);
    assertThat(result.functions().keySet())
        .containsExactlyInAnyOrder(
            "enrich", "route", "score-champion", "score-challenger", "decide", "guard");
    assertThat(result.sinks())
        .containsExactly(Map.entry("decisions-postgres", FunctionDeployer.Outcome.CREATED));
    collect(
        Topics.DECISIONS.in(ns),
        Topics.DECISIONS.schema(),
        d -> decisions.computeIfAbsent(d.getTransactionId(), k -> new ArrayList<>()).add(d));
    collect(
        Topics.FRAUD_ALERTS.in(ns),
        Topics.FRAUD_ALERTS.schema(),
        d -> alerts.put(d.getTransactionId(), d));
    collect(
        Topics.TRANSACTIONS_OK.in(ns),
        Topics.TRANSACTIONS_OK.schema(),
        d -> oks.put(d.getTransactionId(), d));
    collect(Topics.DEAD_LETTERS.in(ns), Topics.DEAD_LETTERS.schema(), deadLetters::add);
    transactions =
        pulsar
            .client()
            .newProducer(Topics.TRANSACTIONS.schema())
            .topic(Topics.TRANSACTIONS.in(ns))
            .create();
    rawTransactions =
        pulsar.client().newProducer(Schema.BYTES).topic(Topics.TRANSACTIONS.in(ns)).create();
    pipeline.awaitRunning(unit, Duration.ofMinutes(3));
  }

  @AfterAll
  void undeploy() throws Exception {
    if (collector != null) {
      collector.close();
    }
    if (transactions != null) {
      transactions.close();
      rawTransactions.close();
    }
    if (pipeline != null) {
      pipeline.undeploy(unit);
    }
  }

  @Test
  void everyTransactionGetsExactlyOneDecisionWithItsLineage() throws Exception {
    TransactionGenerator generator =
        new TransactionGenerator(TransactionGenerator.Options.defaults(System.nanoTime()));
    Set<String> ids = ConcurrentHashMap.newKeySet();
    for (int i = 0; i < 200; i++) {
      Transaction txn = generator.next().transaction();
      ids.add(txn.getTransactionId());
      transactions.sendAsync(txn);
    }
    transactions.flush();

    await().atMost(DECIDED_WITHIN).until(() -> decisions.keySet().containsAll(ids));
    // Every decision is also copied to exactly one of fraud-alerts / transactions-ok.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> ids.stream().allMatch(id -> alerts.containsKey(id) || oks.containsKey(id)));

    for (String id : ids) {
      assertThat(decisions.get(id)).as("decisions of %s", id).hasSize(1);
      Decision d = decisions.get(id).get(0);
      assertThat(d.getOutcome()).isIn("ALERT", "OK");
      assertThat(d.getArm()).isIn("champion", "challenger");
      assertThat(d.getModelSlot()).isEqualTo(d.getArm());
      assertThat(d.getModelVersion()).isEqualTo("v1");
      assertThat(d.getFeatureSpecVersion()).isEqualTo(FeatureSpec.VERSION);
      assertThat(d.getLate()).as("late of %s", id).isFalse();
      assertThat(d.getScore()).isBetween(0.0, 1.0);
      assertThat(d.getThreshold()).isEqualTo(PAYMENTS_THRESHOLD);
      assertThat(d.getOutcome()).isEqualTo(d.getScore() >= PAYMENTS_THRESHOLD ? "ALERT" : "OK");
      assertThat(d.getBand())
          .as("band of %s at score %s (payments: review 0.1, decline 0.4)", id, d.getScore())
          .isEqualTo(d.getScore() >= 0.4 ? "DECLINE" : d.getScore() >= 0.1 ? "REVIEW" : "APPROVE");
      assertThat(d.getEnrichedAtMs()).isPositive();
      assertThat(d.getRoutedAtMs()).isGreaterThanOrEqualTo(d.getEnrichedAtMs());
      assertThat(d.getScoredAtMs()).isGreaterThanOrEqualTo(d.getRoutedAtMs());
      assertThat(d.getDecidedAtMs()).isGreaterThanOrEqualTo(d.getScoredAtMs());
      assertThat(alerts.containsKey(id))
          .as("alert copy of %s", id)
          .isEqualTo(d.getOutcome().equals("ALERT"));
      assertThat(oks.containsKey(id))
          .as("ok copy of %s", id)
          .isEqualTo(d.getOutcome().equals("OK"));
    }
    // Sticky routing: all decisions of a card came from one arm.
    Map<String, Set<String>> armsByCard =
        ids.stream()
            .map(id -> decisions.get(id).get(0))
            .collect(
                Collectors.groupingBy(
                    Decision::getCardId, Collectors.mapping(Decision::getArm, Collectors.toSet())));
    assertThat(armsByCard.values()).allSatisfy(arms -> assertThat(arms).hasSize(1));
  }

  /**
   * The series every function and the PostgreSQL sink export through their instances' metrics
   * endpoints, as the functions worker's {@code /metrics} serves them: present once traffic flows,
   * and moving with the next traffic.
   */
  @Test
  void everyFunctionAndTheSinkExportTheirMetricsAndTheyMove() throws Exception {
    String fqfn = ns.tenant() + "/" + ns.namespace() + "/";
    List<Series> series =
        List.of(
            new Series(
                "decisionflow_records_in_total",
                Map.of("fqfn", fqfn + "enrich", "stage", "enrich")),
            new Series(
                "decisionflow_stage_latency_seconds_count",
                Map.of("fqfn", fqfn + "enrich", "stage", "enrich")),
            new Series(
                "decisionflow_state_latency_seconds_count",
                Map.of("fqfn", fqfn + "enrich", "op", "save")),
            new Series(
                "decisionflow_records_out_total", Map.of("fqfn", fqfn + "route", "stage", "route")),
            new Series("decisionflow_route_records_total", Map.of("fqfn", fqfn + "route")),
            new Series("decisionflow_score_rows_total", Map.of("fqfn", fqfn + "score-champion")),
            new Series(
                "decisionflow_score_inference_seconds_count",
                Map.of("fqfn", fqfn + "score-champion")),
            new Series("decisionflow_decisions_total", Map.of("fqfn", fqfn + "decide")),
            new Series(
                "decisionflow_event_latency_seconds_count",
                Map.of("fqfn", fqfn + "decide", "stage", "decide")),
            new Series("decisionflow_jdbc_rows_total", Map.of("fqfn", fqfn + "decisions-postgres")),
            new Series(
                "decisionflow_event_latency_seconds_count",
                Map.of("fqfn", fqfn + "decisions-postgres", "stage", "postgres")));
    Map<Series, Double> first = scrapeAfter(sendFresh(40), series, Map.of());
    // A histogram comes out whole: buckets up to +Inf, sum and count
    String text = WorkerMetrics.scrape();
    Map<String, String> decideLabels = Map.of("fqfn", fqfn + "decide", "stage", "decide");
    assertThat(
            WorkerMetrics.value(
                text, "decisionflow_event_latency_seconds_bucket", withLe(decideLabels, "+Inf")))
        .isEqualTo(
            WorkerMetrics.value(text, "decisionflow_event_latency_seconds_count", decideLabels));
    assertThat(
            WorkerMetrics.value(text, "decisionflow_event_latency_seconds_sum", decideLabels)
                .orElse(0))
        .isPositive();

    // The next traffic moves every series, and a malformed record counts as a dead letter
    Map<String, String> deadAtEnrich = Map.of("fqfn", fqfn + "enrich", "stage", "enrich");
    double deadBefore =
        WorkerMetrics.sum(text, "decisionflow_dead_letters_total", deadAtEnrich).orElse(0);
    rawTransactions.send("not a transaction".getBytes(StandardCharsets.UTF_8));
    scrapeAfter(sendFresh(40), series, first);
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () ->
                WorkerMetrics.sum(
                            WorkerMetrics.scrape(), "decisionflow_dead_letters_total", deadAtEnrich)
                        .orElse(0)
                    > deadBefore);
  }

  /** A series: a metric name and some of its labels (the others are summed over). */
  private record Series(String name, Map<String, String> labels) {}

  private static Map<String, String> withLe(Map<String, String> labels, String le) {
    Map<String, String> with = new LinkedHashMap<>(labels);
    with.put("le", le);
    return with;
  }

  /** Sends {@code count} ordinary transactions of fresh cards; returns their ids. */
  private Set<String> sendFresh(int count) throws PulsarClientException {
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < count; i++) {
      ids.add(send(ordinary("it-metrics-" + UUID.randomUUID(), System.currentTimeMillis(), 12.5)));
    }
    return ids;
  }

  /**
   * Waits until {@code ids} are decided and every series of {@code series} (summed over the labels
   * not named) is above its value in {@code before} (absent: present at all); returns the values.
   */
  private Map<Series, Double> scrapeAfter(
      Set<String> ids, List<Series> series, Map<Series, Double> before) {
    await().atMost(DECIDED_WITHIN).until(() -> decisions.keySet().containsAll(ids));
    Map<Series, Double> now = new LinkedHashMap<>();
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofSeconds(1))
        .untilAsserted(
            () -> {
              String text = WorkerMetrics.scrape();
              for (Series s : series) {
                OptionalDouble value = WorkerMetrics.sum(text, s.name(), s.labels());
                assertThat(value).as("%s on /metrics", s).isPresent();
                assertThat(value.getAsDouble())
                    .as("%s on /metrics", s)
                    .isGreaterThan(before.getOrDefault(s, 0.0));
                now.put(s, value.getAsDouble());
              }
            });
    return now;
  }

  @Test
  void aCraftedFraudIsAlertedAndAnOrdinaryTransactionIsNot() throws Exception {
    String fraudCard = "it-card-" + UUID.randomUUID();
    String goodCard = "it-card-" + UUID.randomUUID();
    List<String> history = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      history.add(send(ordinary(fraudCard, DAYTIME + i * 3_600_000L, 30.0 + i)));
      history.add(send(ordinary(goodCard, DAYTIME + i * 3_600_000L, 25.0 + i)));
    }
    // 5x the card's mean, online, in a high-risk country, 20 s after its previous transaction, at
    // merchant-7 (risk 0.163 in the generator's table): the generator's true fraud probability of
    // these features is 0.59, and v1 scores 0.26.
    String fraud =
        send(
            ordinary(fraudCard, DAYTIME + 4 * 3_600_000L + 20_000, 150.0).toBuilder()
                .setChannel(Channel.ONLINE)
                .setCountry("NG")
                .build());
    String good = send(ordinary(goodCard, DAYTIME + 5 * 3_600_000L, 28.0));

    await()
        .atMost(DECIDED_WITHIN)
        .until(
            () ->
                decisions.containsKey(fraud)
                    && decisions.containsKey(good)
                    && decisions.keySet().containsAll(history));

    assertThat(decisions.get(fraud).get(0).getOutcome()).isEqualTo("ALERT");
    assertThat(decisions.get(good).get(0).getOutcome()).isEqualTo("OK");
    assertThat(history)
        .allSatisfy(id -> assertThat(decisions.get(id).get(0).getOutcome()).as(id).isEqualTo("OK"));
    assertThat(alerts).containsKey(fraud);
    await().atMost(Duration.ofSeconds(30)).until(() -> oks.containsKey(good));
  }

  @Test
  void cardStateSurvivesARestartOfEnrichAndAKilledInstance() throws Exception {
    // Given a card with two transactions behind it
    String card = "it-card-" + UUID.randomUUID();
    String first = send(ordinary(card, DAYTIME, 10.0));
    String second = send(ordinary(card, DAYTIME + 60_000, 20.0));
    await()
        .atMost(DECIDED_WITHIN)
        .until(() -> decisions.keySet().containsAll(List.of(first, second)));

    // When enrich is restarted (its in-memory cache is gone), a third comes
    pulsar.admin().functions().restartFunction(ns.tenant(), ns.namespace(), "enrich");
    pipeline.awaitRunning(unit, Duration.ofMinutes(2));
    String third = send(ordinary(card, DAYTIME + 120_000, 30.0));
    await().atMost(DECIDED_WITHIN).until(() -> decisions.containsKey(third));

    // And when the instance's JVM is killed, and the worker starts it again, a fourth comes
    ProcessHandle instance =
        ProcessHandle.allProcesses()
            .filter(p -> isInstanceOf(p, "enrich"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no process runs the enrich instance of " + ns));
    instance.destroyForcibly();
    await().atMost(Duration.ofSeconds(30)).until(() -> !instance.isAlive());
    await()
        .atMost(Duration.ofMinutes(2))
        .until(
            () ->
                ProcessHandle.allProcesses().anyMatch(p -> isInstanceOf(p, "enrich"))
                    && enrichRunning());
    String fourth = send(ordinary(card, DAYTIME + 180_000, 40.0));
    await().atMost(DECIDED_WITHIN).until(() -> decisions.containsKey(fourth));

    // Then each saw every transaction before it, from the durable state
    JsonNode afterRestart = JSON.readTree(decisions.get(third).get(0).getFeaturesJson());
    assertThat(afterRestart.get("card_txn_count_log").asDouble())
        .isCloseTo(Math.log1p(2), org.assertj.core.data.Offset.offset(1e-6));
    assertThat(afterRestart.get("amount_to_card_mean").asDouble())
        .isCloseTo(30.0 / 15.0, org.assertj.core.data.Offset.offset(1e-6));
    JsonNode afterKill = JSON.readTree(decisions.get(fourth).get(0).getFeaturesJson());
    assertThat(afterKill.get("card_txn_count_log").asDouble())
        .isCloseTo(Math.log1p(3), org.assertj.core.data.Offset.offset(1e-6));
    assertThat(afterKill.get("amount_to_card_mean").asDouble())
        .isCloseTo(40.0 / 20.0, org.assertj.core.data.Offset.offset(1e-6));
    CardState state =
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> readCardState(card), s -> s != null && s.getCount() == 4);
    assertThat(state.getAmountSum()).isEqualTo(100.0);
  }

  /** Whether {@code process} is the process-runtime JVM of this unit's function {@code name}. */
  private boolean isInstanceOf(ProcessHandle process, String name) {
    String command = String.join(" ", process.info().arguments().orElse(new String[0]));
    // The worker passes the function's details as JSON: --function_details '{"tenant":...}'
    return command.contains("JavaInstanceMain")
        && command.contains(
            "\"tenant\":\""
                + ns.tenant()
                + "\",\"namespace\":\""
                + ns.namespace()
                + "\",\"name\":\""
                + name
                + "\"");
  }

  private boolean enrichRunning() throws Exception {
    FunctionStatus status =
        pulsar.admin().functions().getFunctionStatus(ns.tenant(), ns.namespace(), "enrich");
    return status.getNumRunning() == status.getNumInstances();
  }

  @Test
  void aKilledInstanceMidStreamLosesNothingAndPostgresHoldsEveryDecisionOnce() throws Exception {
    TransactionGenerator generator =
        new TransactionGenerator(TransactionGenerator.Options.defaults(System.nanoTime()));
    String prefix = "kill-" + UUID.randomUUID().toString().substring(0, 8) + "-";
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      // Cards of its own: other tests' generators start at the same event time with the same
      // card ids, and would arrive late on cards this stream moved on.
      Transaction g = generator.next().transaction();
      Transaction t =
          g.toBuilder().setTransactionId(prefix + i).setCardId(prefix + g.getCardId()).build();
      ids.add(t.getTransactionId());
      transactions.newMessage().key(t.getCardId()).value(t).sendAsync();
      if (i == 300) {
        transactions.flush();
        // Kill enrich's JVM (state written behind, records acknowledged once their state is
        // durable) with half of the stream sent at once, most of it still in flight; the worker
        // starts it again.
        ProcessHandle instance =
            ProcessHandle.allProcesses()
                .filter(p -> isInstanceOf(p, "enrich"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no process runs enrich of " + ns));
        instance.destroyForcibly();
        await().atMost(Duration.ofSeconds(30)).until(() -> !instance.isAlive());
      }
    }
    transactions.flush();

    // Every transaction is decided (a redelivered one may be decided twice on the topic) ...
    await("every transaction decided")
        .atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> decisions.keySet().containsAll(ids));
    // ... and PostgreSQL holds exactly one row for each, with the decision's score
    await("a row for every decision")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> postgresRows(prefix).size() == ids.size());
    Map<String, Double> rows = postgresRows(prefix);
    assertThat(rows.keySet()).containsExactlyInAnyOrderElementsOf(ids);
    for (String id : ids) {
      assertThat(decisions.get(id)).extracting(Decision::getScore).contains(rows.get(id));
    }
    long duplicates = ids.stream().filter(id -> decisions.get(id).size() > 1).count();
    System.out.printf(
        "[it] enrich killed mid-stream: %d transactions, %d decided twice on the topic, %d rows%n",
        ids.size(), duplicates, rows.size());
  }

  /** transaction_id to score of the rows of the unit's database whose id starts with prefix. */
  private Map<String, Double> postgresRows(String prefix) throws Exception {
    return PostgresServer.get().scores(database, prefix);
  }

  @Test
  void perCardStateAccumulatesAcrossMessagesInFunctionState() throws Exception {
    String card = "it-card-" + UUID.randomUUID();
    String first = send(ordinary(card, DAYTIME, 10.0));
    String second = send(ordinary(card, DAYTIME + 60_000, 20.0));
    String third = send(ordinary(card, DAYTIME + 120_000, 30.0));

    await()
        .atMost(DECIDED_WITHIN)
        .until(() -> decisions.keySet().containsAll(List.of(first, second, third)));

    CardState state =
        await()
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(500))
            .until(() -> readCardState(card), s -> s != null && s.getCount() == 3);
    assertThat(state.getAmountSum()).isEqualTo(60.0);
    assertThat(state.getLastTransactionId()).isEqualTo(third);
    assertThat(state.getLastEventTimeMs()).isEqualTo(DAYTIME + 120_000);
    // The third decision saw the two before it.
    JsonNode features = JSON.readTree(decisions.get(third).get(0).getFeaturesJson());
    assertThat(features.get("card_txn_count_log").asDouble())
        .isCloseTo(Math.log1p(2), org.assertj.core.data.Offset.offset(1e-6));
    assertThat(features.get("amount_to_card_mean").asDouble())
        .isCloseTo(2.0, org.assertj.core.data.Offset.offset(1e-6));
    // and its event-time windows: both within 5 min, at one merchant, in the same country
    assertThat(features.get("txn_count_5m").asDouble()).isEqualTo(2.0);
    assertThat(features.get("txn_count_24h").asDouble()).isEqualTo(2.0);
    assertThat(features.get("amount_sum_1h_log").asDouble())
        .isCloseTo(Math.log1p(30.0), org.assertj.core.data.Offset.offset(1e-6));
    assertThat(features.get("max_amount_24h_log").asDouble())
        .isCloseTo(Math.log1p(20.0), org.assertj.core.data.Offset.offset(1e-6));
    assertThat(features.get("distinct_merchants_1h").asDouble()).isEqualTo(1.0);
    assertThat(features.get("country_changed").asDouble()).isEqualTo(0.0);
    assertThat(state.getRecentTransactionIdsList()).containsExactly(first, second, third);
  }

  @Test
  void malformedRecordsBecomeDeadLettersWithTheirReasonWhileThePipelineKeepsFlowing()
      throws Exception {
    // (another test kills an instance on purpose: compare with the counts before this one)
    long enrichRestarts = instanceRestarts("enrich");
    long decideRestarts = instanceRestarts("decide");
    String card = "it-card-" + UUID.randomUUID();
    byte[] garbage = ("not a transaction " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
    String before = send(ordinary(card, DAYTIME, 12.0));
    rawTransactions.send(garbage);
    Transaction negative = ordinary(card, DAYTIME + 1_000, -5.0);
    transactions.send(negative);
    Transaction nan = ordinary(card, DAYTIME + 2_000, Double.NaN);
    transactions.send(nan);
    Transaction noCard = ordinary(card, DAYTIME + 3_000, 7.0).toBuilder().clearCardId().build();
    transactions.send(noCard);
    byte[] badScore = ("not a score " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
    try (Producer<byte[]> rawScores =
        pulsar.client().newProducer(Schema.BYTES).topic(Topics.SCORES.in(ns)).create()) {
      rawScores.send(badScore);
    }
    byte[] badEnriched = ("not enriched " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
    byte[] badRequest = ("not a request " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
    try (Producer<byte[]> rawEnriched =
            pulsar
                .client()
                .newProducer(Schema.BYTES)
                .topic(Topics.TRANSACTIONS_ENRICHED.in(ns))
                .create();
        Producer<byte[]> rawRequests =
            pulsar
                .client()
                .newProducer(Schema.BYTES)
                .topic(Topics.scoring("champion").in(ns))
                .create()) {
      rawEnriched.send(badEnriched);
      rawRequests.send(badRequest);
    }
    String after = send(ordinary(card, DAYTIME + 4_000, 13.0));

    await()
        .atMost(DECIDED_WITHIN)
        .until(() -> decisions.containsKey(before) && decisions.containsKey(after));
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                letterFor(garbage) != null
                    && letterFor(negative.toByteArray()) != null
                    && letterFor(nan.toByteArray()) != null
                    && letterFor(noCard.toByteArray()) != null);

    DeadLetter unparsable = letterFor(garbage);
    assertThat(unparsable.getStage()).isEqualTo("enrich");
    assertThat(unparsable.getField()).isEqualTo("record");
    assertThat(unparsable.getReason()).contains("is not a Transaction");
    assertThat(unparsable.getSourceTopic()).isEqualTo(Topics.TRANSACTIONS.in(ns));
    DeadLetter negativeLetter = letterFor(negative.toByteArray());
    assertThat(negativeLetter.getField()).isEqualTo("amount");
    assertThat(negativeLetter.getValue()).isEqualTo("-5.0");
    assertThat(negativeLetter.getReason()).isEqualTo("amount must be >= 0, was -5.0");
    assertThat(letterFor(nan.toByteArray()).getReason())
        .isEqualTo("amount must be a finite number, was NaN");
    assertThat(letterFor(noCard.toByteArray()).getField()).isEqualTo("card_id");
    // A record that does not parse on an internal topic is dead-lettered by the stage reading it.
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                letterFor(badScore) != null
                    && letterFor(badEnriched) != null
                    && letterFor(badRequest) != null);
    assertThat(letterFor(badScore).getStage()).isEqualTo("decide");
    assertThat(letterFor(badScore).getReason()).startsWith("record is not a Score");
    assertThat(letterFor(badEnriched).getStage()).isEqualTo("route");
    assertThat(letterFor(badEnriched).getSourceTopic())
        .isEqualTo(Topics.TRANSACTIONS_ENRICHED.in(ns));
    assertThat(letterFor(badRequest).getStage()).isEqualTo("score");
    assertThat(letterFor(badRequest).getSourceTopic()).isEqualTo(Topics.scoring("champion").in(ns));

    // Each can be resubmitted to where it came from (here, unfixed: it comes back, marked)
    DeadLetterQueue queue = new DeadLetterQueue(pulsar.client(), System.out::println);
    List<byte[]> originals = List.of(garbage, badEnriched, badRequest, badScore);
    List<DeadLetterQueue.Entry> entries =
        queue.read(ns).stream()
            .filter(
                e ->
                    originals.stream()
                        .anyMatch(o -> Arrays.equals(o, e.letter().getOriginal().toByteArray())))
            .toList();
    assertThat(entries).hasSize(4);
    Set<String> ids = entries.stream().map(DeadLetterQueue.Entry::id).collect(Collectors.toSet());
    assertThat(
            queue.resubmit(
                DeadLetterQueue.resubmissions(
                    entries, new DeadLetterQueue.Selection(null, null, ids))))
        .isEqualTo(4);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                deadLetters.stream()
                        .filter(
                            l ->
                                ids.contains(
                                    l.getPropertiesMap().get(DeadLetterQueue.RESUBMITTED_FROM)))
                        .count()
                    == 4);
    for (DeadLetterQueue.Entry entry : entries) {
      DeadLetter again =
          deadLetters.stream()
              .filter(
                  l ->
                      entry.id().equals(l.getPropertiesMap().get(DeadLetterQueue.RESUBMITTED_FROM)))
              .findFirst()
              .orElseThrow();
      assertThat(again.getStage()).isEqualTo(entry.letter().getStage());
      assertThat(again.getSourceTopic()).isEqualTo(entry.letter().getSourceTopic());
      assertThat(again.getOriginal()).isEqualTo(entry.letter().getOriginal());
    }
    // None of them was decided, and the card counts only its two valid transactions.
    assertThat(decisions)
        .doesNotContainKeys(
            negative.getTransactionId(), nan.getTransactionId(), noCard.getTransactionId());
    CardState state =
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> readCardState(card), s -> s != null && s.getCount() == 2);
    assertThat(state.getAmountSum()).isEqualTo(25.0);
    assertThat(instanceRestarts("enrich")).isEqualTo(enrichRestarts);
    assertThat(instanceRestarts("decide")).isEqualTo(decideRestarts);
  }

  @Test
  void onlineFeaturesAndScoresEqualTheirOfflineRecomputationFromTheTransactionLog()
      throws Exception {
    // Given a recorded stream on cards of their own
    String prefix = "parity-" + UUID.randomUUID() + "-";
    TransactionGenerator generator =
        new TransactionGenerator(
            new TransactionGenerator.Options(System.nanoTime(), 40, 0.05, DAYTIME, 30_000));
    List<Transaction> log = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      Transaction txn = generator.next().transaction();
      log.add(txn.toBuilder().setCardId(prefix + txn.getCardId()).build());
    }

    // When it flows through the pipeline
    for (Transaction txn : log) {
      transactions.newMessage().key(txn.getCardId()).value(txn).sendAsync();
    }
    transactions.flush();
    Set<String> ids = log.stream().map(Transaction::getTransactionId).collect(Collectors.toSet());
    await().atMost(DECIDED_WITHIN).until(() -> decisions.keySet().containsAll(ids));

    // Then the features equal those computed offline from the log, in order, by the same spec and
    // the merchant table loaded into the unit
    Map<String, CardState> cards = new java.util.HashMap<>();
    float[] rows = new float[log.size() * FeatureSpec.size()];
    for (int i = 0; i < log.size(); i++) {
      Transaction txn = log.get(i);
      CardState prior = cards.getOrDefault(txn.getCardId(), CardState.getDefaultInstance());
      FeatureSpec.compute(txn, prior, generator.merchantRisks(), rows, i * FeatureSpec.size());
      cards.put(txn.getCardId(), FeatureSpec.apply(prior, txn, generator.merchantRisks()));
      JsonNode online =
          JSON.readTree(decisions.get(txn.getTransactionId()).get(0).getFeaturesJson());
      for (int f = 0; f < FeatureSpec.size(); f++) {
        assertThat(online.get(FeatureSpec.NAMES.get(f)).asDouble())
            .as("%s of %s", FeatureSpec.NAMES.get(f), txn.getTransactionId())
            .isEqualTo((double) rows[i * FeatureSpec.size() + f]);
      }
    }
    // And the scores equal the same model's offline scores of those features
    float[] offline;
    try (TensorFlowModel model = TensorFlowModel.load(pulsar.model())) {
      offline = model.score(rows, log.size());
    }
    for (int i = 0; i < log.size(); i++) {
      Decision d = decisions.get(log.get(i).getTransactionId()).get(0);
      assertThat(d.getFallback()).isFalse();
      assertThat(d.getScore())
          .as("score of %s", d.getTransactionId())
          .isCloseTo(offline[i], org.assertj.core.data.Offset.offset(1e-6));
    }
  }

  @Test
  void deployingTheSameFilesAgainChangesNothing() throws Exception {
    Pipeline.Result again =
        pipeline.deploy(unit, pipeline.modelLocationOverrides(pulsar.model().toString()));

    assertThat(again.provisioned()).isEmpty();
    assertThat(again.functions().values()).containsOnly(FunctionDeployer.Outcome.UNCHANGED);
  }

  private String send(Transaction txn) throws PulsarClientException {
    transactions.newMessage().key(txn.getCardId()).value(txn).send();
    return txn.getTransactionId();
  }

  private static Transaction ordinary(String card, long eventTimeMs, double amount) {
    return Transaction.newBuilder()
        .setTransactionId("it-tx-" + UUID.randomUUID())
        .setCardId(card)
        .setMerchantId("merchant-7")
        .setAmount(amount)
        .setCurrency("EUR")
        .setEventTimeMs(eventTimeMs)
        .setChannel(Channel.POS)
        .setCountry("DE")
        .setMerchantCategory("5411")
        .build();
  }

  private DeadLetter letterFor(byte[] original) {
    return deadLetters.stream()
        .filter(l -> java.util.Arrays.equals(l.getOriginal().toByteArray(), original))
        .findFirst()
        .orElse(null);
  }

  private CardState readCardState(String card) throws Exception {
    FunctionState state;
    try {
      state =
          pulsar
              .admin()
              .functions()
              .getFunctionState(ns.tenant(), ns.namespace(), "enrich", "card:" + card);
    } catch (org.apache.pulsar.client.admin.PulsarAdminException.NotFoundException e) {
      return null;
    }
    byte[] bytes =
        state.getStringValue() != null
            ? state.getStringValue().getBytes(StandardCharsets.UTF_8)
            : state.getByteValue();
    return CardState.parseFrom(bytes);
  }

  private long instanceRestarts(String function) throws Exception {
    FunctionStatus status =
        pulsar.admin().functions().getFunctionStatus(ns.tenant(), ns.namespace(), function);
    return status.getInstances().stream().mapToLong(i -> i.getStatus().getNumRestarts()).sum();
  }

  private <T> void collect(String topic, Schema<T> schema, java.util.function.Consumer<T> sink)
      throws PulsarClientException {
    collector.collect(topic, schema, sink);
  }
}
