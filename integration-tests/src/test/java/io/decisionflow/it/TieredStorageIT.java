package io.decisionflow.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.Pipeline;
import io.decisionflow.deploy.Provisioner;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.admin.LongRunningProcessStatus;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.MessageId;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.Reader;
import org.apache.pulsar.common.policies.data.PersistentTopicInternalStats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Tiered storage on the real standalone and the local S3-compatible server: a business unit whose
 * namespace policies name an offload bucket gets Pulsar's S3 offloader; the closed ledgers of its
 * {@code decisions} topic are offloaded to the bucket, their BookKeeper copies deleted, and every
 * decision still reads back from the beginning, in order.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class TieredStorageIT {

  @Test
  void closedLedgersMoveToTheBucketAndEveryMessageReadsBackFromTheBeginning() throws Exception {
    PulsarStandalone pulsar = PulsarStandalone.get();
    S3Server s3 = S3Server.get();
    String bucket = "offload-" + UUID.randomUUID().toString().substring(0, 8);
    s3.createBucket(bucket);

    // Given: a unit whose namespace offloads every closed ledger and keeps no BookKeeper copy
    BusinessUnit unit = TestUnits.isolated(pulsar.projectDir(), "payments");
    BusinessUnit.Offload offload = new BusinessUnit.Offload();
    offload.bucket = bucket;
    offload.endpoint = s3.endpoint();
    offload.thresholdMb = 0L;
    offload.deletionLagMinutes = 0L;
    unit.namespaces.get(0).policies.offload = offload;
    BusinessNamespace ns = unit.pipelineNamespace();
    List<String> changes =
        new Provisioner(pulsar.admin(), System.out::println)
            .provision(
                unit, new Pipeline(pulsar.admin(), pulsar.projectDir(), line -> {}).modelSlots());
    assertThat(changes).anyMatch(c -> c.startsWith("set offload of " + ns));
    String topic = Topics.DECISIONS.in(ns);

    // When: 3 ledgers of decisions are written (unloading the topic closes its ledger), then one
    // more decision in the ledger that stays open ...
    List<String> sent = new ArrayList<>();
    for (int ledger = 0; ledger < 4; ledger++) {
      try (Producer<Decision> producer =
          pulsar.client().newProducer(Topics.DECISIONS.schema()).topic(topic).create()) {
        for (int i = 0; i < (ledger < 3 ? 100 : 1); i++) {
          String id = "offload-" + ledger + "-" + i;
          producer.newMessage().key("card-" + i).value(decision(id)).sendAsync();
          sent.add(id);
        }
        producer.flush();
      }
      if (ledger < 3) {
        pulsar.admin().topics().unload(topic);
      }
    }
    // ... and the ledgers before the open one are offloaded
    pulsar.admin().topics().triggerOffload(topic, pulsar.admin().topics().getLastMessageId(topic));
    await("offload to finish")
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () ->
                pulsar.admin().topics().offloadStatus(topic).getStatus()
                    != LongRunningProcessStatus.Status.RUNNING);
    assertThat(pulsar.admin().topics().offloadStatus(topic).getStatus())
        .as("offload status: %s", pulsar.admin().topics().offloadStatus(topic).getLastError())
        .isEqualTo(LongRunningProcessStatus.Status.SUCCESS);

    // Then: every closed ledger holding decisions is offloaded, and its objects are in the bucket
    PersistentTopicInternalStats stats = pulsar.admin().topics().getInternalStats(topic);
    List<PersistentTopicInternalStats.LedgerInfo> full =
        stats.ledgers.subList(0, stats.ledgers.size() - 1).stream()
            .filter(l -> l.entries > 0)
            .toList();
    assertThat(full).hasSizeGreaterThanOrEqualTo(3).allMatch(l -> l.offloaded);
    List<String> objects =
        s3.client().listObjectsV2(b -> b.bucket(bucket)).contents().stream()
            .map(o -> o.key())
            .toList();
    for (PersistentTopicInternalStats.LedgerInfo ledger : full) {
      assertThat(objects).anyMatch(key -> key.contains("-ledger-" + ledger.ledgerId));
    }

    // ... and their BookKeeper copies are deleted (deletion lag 0; a trim applies it): the ledger
    // metadata of BookKeeper no longer has them, while it has the open ledger
    List<Long> offloaded = full.stream().map(l -> l.ledgerId).toList();
    await("BookKeeper copies deleted")
        .atMost(Duration.ofMinutes(3))
        .pollInterval(Duration.ofSeconds(2))
        .until(
            () -> {
              pulsar.admin().topics().trimTopic(topic);
              return pulsar.admin().topics().getInternalStats(topic, true).ledgers.stream()
                  .filter(l -> offloaded.contains(l.ledgerId))
                  .allMatch(l -> l.offloaded && l.metadata == null);
            });
    PersistentTopicInternalStats after = pulsar.admin().topics().getInternalStats(topic, true);
    assertThat(after.ledgers.get(after.ledgers.size() - 1).metadata)
        .as("BookKeeper metadata of the open ledger")
        .isNotNull();

    // ... and every decision reads back from the beginning, in order, from the bucket
    List<String> read = new ArrayList<>();
    try (Reader<Decision> reader =
        pulsar
            .client()
            .newReader(Topics.DECISIONS.schema())
            .topic(topic)
            .startMessageId(MessageId.earliest)
            .create()) {
      while (read.size() < sent.size()) {
        Message<Decision> message = reader.readNext(30, TimeUnit.SECONDS);
        assertThat(message).as("message %d of %d", read.size() + 1, sent.size()).isNotNull();
        read.add(message.getValue().getTransactionId());
      }
    }
    assertThat(read).containsExactlyElementsOf(sent);
  }

  private static Decision decision(String id) {
    return Decision.newBuilder()
        .setTransactionId(id)
        .setCardId("card-1")
        .setOutcome("OK")
        .setScore(0.01)
        .setDecidedAtMs(System.currentTimeMillis())
        .build();
  }
}
