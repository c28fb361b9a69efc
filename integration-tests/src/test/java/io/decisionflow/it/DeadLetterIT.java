package io.decisionflow.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.DeadLetterQueue;
import io.decisionflow.deploy.Pipeline;
import io.decisionflow.deploy.Provisioner;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Channel;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.Transaction;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Dead letters on a real standalone, through the code of {@code decisionflow dead-letters}: enrich
 * (deployed alone) dead-letters a malformed transaction with its reason; the listing groups it by
 * stage and reason; resubmitting it publishes the original bytes again to {@code transactions},
 * where it fails again and comes back marked with the dead letter it was resubmitted from.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class DeadLetterIT {

  private PulsarStandalone pulsar;
  private BusinessUnit unit;
  private BusinessNamespace ns;
  private DeadLetterQueue queue;

  @BeforeAll
  void deployEnrichAlone() throws Exception {
    pulsar = PulsarStandalone.get();
    unit = TestUnits.isolated(pulsar.projectDir(), "payments");
    ns = unit.pipelineNamespace();
    queue = new DeadLetterQueue(pulsar.client(), System.out::println);
    Pipeline pipeline = new Pipeline(pulsar.admin(), pulsar.projectDir(), System.out::println);
    new Provisioner(pulsar.admin(), System.out::println).provision(unit, pipeline.modelSlots());
    TestUnits.deployAlone(pulsar, unit, "enrich");
  }

  @AfterAll
  void undeploy() throws Exception {
    if (unit != null) {
      new Pipeline(pulsar.admin(), pulsar.projectDir(), System.out::println).undeploy(unit);
    }
  }

  @Test
  void aDeadLetterIsListedByStageAndReasonAndResubmittedToWhereItCameFrom() throws Exception {
    // Given: a transaction with a negative amount, and a valid one
    String card = "dl-" + UUID.randomUUID().toString().substring(0, 8);
    Transaction bad = transaction(card, card + "-bad", -5.0);
    try (Producer<byte[]> producer =
        pulsar.client().newProducer(Schema.BYTES).topic(Topics.TRANSACTIONS.in(ns)).create()) {
      producer.newMessage().key(card).property("origin", "it").value(bad.toByteArray()).send();
      producer
          .newMessage()
          .key(card)
          .value(transaction(card, card + "-ok", 5.0).toByteArray())
          .send();
    }

    // When enrich has processed them
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> !queue.read(ns).isEmpty());

    // Then only the bad one is a dead letter, listed under enrich and its reason
    List<DeadLetterQueue.Entry> letters = queue.read(ns);
    assertThat(letters).hasSize(1);
    DeadLetterQueue.Entry first = letters.get(0);
    assertThat(first.letter().getOriginal().toByteArray()).isEqualTo(bad.toByteArray());
    assertThat(first.letter().getKey()).isEqualTo(card);
    assertThat(first.letter().getSourceTopic()).isEqualTo(Topics.TRANSACTIONS.in(ns));
    assertThat(DeadLetterQueue.groups(letters))
        .extracting(
            DeadLetterQueue.Group::stage,
            DeadLetterQueue.Group::reason,
            DeadLetterQueue.Group::count)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("enrich", "amount must be >= 0, was -5.0", 1L));

    // When it is resubmitted (selected by stage and reason)
    int sent =
        queue.resubmit(
            DeadLetterQueue.resubmissions(
                letters, new DeadLetterQueue.Selection("enrich", "amount", Set.of())));

    // Then the same bytes went back to transactions, failed again, and say where they came from
    assertThat(sent).isEqualTo(1);
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> queue.read(ns).size() == 2);
    DeadLetterQueue.Entry again = queue.read(ns).get(1);
    assertThat(again.letter().getOriginal().toByteArray()).isEqualTo(bad.toByteArray());
    assertThat(again.letter().getPropertiesMap())
        .containsEntry(DeadLetterQueue.RESUBMITTED_FROM, first.id())
        .containsEntry("origin", "it");
  }

  private static Transaction transaction(String card, String id, double amount) {
    return Transaction.newBuilder()
        .setTransactionId(id)
        .setCardId(card)
        .setAmount(amount)
        .setCurrency("EUR")
        .setMerchantId("merchant-1")
        .setCountry("DE")
        .setChannel(Channel.POS)
        .setEventTimeMs(Instant.parse("2026-06-01T10:00:00Z").toEpochMilli())
        .build();
  }
}
