package io.decisionflow.it;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.FunctionDeployer;
import io.decisionflow.deploy.Pipeline;
import io.decisionflow.deploy.Provisioner;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Channel;
import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Score;
import io.decisionflow.schemas.ScoringRequest;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.state.CardState;
import io.decisionflow.stages.enrich.EnrichStage;
import io.decisionflow.stages.enrich.MerchantRisks;
import io.decisionflow.stages.score.ScoreStage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.apache.pulsar.common.policies.data.FunctionStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The score function's circuit breaker on a real standalone, with a real SavedModel that fails
 * (returns NaN) for transactions above an amount: the breaker opens, records keep being scored by
 * the fallback rules, and it closes again once the model answers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class ScoreResilienceIT {

  private static final double FAILS_ABOVE_AMOUNT = 100_000;

  private PulsarStandalone pulsar;
  private BusinessUnit unit;
  private BusinessNamespace ns;
  private Producer<ScoringRequest> requests;
  private Consumer<Score> scores;
  private final Map<String, Score> scored = new ConcurrentHashMap<>();
  private final Map<String, Integer> timesScored = new ConcurrentHashMap<>();
  private volatile boolean receiving = true;
  private Path modelDir;

  @BeforeAll
  void deployOneScoreFunctionWithAFaultyModel() throws Exception {
    pulsar = PulsarStandalone.get();
    unit = TestUnits.isolated(pulsar.projectDir(), "payments");
    ns = unit.pipelineNamespace();
    Pipeline pipeline = new Pipeline(pulsar.admin(), pulsar.projectDir(), System.out::println);
    new Provisioner(pulsar.admin(), System.out::println).provision(unit, List.of("champion"));
    modelDir = Files.createTempDirectory("faulty-model");
    Path model = FaultyModels.nanAboveAmount(modelDir.resolve("model"), FAILS_ABOVE_AMOUNT);
    Map<String, Object> settings =
        Map.of(
            "modelLocation", model.toString(),
            "maxBatchSize", 1,
            "maxBatchWaitMs", 0,
            "breakerWindowCalls", 4,
            "breakerOpenSeconds", 5,
            "breakerProbes", 1);
    FunctionDeployer.Deployment score =
        FunctionDeployer.render(
            FunctionDeployer.read(pipeline.functionsDir().resolve("score-champion.yaml")),
            unit,
            Map.of("score-champion", settings),
            pulsar.projectDir());
    assertThat(new FunctionDeployer(pulsar.admin(), System.out::println).apply(score))
        .isEqualTo(FunctionDeployer.Outcome.CREATED);

    scores =
        pulsar
            .client()
            .newConsumer(Topics.SCORES.schema())
            .topic(Topics.SCORES.in(ns))
            .subscriptionName("it-" + UUID.randomUUID())
            .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
            .subscribe();
    Thread receiver =
        new Thread(
            () -> {
              while (receiving) {
                try {
                  Message<Score> message = scores.receive(100, MILLISECONDS);
                  if (message != null) {
                    String id =
                        message
                            .getValue()
                            .getRequest()
                            .getEnriched()
                            .getTransaction()
                            .getTransactionId();
                    scored.put(id, message.getValue());
                    timesScored.merge(id, 1, Integer::sum);
                    scores.acknowledge(message);
                  }
                } catch (PulsarClientException e) {
                  if (receiving) {
                    System.err.println("receive failed: " + e.getMessage());
                  }
                }
              }
            },
            "collect-scores");
    receiver.setDaemon(true);
    receiver.start();
    requests =
        pulsar
            .client()
            .newProducer(Topics.scoring("champion").schema())
            .topic(Topics.scoring("champion").in(ns))
            .create();
    pipeline.awaitRunning(unit, Duration.ofMinutes(3));
  }

  @AfterAll
  void undeploy() throws Exception {
    receiving = false;
    if (requests != null) {
      requests.close();
      scores.close();
    }
    new FunctionDeployer(pulsar.admin(), System.out::println)
        .delete(ns.tenant(), ns.namespace(), "score-champion");
    if (modelDir != null) {
      try (java.util.stream.Stream<Path> files = Files.walk(modelDir)) {
        for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(file);
        }
      }
    }
  }

  @Test
  void theBreakerOpensOnAFailingModelDecisionsContinueAsFallbackAndItClosesWhenTheModelRecovers()
      throws Exception {
    // Given the model answers for ordinary amounts
    List<String> healthy = sendAll(ordinary(3));
    await().atMost(Duration.ofMinutes(3)).until(() -> scored.keySet().containsAll(healthy));
    assertThat(healthy).allSatisfy(id -> assertThat(scored.get(id).getFallback()).isFalse());

    // When it fails for a run of records (NaN above the amount), followed at once by ordinary ones
    List<String> failing = sendAll(huge(6));
    await().atMost(Duration.ofSeconds(60)).until(() -> scored.keySet().containsAll(failing));

    // The open breaker shows on the worker's /metrics (it stays open until the next record comes)
    Map<String, String> labels =
        Map.of("fqfn", ns + "/score-champion", "instance_id", "0", "slot", "champion");
    WorkerMetrics.eventually(
        metrics -> {
          assertThat(WorkerMetrics.value(metrics, "decisionflow_score_breaker_state", labels))
              .hasValue(2.0);
          assertThat(
                  WorkerMetrics.value(metrics, "decisionflow_score_fallback_rows_total", labels)
                      .orElse(-1))
              .isGreaterThanOrEqualTo(failing.size());
        });

    List<String> whileOpen = sendAll(ordinary(5));
    await().atMost(Duration.ofSeconds(60)).until(() -> scored.keySet().containsAll(whileOpen));

    // Then every failing record was still scored, by the rules, and so were ordinary records
    // while the breaker was open (the model was not asked)
    assertThat(failing)
        .allSatisfy(
            id -> {
              assertThat(scored.get(id).getFallback()).isTrue();
              assertThat(scored.get(id).getModelVersion()).isEqualTo(ScoreStage.FALLBACK_VERSION);
              assertThat(scored.get(id).getScore()).isBetween(0.0, 1.0);
            });
    assertThat(whileOpen).anySatisfy(id -> assertThat(scored.get(id).getFallback()).isTrue());

    // And once the open time has passed, a probe reaches the model and the breaker closes
    List<String> probes = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(300))
        .until(
            () -> {
              probes.addAll(sendAll(ordinary(1)));
              return probes.stream()
                  .anyMatch(id -> scored.containsKey(id) && !scored.get(id).getFallback());
            });
    List<String> afterRecovery = sendAll(ordinary(5));
    await().atMost(Duration.ofSeconds(60)).until(() -> scored.keySet().containsAll(afterRecovery));
    assertThat(afterRecovery)
        .allSatisfy(
            id -> {
              assertThat(scored.get(id).getFallback()).isFalse();
              assertThat(scored.get(id).getModelVersion()).isEqualTo("faulty-v1");
            });

    // Nothing was lost or scored twice, and the instance never restarted
    await().atMost(Duration.ofSeconds(30)).until(() -> scored.keySet().containsAll(probes));
    assertThat(timesScored.values()).containsOnly(1);
    FunctionStatus status =
        pulsar.admin().functions().getFunctionStatus(ns.tenant(), ns.namespace(), "score-champion");
    assertThat(status.getInstances().get(0).getStatus().getNumRestarts()).isZero();
    assertThat(WorkerMetrics.value("decisionflow_score_breaker_state", labels)).hasValue(0.0);
  }

  private List<String> sendAll(List<ScoringRequest> batch) throws PulsarClientException {
    List<String> ids = new ArrayList<>();
    for (ScoringRequest request : batch) {
      requests.send(request);
      ids.add(request.getEnriched().getTransaction().getTransactionId());
    }
    return ids;
  }

  private static List<ScoringRequest> ordinary(int n) {
    return requests(n, 30.0);
  }

  private static List<ScoringRequest> huge(int n) {
    return requests(n, FAILS_ABOVE_AMOUNT * 10);
  }

  private static List<ScoringRequest> requests(int n, double amount) {
    List<ScoringRequest> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Transaction txn =
          Transaction.newBuilder()
              .setTransactionId("it-tx-" + UUID.randomUUID())
              .setCardId("it-card-" + UUID.randomUUID())
              .setMerchantId("merchant-1")
              .setAmount(amount)
              .setCurrency("EUR")
              .setEventTimeMs(System.currentTimeMillis())
              .setChannel(Channel.POS)
              .setCountry("DE")
              .build();
      EnrichedTransaction enriched =
          EnrichStage.enriched(
              txn, CardState.getDefaultInstance(), MerchantRisks.NONE, txn.getEventTimeMs());
      out.add(
          ScoringRequest.newBuilder()
              .setEnriched(enriched)
              .setArm("champion")
              .setModelSlot("champion")
              .setRoutingVersion("it")
              .build());
    }
    return out;
  }
}
