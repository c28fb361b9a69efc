package io.decisionflow.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.DeadLetterQueue;
import io.decisionflow.deploy.Pipeline;
import io.decisionflow.deploy.Provisioner;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.DeadLetter;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Lineage;
import io.decisionflow.schemas.Score;
import io.decisionflow.schemas.ScoringRequest;
import io.decisionflow.schemas.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.common.policies.data.AutoTopicCreationOverride;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * A failure that may pass, on the real standalone: decide (deployed alone, 3 attempts, 2 s apart at
 * first) cannot copy an alert while {@code fraud-alerts} does not exist (deleted, and the namespace
 * does not create topics on demand). Its record is tried again from delayed copies and, after the
 * third attempt, dead-lettered with the attempts and the cause; once the topic is back, a record
 * that failed once is decided on its next attempt.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class TransientFailureIT {

  private PulsarStandalone pulsar;
  private TopicCollector collector;
  private BusinessUnit unit;
  private BusinessNamespace ns;
  private final Map<String, Decision> decisions = new ConcurrentHashMap<>();
  private final Queue<DeadLetter> deadLetters = new ConcurrentLinkedQueue<>();

  @BeforeAll
  void deployDecideAlone() throws Exception {
    pulsar = PulsarStandalone.get();
    collector = new TopicCollector(pulsar.client());
    unit = TestUnits.isolated(pulsar.projectDir(), "payments");
    ns = unit.pipelineNamespace();
    Map<String, Object> decide = unit.function("decide").userConfig;
    decide.put("maxAttempts", 3);
    decide.put("retryDelayMs", 2000);
    unit.pipeline.functions.get("decide").userConfig = decide;
    Pipeline pipeline = new Pipeline(pulsar.admin(), pulsar.projectDir(), System.out::println);
    new Provisioner(pulsar.admin(), System.out::println).provision(unit, pipeline.modelSlots());
    collector.collect(
        Topics.DECISIONS.in(ns),
        Topics.DECISIONS.schema(),
        d -> decisions.put(d.getTransactionId(), d));
    collector.collect(Topics.DEAD_LETTERS.in(ns), Topics.DEAD_LETTERS.schema(), deadLetters::add);
    TestUnits.deployAlone(pulsar, unit, "decide");
  }

  @AfterAll
  void undeploy() throws Exception {
    if (collector != null) {
      collector.close();
    }
    if (unit != null) {
      new Pipeline(pulsar.admin(), pulsar.projectDir(), System.out::println).undeploy(unit);
    }
  }

  @Test
  void aRecordIsTriedAgainThenDeadLetteredWithItsAttemptsAndOnceTheCauseIsGoneDecided()
      throws Exception {
    String alerts = Topics.FRAUD_ALERTS.in(ns);
    // The topics decide reads and writes, except fraud-alerts, exist before topics stop being
    // created on demand.
    List<String> existing = pulsar.admin().topics().getList(ns.toString());
    for (String topic :
        List.of(
            Topics.SCORES.in(ns),
            Topics.DECISIONS.in(ns),
            Topics.TRANSACTIONS_OK.in(ns),
            Topics.DEAD_LETTERS.in(ns))) {
      if (!existing.contains(topic)) {
        pulsar.admin().topics().createNonPartitionedTopic(topic);
      }
    }
    pulsar
        .admin()
        .namespaces()
        .setAutoTopicCreation(
            ns.toString(),
            AutoTopicCreationOverride.builder()
                .allowAutoTopicCreation(false)
                .topicType("non-partitioned")
                .build());
    if (pulsar.admin().topics().getList(ns.toString()).contains(alerts)) {
      pulsar.admin().topics().delete(alerts, true);
    }

    // Given fraud-alerts is gone, an alerting score
    Score first = alertingScore("tf-" + UUID.randomUUID());
    try (Producer<Score> producer =
        pulsar.client().newProducer(Topics.SCORES.schema()).topic(Topics.SCORES.in(ns)).create()) {
      producer.newMessage().key("card-tf").value(first).send();

      // Then after three attempts it is a dead letter, with the attempts and the cause
      await("the dead letter")
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> letterOf(first) != null);
      DeadLetter letter = letterOf(first);
      assertThat(letter.getStage()).isEqualTo("decide");
      assertThat(letter.getAttempts()).isEqualTo(3);
      assertThat(letter.getReason()).startsWith("decide failed 3 times, last: ");
      assertThat(letter.getErrorClass())
          .isEqualTo(
              "org.apache.pulsar.client.api.PulsarClientException$TopicDoesNotExistException");
      assertThat(letter.getSourceTopic()).isEqualTo(Topics.SCORES.in(ns));
      assertThat(letter.getPropertiesMap()).containsEntry("decisionflow.attempt", "3");
      assertThat(decisions).doesNotContainKey(transactionId(first));
      // ... and the dead-letter tool lists it under its stage and reason
      assertThat(
              DeadLetterQueue.groups(
                  new DeadLetterQueue(pulsar.client(), System.out::println).read(ns)))
          .anyMatch(g -> g.stage().equals("decide") && g.reason().startsWith("decide failed 3"));

      // When the topic is back, a record sent meanwhile is decided on a later attempt
      Score second = alertingScore("tf-" + UUID.randomUUID());
      producer.newMessage().key("card-tf").value(second).send();
      await("the second record's first failure")
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> attemptsSeen(second) >= 1);
      pulsar.admin().topics().createNonPartitionedTopic(alerts);
      await("the second decision")
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(500))
          .until(() -> decisions.containsKey(transactionId(second)));
      assertThat(letterOf(second)).isNull();
    }
  }

  /** How many retry copies of {@code score} the scores topic holds (attempt 2 and later). */
  private long attemptsSeen(Score score) throws Exception {
    long copies = 0;
    try (var reader =
        pulsar
            .client()
            .newReader(org.apache.pulsar.client.api.Schema.BYTES)
            .topic(Topics.SCORES.in(ns))
            .startMessageId(org.apache.pulsar.client.api.MessageId.earliest)
            .create()) {
      while (reader.hasMessageAvailable()) {
        var message = reader.readNext(5, TimeUnit.SECONDS);
        if (message != null
            && message.getProperty("decisionflow.attempt") != null
            && java.util.Arrays.equals(message.getValue(), score.toByteArray())) {
          copies++;
        }
      }
    }
    return copies;
  }

  private DeadLetter letterOf(Score score) {
    return deadLetters.stream()
        .filter(l -> java.util.Arrays.equals(l.getOriginal().toByteArray(), score.toByteArray()))
        .findFirst()
        .orElse(null);
  }

  private static String transactionId(Score score) {
    return score.getRequest().getEnriched().getTransaction().getTransactionId();
  }

  private static Score alertingScore(String id) {
    EnrichedTransaction enriched =
        EnrichedTransaction.newBuilder()
            .setTransaction(TestTransactions.ordinary("card-tf").toBuilder().setTransactionId(id))
            .setFeatureSpecVersion("v3")
            .setLineage(Lineage.newBuilder().setEnrichedAtMs(1).setRoutedAtMs(2).setScoredAtMs(3))
            .build();
    return Score.newBuilder()
        .setRequest(
            ScoringRequest.newBuilder()
                .setEnriched(enriched)
                .setArm("champion")
                .setModelSlot("champion")
                .setRoutingVersion("static-1"))
        .setModelSlot("champion")
        .setModelVersion("v1")
        .setScore(0.9)
        .build();
  }
}
