package io.decisionflow.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.Pipeline;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.Topics;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.common.policies.data.SubscriptionStats;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The decisions-postgres sink ({@code pulsar-deploy/sinks/decisions-postgres.yaml}), deployed alone
 * for a unit of its own on the real standalone, writing into a real PostgreSQL: decisions published
 * to {@code decisions} land as one row per transaction id, also when they are published again, and
 * also when the database goes away in the middle of the stream and comes back.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class DecisionsPostgresIT {

  private static final Duration LANDS_WITHIN = Duration.ofMinutes(2);

  private PulsarStandalone pulsar;
  private PostgresServer postgres;
  private BusinessUnit unit;
  private BusinessNamespace ns;
  private String database;
  private Producer<Decision> producer;

  @BeforeAll
  void deploySinkAlone() throws Exception {
    pulsar = PulsarStandalone.get();
    postgres = PostgresServer.get();
    unit = TestUnits.isolated(pulsar.projectDir(), "payments");
    ns = unit.pipelineNamespace();
    TestUnits.withPostgresSink(unit);
    database = unit.tenant.replace('-', '_');
    TestUnits.provisionAndDeploySinksAlone(pulsar, unit);
    // Unbatched: the subscription's backlog then counts records, not producer batches.
    producer =
        pulsar
            .client()
            .newProducer(Topics.DECISIONS.schema())
            .topic(Topics.DECISIONS.in(ns))
            .enableBatching(false)
            .create();
  }

  @AfterAll
  void undeploy() throws Exception {
    if (producer != null) {
      producer.close();
    }
    if (unit != null) {
      new Pipeline(pulsar.admin(), pulsar.projectDir(), System.out::println).undeploy(unit);
    }
  }

  @Test
  void everyDecisionLandsOnceAlsoWhenTheStreamIsReplayed() throws Exception {
    String prefix = "replay-" + UUID.randomUUID().toString().substring(0, 8) + "-";
    List<Decision> decisions = decisions(prefix, 500);

    publish(decisions);
    await("all 500 rows").atMost(LANDS_WITHIN).until(() -> rows(prefix) == 500);
    assertThat(scores(prefix)).isEqualTo(scoresOf(decisions));

    // The same decisions again, as after a replay of the topic or a redelivery
    publish(decisions);
    awaitSinkCaughtUp();

    assertThat(rows(prefix)).isEqualTo(500);
    assertThat(scores(prefix)).isEqualTo(scoresOf(decisions));
  }

  @Test
  void theDatabaseStoppedMidStreamLosesNothingAndDoublesNothing() throws Exception {
    String prefix = "outage-" + UUID.randomUUID().toString().substring(0, 8) + "-";
    List<Decision> decisions = decisions(prefix, 600);

    publish(decisions.subList(0, 200));
    await("the first 200 rows").atMost(LANDS_WITHIN).until(() -> rows(prefix) == 200);

    postgres.server().stop();
    try {
      publish(decisions.subList(200, 600));
      // While the database is away, the sink holds the records: nothing is acknowledged unstored.
      await("the sink holding the records it cannot store")
          .atMost(Duration.ofSeconds(60))
          .until(() -> backlog() >= 400);
    } finally {
      postgres.server().start();
    }

    await("all 600 rows after the restart").atMost(LANDS_WITHIN).until(() -> rows(prefix) == 600);
    awaitSinkCaughtUp();
    assertThat(rows(prefix)).isEqualTo(600);
    assertThat(scores(prefix)).isEqualTo(scoresOf(decisions));
  }

  private List<Decision> decisions(String prefix, int count) {
    List<Decision> decisions = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      decisions.add(
          Decision.newBuilder()
              .setTransactionId(prefix + i)
              .setCardId("card-" + (i % 37))
              .setMerchantId("merchant-" + (i % 11))
              .setAmount(10 + i)
              .setCurrency("EUR")
              .setEventTimeMs(TestTransactions.DAYTIME + i)
              .setChannel("POS")
              .setCountry("DE")
              .setFeatureSpecVersion("v3")
              .setFeaturesJson("{\"amount\":" + (10 + i) + "}")
              .setArm(i % 3 == 0 ? "challenger" : "champion")
              .setModelSlot(i % 3 == 0 ? "challenger" : "champion")
              .setModelVersion("it-1")
              .setScore((i % 100) / 100.0)
              .setThreshold(0.2)
              .setOutcome((i % 100) >= 20 ? "ALERT" : "OK")
              .setBand("APPROVE")
              .setRoutingVersion("static-1")
              .setDecidedAtMs(System.currentTimeMillis())
              .build());
    }
    return decisions;
  }

  private void publish(List<Decision> decisions) throws Exception {
    for (Decision d : decisions) {
      producer.newMessage().key(d.getCardId()).value(d).sendAsync();
    }
    producer.flush();
  }

  private long rows(String prefix) throws Exception {
    try (Connection c = postgres.server().connect(database);
        PreparedStatement q =
            c.prepareStatement("SELECT count(*) FROM decisions WHERE transaction_id LIKE ?")) {
      q.setString(1, prefix + "%");
      try (ResultSet rs = q.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (java.sql.SQLException e) {
      return -1; // the database is (re)starting
    }
  }

  private Map<String, Double> scores(String prefix) throws Exception {
    return postgres.scores(database, prefix);
  }

  private static Map<String, Double> scoresOf(List<Decision> decisions) {
    Map<String, Double> scores = new HashMap<>();
    decisions.forEach(d -> scores.put(d.getTransactionId(), d.getScore()));
    return scores;
  }

  /** Records (entries: the producer does not batch) of {@code decisions} not acknowledged yet. */
  private long backlog() throws Exception {
    SubscriptionStats stats =
        pulsar
            .admin()
            .topics()
            .getStats(Topics.DECISIONS.in(ns))
            .getSubscriptions()
            .get("decisionflow-decisions-postgres");
    return stats == null ? 0 : stats.getMsgBacklog();
  }

  private void awaitSinkCaughtUp() {
    await("the sink to acknowledge everything")
        .atMost(LANDS_WITHIN)
        .pollInterval(Duration.ofMillis(500))
        .until(() -> backlog() == 0);
  }
}
