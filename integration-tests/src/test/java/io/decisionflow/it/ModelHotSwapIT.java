package io.decisionflow.it;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.FunctionDeployer;
import io.decisionflow.deploy.ModelRegistry;
import io.decisionflow.deploy.ModelStore;
import io.decisionflow.deploy.Pipeline;
import io.decisionflow.deploy.Provisioner;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Channel;
import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Score;
import io.decisionflow.schemas.ScoringRequest;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.control.ModelDeployment;
import io.decisionflow.schemas.control.ModelStatus;
import io.decisionflow.schemas.state.CardState;
import io.decisionflow.stages.enrich.EnrichStage;
import io.decisionflow.stages.enrich.MerchantRisks;
import io.decisionflow.stages.score.SavedModelScorer;
import io.decisionflow.stages.score.ScoreConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.apache.pulsar.common.functions.FunctionConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A score function on a real standalone serves its slot's model from the registry (models stored in
 * a real S3-compatible store), switches to a newly published version mid-stream without a restart,
 * and refuses versions that cannot serve while the current one keeps scoring.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class ModelHotSwapIT {

  private static final String SLOT = "champion";
  private static final String FUNCTION = "score-champion";

  @TempDir static Path cacheDir;
  @TempDir static Path scratch;

  private PulsarStandalone pulsar;
  private BusinessNamespace ns;
  private ModelRegistry registry;
  private ModelStore store;
  private S3Server s3;
  private String storeRoot;
  private Producer<ScoringRequest> requests;
  private Consumer<Score> scores;
  private Consumer<ModelStatus> statuses;
  private final Map<String, Score> scored = new ConcurrentHashMap<>();
  private final Map<String, Integer> timesScored = new ConcurrentHashMap<>();
  private final List<ModelStatus> statusLog = new CopyOnWriteArrayList<>();
  private final AtomicBoolean receiving = new AtomicBoolean(true);
  private ModelDeployment v1;
  private final List<String> sent = new CopyOnWriteArrayList<>();
  private ModelDeployment v2;

  @BeforeAll
  void deployAScoreFunctionForASlotWhoseModelIsPublished() throws Exception {
    pulsar = PulsarStandalone.get();
    BusinessUnit unit = TestUnits.isolated(pulsar.projectDir(), "payments");
    ns = unit.pipelineNamespace();
    new Provisioner(pulsar.admin(), System.out::println).provision(unit, List.of(SLOT));
    registry = new ModelRegistry(pulsar.client(), System.out::println);
    // Models live in a real S3-compatible store, which the function reaches with its secrets.
    s3 = S3Server.get();
    String bucket = "models-" + UUID.randomUUID().toString().substring(0, 8);
    s3.createBucket(bucket);
    storeRoot = "s3://" + bucket + "/decisionflow";
    store = ModelStore.open(storeRoot, s3.settings());
    v1 = registry.publish(ns, SLOT, pulsar.model(), store, "it");

    scores = subscribe(Topics.SCORES.schema(), Topics.SCORES.in(ns));
    statuses = subscribe(Topics.MODEL_STATUS.schema(), Topics.MODEL_STATUS.in(ns));
    collect(
        scores,
        score -> {
          String id = score.getRequest().getEnriched().getTransaction().getTransactionId();
          scored.put(id, score);
          timesScored.merge(id, 1, Integer::sum);
        });
    collect(statuses, statusLog::add);
    requests =
        pulsar
            .client()
            .newProducer(Topics.scoring(SLOT).schema())
            .topic(Topics.scoring(SLOT).in(ns))
            .create();

    // The function's config names no model: it serves what the registry announced.
    Pipeline pipeline = new Pipeline(pulsar.admin(), pulsar.projectDir(), System.out::println);
    FunctionDeployer.Deployment score =
        FunctionDeployer.render(
            FunctionDeployer.read(pipeline.functionsDir().resolve(FUNCTION + ".yaml")),
            unit,
            Map.of(),
            pulsar.projectDir());
    FunctionConfig config = score.config();
    Map<String, Object> userConfig = new HashMap<>(config.getUserConfig());
    userConfig.remove("modelLocation");
    userConfig.put("modelStore", Map.of("endpoint", s3.endpoint()));
    userConfig.put("modelCacheDir", cacheDir.toString());
    config.setUserConfig(userConfig);
    config.setSecrets(
        Map.of(
            ScoreConfig.SECRET_ACCESS_KEY, S3Server.ACCESS_KEY,
            ScoreConfig.SECRET_SECRET_KEY, S3Server.SECRET_KEY));
    assertThat(new FunctionDeployer(pulsar.admin(), System.out::println).apply(score))
        .isEqualTo(FunctionDeployer.Outcome.CREATED);
    pipeline.awaitRunning(unit, Duration.ofMinutes(3));
  }

  @AfterAll
  void undeploy() throws Exception {
    receiving.set(false);
    if (store != null) {
      store.close();
    }
    if (requests != null) {
      requests.close();
    }
    if (ns != null) {
      new FunctionDeployer(pulsar.admin(), System.out::println)
          .delete(ns.tenant(), ns.namespace(), FUNCTION);
    }
  }

  @Test
  @Order(1)
  void aNewVersionPublishedMidStreamTakesOverWithoutARestartAndEveryRecordIsScoredOnce()
      throws Exception {
    // Given the function serves v1 from the store, as the registry announced
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () -> latestStatus() != null && latestStatus().getEvent() == ModelStatus.Event.LOADED);
    assertThat(latestStatus().getServingVersion()).isEqualTo("v1");
    assertThat(latestStatus().getServingUri()).isEqualTo(v1.getUri());
    assertThat(latestStatus().getServingSha256()).isEqualTo(v1.getSha256());

    // When transactions stream in, and v2 is published for the slot in the middle of the stream
    // 5 records every 20 ms, ~250 records/s
    ScheduledExecutorService stream = Executors.newSingleThreadScheduledExecutor();
    stream.scheduleAtFixedRate(
        () -> {
          try {
            sent.addAll(send(5));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        },
        0,
        20,
        MILLISECONDS);
    await().atMost(Duration.ofSeconds(60)).until(() -> scored.size() >= 200);
    Path v2Dir = FaultyModels.write(scratch.resolve("v2"), 1e12, "v2", SavedModelScorer.SIGNATURE);
    v2 = registry.publish(ns, SLOT, v2Dir, store, "it");
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                scored.values().stream().filter(s -> s.getModelVersion().equals("v2")).count()
                    >= 200);
    stream.shutdown();
    stream.awaitTermination(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(60)).until(() -> scored.keySet().containsAll(sent));

    // Then every record was scored exactly once, by v1 until the switch and by v2 after it
    assertThat(timesScored).hasSize(sent.size());
    assertThat(timesScored.values()).containsOnly(1);
    List<Score> byV1 = withVersion("v1");
    List<Score> byV2 = withVersion("v2");
    assertThat(byV1).hasSizeGreaterThanOrEqualTo(200);
    assertThat(byV2).hasSizeGreaterThanOrEqualTo(200);
    assertThat(byV1.size() + byV2.size()).isEqualTo(sent.size());
    long lastV1 = byV1.stream().mapToLong(ModelHotSwapIT::scoredAt).max().orElseThrow();
    long firstV2 = byV2.stream().mapToLong(ModelHotSwapIT::scoredAt).min().orElseThrow();
    assertThat(lastV1).isLessThanOrEqualTo(firstV2);

    // And the instance switched in place: no restart, and it says what it serves now
    assertThat(restarts()).isZero();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> "v2".equals(latestStatus().getServingVersion()));
    assertThat(latestStatus().getEvent()).isEqualTo(ModelStatus.Event.LOADED);
    assertThat(latestStatus().getServingSha256()).isEqualTo(v2.getSha256());
  }

  @Test
  @Order(2)
  void versionsThatCannotServeAreRefusedWithTheReasonAndTheCurrentVersionKeepsScoring()
      throws Exception {
    // Given v2 serves
    await().atMost(Duration.ofSeconds(30)).until(() -> "v2".equals(servingVersion()));
    Path noSignature =
        FaultyModels.write(scratch.resolve("v3"), 1e12, "v3", "not_" + SavedModelScorer.SIGNATURE);
    ModelDeployment good = registry.publish(ns, "challenger", noSignature, store, "it");

    // When versions that cannot serve are announced: a wrong sha256, a URI with nothing behind it,
    // a SavedModel without the serving signature, and a model of another feature spec
    String wrongSha = "0".repeat(64);
    registry.announce(
        ns, v2.toBuilder().setModelVersion("v2-tampered").setSha256(wrongSha).build());
    registry.announce(
        ns, v2.toBuilder().setModelVersion("v9").setUri(storeRoot + "/fraud/v9/").build());
    registry.announce(ns, good.toBuilder().setModelSlot(SLOT).build());
    registry.announce(
        ns, v2.toBuilder().setModelVersion("v10").setFeatureSpecVersion("v0").build());

    // Then each is refused, saying why, and v2 goes on serving
    await().atMost(Duration.ofSeconds(90)).until(() -> refusals().size() >= 4);
    List<ModelStatus> refused = refusals();
    assertThat(refused)
        .extracting(ModelStatus::getRequestedVersion)
        .containsExactly("v2-tampered", "v9", "v3", "v10");
    assertThat(refused).allSatisfy(r -> assertThat(r.getServingVersion()).isEqualTo("v2"));
    assertThat(refused.get(0).getReason()).contains("sha256").contains(wrongSha);
    assertThat(refused.get(1).getReason()).contains("no model at " + storeRoot + "/fraud/v9/");
    assertThat(refused.get(2).getReason()).contains("serving_default");
    assertThat(refused.get(3).getReason()).contains("feature spec 'v0'");
    List<String> after = send(20);
    sent.addAll(after);
    await().atMost(Duration.ofSeconds(60)).until(() -> scored.keySet().containsAll(after));
    assertThat(after)
        .allSatisfy(id -> assertThat(scored.get(id).getModelVersion()).isEqualTo("v2"));
    assertThat(restarts()).isZero();

    // And the registry reports what the instance serves and what it refused last
    ModelStatus reported = registry.statuses(ns).get(SLOT + "/0");
    assertThat(reported.getServingVersion()).isEqualTo("v2");
    assertThat(reported.getEvent()).isEqualTo(ModelStatus.Event.REFUSED);
    assertThat(reported.getRequestedVersion()).isEqualTo("v10");

    // And the worker's /metrics counts the switch and the refusals, with the breaker closed
    Map<String, String> labels =
        Map.of("fqfn", ns + "/" + FUNCTION, "instance_id", "0", "slot", SLOT);
    WorkerMetrics.eventually(
        metrics -> {
          assertThat(
                  WorkerMetrics.value(metrics, "decisionflow_score_model_switches_total", labels))
              .hasValue(1.0);
          assertThat(
                  WorkerMetrics.value(metrics, "decisionflow_score_model_refusals_total", labels))
              .hasValue(4.0);
          assertThat(WorkerMetrics.value(metrics, "decisionflow_score_breaker_state", labels))
              .hasValue(0.0);
          assertThat(
                  WorkerMetrics.value(metrics, "decisionflow_score_model_rows_total", labels)
                      .orElse(-1))
              .isGreaterThanOrEqualTo(sent.size());
        });
  }

  private List<ModelStatus> refusals() {
    return statusLog.stream().filter(s -> s.getEvent() == ModelStatus.Event.REFUSED).toList();
  }

  private ModelStatus latestStatus() {
    return statusLog.isEmpty() ? null : statusLog.get(statusLog.size() - 1);
  }

  private String servingVersion() {
    ModelStatus latest = latestStatus();
    return latest == null ? null : latest.getServingVersion();
  }

  private List<Score> withVersion(String version) {
    return scored.values().stream().filter(s -> s.getModelVersion().equals(version)).toList();
  }

  private static long scoredAt(Score score) {
    return score.getRequest().getEnriched().getLineage().getScoredAtMs();
  }

  private long restarts() throws Exception {
    return pulsar
        .admin()
        .functions()
        .getFunctionStatus(ns.tenant(), ns.namespace(), FUNCTION)
        .getInstances()
        .get(0)
        .getStatus()
        .getNumRestarts();
  }

  private <T> Consumer<T> subscribe(org.apache.pulsar.client.api.Schema<T> schema, String topic)
      throws PulsarClientException {
    return pulsar
        .client()
        .newConsumer(schema)
        .topic(topic)
        .subscriptionName("it-" + UUID.randomUUID())
        .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
        .subscribe();
  }

  private <T> void collect(Consumer<T> consumer, java.util.function.Consumer<T> sink) {
    Thread receiver =
        new Thread(
            () -> {
              while (receiving.get()) {
                try {
                  Message<T> message = consumer.receive(100, MILLISECONDS);
                  if (message != null) {
                    sink.accept(message.getValue());
                    consumer.acknowledge(message);
                  }
                } catch (PulsarClientException e) {
                  if (receiving.get()) {
                    System.err.println("receive failed: " + e.getMessage());
                  }
                }
              }
              consumer.closeAsync();
            },
            "collect-" + consumer.getTopic());
    receiver.setDaemon(true);
    receiver.start();
  }

  private List<String> send(int n) throws PulsarClientException {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Transaction txn =
          Transaction.newBuilder()
              .setTransactionId("it-tx-" + UUID.randomUUID())
              .setCardId("it-card-" + UUID.randomUUID())
              .setMerchantId("merchant-1")
              .setAmount(30 + i)
              .setCurrency("EUR")
              .setEventTimeMs(System.currentTimeMillis())
              .setChannel(Channel.POS)
              .setCountry("DE")
              .build();
      EnrichedTransaction enriched =
          EnrichStage.enriched(
              txn, CardState.getDefaultInstance(), MerchantRisks.NONE, txn.getEventTimeMs());
      requests.sendAsync(
          ScoringRequest.newBuilder()
              .setEnriched(enriched)
              .setArm(SLOT)
              .setModelSlot(SLOT)
              .setRoutingVersion("it")
              .build());
      ids.add(txn.getTransactionId());
    }
    requests.flush();
    return ids;
  }
}
