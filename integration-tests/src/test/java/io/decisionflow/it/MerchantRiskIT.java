package io.decisionflow.it;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.MerchantCsv;
import io.decisionflow.deploy.MerchantRegistry;
import io.decisionflow.deploy.Pipeline;
import io.decisionflow.deploy.Provisioner;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Channel;
import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Feature;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.reference.MerchantRisk;
import io.decisionflow.stages.enrich.FeatureSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pulsar.client.api.Producer;
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
 * The merchant reference table on a real standalone: merchants loaded from CSV through the code of
 * {@code decisionflow merchants load} before enrich starts, joined into every enriched record; then
 * changed live (a new risk, a deletion, a record enrich must ignore) while transactions stream in,
 * without redeploying or restarting enrich. The enrich function runs alone: transactions in, {@code
 * transactions-enriched} observed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class MerchantRiskIT {

  private static final long DAYTIME = Instant.parse("2026-06-01T10:00:00Z").toEpochMilli();
  private static final int MERCHANT_RISK = FeatureSpec.NAMES.indexOf("merchant_risk");
  private static final int MERCHANT_UNKNOWN = FeatureSpec.NAMES.indexOf("merchant_unknown");

  private final String prefix = "mr-" + UUID.randomUUID().toString().substring(0, 8) + "-";
  private final String low = prefix + "low";
  private final String high = prefix + "high";
  private final String live = prefix + "live";
  private final String gone = prefix + "gone";
  private final String unknown = prefix + "unknown";

  private PulsarStandalone pulsar;
  private TopicCollector collector;
  private BusinessUnit unit;
  private BusinessNamespace ns;
  private MerchantRegistry registry;
  private Path scratch;
  private Producer<Transaction> transactions;
  private final Map<String, EnrichedTransaction> enriched = new ConcurrentHashMap<>();
  private final AtomicInteger cards = new AtomicInteger();

  @BeforeAll
  void loadMerchantsThenDeployEnrichAlone() throws Exception {
    pulsar = PulsarStandalone.get();
    collector = new TopicCollector(pulsar.client());
    registry = new MerchantRegistry(pulsar.client(), System.out::println);
    unit = TestUnits.isolated(pulsar.projectDir(), "payments");
    ns = unit.pipelineNamespace();
    Pipeline pipeline = new Pipeline(pulsar.admin(), pulsar.projectDir(), System.out::println);
    new Provisioner(pulsar.admin(), System.out::println).provision(unit, pipeline.modelSlots());
    scratch = Files.createTempDirectory("merchant-risk-it");

    // Given a merchant file loaded as `decisionflow merchants load` does
    MerchantRegistry.Summary loaded =
        load(
            "merchant_id,risk,category",
            low + ",0.1,5411",
            high + ",0.85,5732",
            live + ",0.2,5812",
            gone + ",0.5,5999");
    assertThat(loaded).isEqualTo(new MerchantRegistry.Summary(4, 0));
    assertThat(registry.table(ns)).containsOnlyKeys(low, high, live, gone);

    collector.collect(
        Topics.TRANSACTIONS_ENRICHED.in(ns),
        Topics.TRANSACTIONS_ENRICHED.schema(),
        e -> enriched.put(e.getTransaction().getTransactionId(), e));
    transactions =
        pulsar
            .client()
            .newProducer(Topics.TRANSACTIONS.schema())
            .topic(Topics.TRANSACTIONS.in(ns))
            .enableBatching(true)
            .create();

    // and enrich deployed after it
    TestUnits.deployAlone(pulsar, unit, "enrich");
  }

  @AfterAll
  void undeploy() throws Exception {
    if (collector != null) {
      collector.close();
    }
    if (transactions != null) {
      transactions.close();
    }
    if (unit != null) {
      new Pipeline(pulsar.admin(), pulsar.projectDir(), System.out::println).undeploy(unit);
    }
  }

  @Test
  @Order(1)
  void theLoadedTableIsJoinedIntoTheFirstRecordsAndAnAbsentMerchantIsUnknown() throws Exception {
    // When a transaction at each merchant, and at one not in the table, is enriched
    List<String> ids = new ArrayList<>();
    for (String merchant : List.of(low, high, live, gone, unknown)) {
      ids.add(send(merchant));
    }
    transactions.flush();
    await().atMost(Duration.ofMinutes(2)).until(() -> enriched.keySet().containsAll(ids));

    // Then each carries its merchant's risk from the table
    assertThat(enriched.get(ids.get(0)).getFeatureSpecVersion()).isEqualTo(FeatureSpec.VERSION);
    assertMerchant(ids.get(0), 0.1, false);
    assertMerchant(ids.get(1), 0.85, false);
    assertMerchant(ids.get(2), 0.2, false);
    assertMerchant(ids.get(3), 0.5, false);
    assertMerchant(ids.get(4), 0.0, true);
    assertThat(enriched.get(ids.get(0)).getFeaturesList())
        .extracting(Feature::getName)
        .containsExactlyElementsOf(FeatureSpec.NAMES);
  }

  @Test
  @Order(2)
  void liveChangesApplyToLaterRecordsWithoutRedeployingEnrich() throws Exception {
    // Given transactions at the changing merchants, streaming in (10 records every 50 ms)
    long restartsBefore = restarts();
    List<String> streamed = new CopyOnWriteArrayList<>();
    ScheduledExecutorService stream = Executors.newSingleThreadScheduledExecutor();
    stream.scheduleAtFixedRate(
        () -> {
          try {
            for (int i = 0; i < 5; i++) {
              streamed.add(send(live));
              streamed.add(send(gone));
            }
          } catch (PulsarClientException e) {
            throw new IllegalStateException(e);
          }
        },
        0,
        50,
        MILLISECONDS);

    // When the live merchant's risk changes and the other is deleted, from a file as before
    MerchantRegistry.Summary changed;
    try {
      await()
          .atMost(Duration.ofMinutes(1))
          .until(() -> streamed.stream().filter(enriched::containsKey).count() >= 20);
      changed = load("merchant_id,risk", live + ",0.9", gone + ",");

      // Then within seconds the stream's records carry the new risk, and the deleted merchant is
      // unknown
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  streamed.stream()
                      .map(enriched::get)
                      .anyMatch(
                          e ->
                              e != null
                                  && e.getTransaction().getMerchantId().equals(live)
                                  && risk(e) == 0.9f));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  streamed.stream()
                      .map(enriched::get)
                      .anyMatch(
                          e ->
                              e != null
                                  && e.getTransaction().getMerchantId().equals(gone)
                                  && unknown(e)));
    } finally {
      stream.shutdown();
      stream.awaitTermination(30, TimeUnit.SECONDS);
    }
    assertThat(changed).isEqualTo(new MerchantRegistry.Summary(1, 1));
    // the stream saw both tables: the old one before the change, the new one after it
    await().atMost(Duration.ofMinutes(1)).until(() -> enriched.keySet().containsAll(streamed));
    assertThat(streamed.stream().map(enriched::get).filter(e -> risk(e) == 0.2f)).isNotEmpty();
    assertThat(registry.table(ns)).containsOnlyKeys(low, high, live);

    // And every record sent from now on uses the new table
    List<String> after = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      after.add(send(live));
      after.add(send(gone));
    }
    transactions.flush();
    await().atMost(Duration.ofMinutes(1)).until(() -> enriched.keySet().containsAll(after));
    for (int i = 0; i < after.size(); i += 2) {
      assertMerchant(after.get(i), 0.9, false);
      assertMerchant(after.get(i + 1), 0.0, true);
    }
    // without a restart of enrich
    assertThat(restarts()).isEqualTo(restartsBefore);
  }

  @Test
  @Order(3)
  void aRecordThatCannotEnterTheTableIsIgnoredAndEnrichKeepsTheRowItHad() throws Exception {
    // Given a row the loader would refuse, published past it
    try (Producer<MerchantRisk> raw =
        pulsar
            .client()
            .newProducer(Topics.MERCHANTS.schema())
            .topic(Topics.MERCHANTS.in(ns))
            .create()) {
      raw.newMessage()
          .key(low)
          .value(MerchantRisk.newBuilder().setMerchantId(low).setRisk(1.7).build())
          .send();
    }
    // and a good change after it: once enrich applies it, it has read past the bad one
    load("merchant_id,risk", high + ",0.8");

    // When transactions at the high merchant stream in until one carries the change
    List<String> streamed = new CopyOnWriteArrayList<>();
    ScheduledExecutorService stream = Executors.newSingleThreadScheduledExecutor();
    stream.scheduleAtFixedRate(
        () -> {
          try {
            streamed.add(send(high));
          } catch (PulsarClientException e) {
            throw new IllegalStateException(e);
          }
        },
        0,
        50,
        MILLISECONDS);
    try {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  streamed.stream().map(enriched::get).anyMatch(e -> e != null && risk(e) == 0.8f));
    } finally {
      stream.shutdown();
      stream.awaitTermination(30, TimeUnit.SECONDS);
    }
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      ids.add(send(low));
    }
    transactions.flush();
    await().atMost(Duration.ofMinutes(1)).until(() -> enriched.keySet().containsAll(ids));

    // Then the merchant keeps the risk it had, 0.1, and enrich keeps running
    for (String id : ids) {
      assertMerchant(id, 0.1, false);
    }
    assertThat(registry.table(ns).get(low).getRisk()).isEqualTo(0.1);
    assertThat(restarts()).isZero();
  }

  private MerchantRegistry.Summary load(String... lines) throws Exception {
    Path file = scratch.resolve("merchants-" + UUID.randomUUID() + ".csv");
    Files.write(file, List.of(lines), StandardCharsets.UTF_8);
    MerchantCsv.Parsed parsed = MerchantCsv.read(file);
    assertThat(parsed.rejected()).isEmpty();
    return registry.publish(ns, parsed.changes());
  }

  /** Sends a transaction of a new card at {@code merchant}; returns its id. */
  private String send(String merchant) throws PulsarClientException {
    Transaction txn =
        Transaction.newBuilder()
            .setTransactionId("it-tx-" + UUID.randomUUID())
            .setCardId(prefix + "card-" + cards.incrementAndGet())
            .setMerchantId(merchant)
            .setAmount(25.0)
            .setCurrency("EUR")
            .setEventTimeMs(DAYTIME)
            .setChannel(Channel.POS)
            .setCountry("DE")
            .setMerchantCategory("5411")
            .build();
    transactions.newMessage().key(txn.getCardId()).value(txn).sendAsync();
    return txn.getTransactionId();
  }

  private static float risk(EnrichedTransaction e) {
    return (float) e.getFeatures(MERCHANT_RISK).getValue();
  }

  private static boolean unknown(EnrichedTransaction e) {
    return e.getFeatures(MERCHANT_UNKNOWN).getValue() == 1.0;
  }

  private void assertMerchant(String id, double risk, boolean isUnknown) {
    EnrichedTransaction e = enriched.get(id);
    assertThat(risk(e)).as("merchant_risk of %s", id).isEqualTo((float) risk);
    assertThat(unknown(e)).as("merchant_unknown of %s", id).isEqualTo(isUnknown);
  }

  private long restarts() throws Exception {
    return pulsar
        .admin()
        .functions()
        .getFunctionStatus(ns.tenant(), ns.namespace(), "enrich")
        .getInstances()
        .stream()
        .mapToLong(i -> i.getStatus().getNumRestarts())
        .sum();
  }
}
