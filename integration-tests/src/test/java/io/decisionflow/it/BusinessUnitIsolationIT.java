package io.decisionflow.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.DecisionsDatabase;
import io.decisionflow.deploy.LocalPostgres;
import io.decisionflow.deploy.Pipeline;
import io.decisionflow.deploy.Provisioner;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.Transaction;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.apache.pulsar.client.api.Consumer;
import org.apache.pulsar.client.api.Message;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClient;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Business units kept apart by token authentication and authorization, on a real standalone with
 * {@code DF_PULSAR_AUTH=jwt}: each unit's role produces its own transactions and consumes its own
 * decisions and nothing of another unit's; a client without a token, or with a forged one, is
 * refused; admin operations need the admin role; and the pipeline's functions and sink keep working
 * with authentication on.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class BusinessUnitIsolationIT {

  private AuthStandalone pulsar;
  private PulsarAdmin admin;
  private BusinessUnit payments;
  private BusinessUnit lending;
  private String paymentsToken;
  private final List<AutoCloseable> closeAtEnd = new ArrayList<>();

  @BeforeAll
  void provisionTwoUnits() throws Exception {
    pulsar = AuthStandalone.get();
    admin = pulsar.admin();
    Path units = pulsar.projectDir().resolve("pulsar-deploy/business-units");
    String run = Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
    payments = BusinessUnit.load(units, "payments");
    payments.tenant = "it-pay-" + run;
    payments.role = payments.tenant;
    payments.pipeline.sinks.clear();
    lending = BusinessUnit.load(units, "lending");
    lending.tenant = "it-lend-" + run;
    lending.role = lending.tenant;
    lending.pipeline.sinks.clear();
    for (BusinessUnit unit : List.of(payments, lending)) {
      List<String> changes =
          new Provisioner(admin, System.out::println).provision(unit, List.of("champion"));
      assertThat(changes)
          .contains(
              "granted "
                  + unit.role
                  + " [produce] on persistent://"
                  + unit.pipelineNamespace()
                  + "/transactions");
    }
    paymentsToken = pulsar.token(payments.role);
  }

  @AfterAll
  void close() throws Exception {
    for (AutoCloseable c : closeAtEnd) {
      c.close();
    }
    if (admin != null) {
      admin.close();
    }
  }

  private PulsarClient client(String token) throws PulsarClientException {
    PulsarClient client = pulsar.client(token);
    closeAtEnd.add(client);
    return client;
  }

  @Test
  void aClientWithoutATokenOrWithAForgedOneIsRefused() throws Exception {
    // REST without a token: 401
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(AuthStandalone.ADMIN_URL + "/admin/v2/tenants"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(401);

    // A producer without a token, and one whose token names another role than it was signed for
    String transactions = Topics.TRANSACTIONS.in(lending.pipelineNamespace());
    String[] parts = paymentsToken.split("\\.");
    String forged =
        parts[0]
            + "."
            + java.util.Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(
                    ("{\"sub\":\"admin\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8))
            + "."
            + parts[2];
    for (String token : new String[] {null, forged}) {
      assertThatThrownBy(() -> client(token).newProducer().topic(transactions).create())
          .isInstanceOf(PulsarClientException.AuthenticationException.class);
    }
    // And nothing was produced
    assertThat(admin.topics().getStats(transactions).getMsgInCounter()).isZero();
  }

  @Test
  void aUnitsRoleProducesItsTransactionsAndConsumesItsDecisionsInItsOwnTenantOnly()
      throws Exception {
    PulsarClient client = client(paymentsToken);
    String ownTransactions = Topics.TRANSACTIONS.in(payments.pipelineNamespace());
    String ownDecisions = Topics.DECISIONS.in(payments.pipelineNamespace());
    String lendingTransactions = Topics.TRANSACTIONS.in(lending.pipelineNamespace());
    String lendingDecisions = Topics.DECISIONS.in(lending.pipelineNamespace());

    // Allowed: its own transactions in, its own decisions out
    try (Producer<byte[]> producer = client.newProducer().topic(ownTransactions).create();
        Consumer<byte[]> consumer =
            client.newConsumer().topic(ownDecisions).subscriptionName("it-own").subscribe()) {
      assertThat(producer.send("x".getBytes())).isNotNull();
      assertThat(consumer.isConnected()).isTrue();
    }

    // Refused: the other unit's topics, either way
    assertThatThrownBy(() -> client.newProducer().topic(lendingTransactions).create())
        .isInstanceOf(PulsarClientException.AuthorizationException.class);
    assertThatThrownBy(
            () -> client.newConsumer().topic(lendingDecisions).subscriptionName("it").subscribe())
        .isInstanceOf(PulsarClientException.AuthorizationException.class);
    // Refused: its own topics the other way round (it cannot forge decisions or read inputs)
    assertThatThrownBy(() -> client.newProducer().topic(ownDecisions).create())
        .isInstanceOf(PulsarClientException.AuthorizationException.class);
    assertThatThrownBy(
            () -> client.newConsumer().topic(ownTransactions).subscriptionName("it").subscribe())
        .isInstanceOf(PulsarClientException.AuthorizationException.class);

    // Nothing reached the other unit
    assertThat(admin.topics().getStats(lendingTransactions).getMsgInCounter()).isZero();
    assertThat(admin.topics().getStats(lendingDecisions).getSubscriptions()).isEmpty();
  }

  @Test
  void adminOperationsNeedTheAdminRole() throws Exception {
    try (PulsarAdmin asUnit = pulsar.admin(paymentsToken)) {
      String tenant = payments.tenant;
      String ns = payments.pipelineNamespace().toString();
      assertThatThrownBy(() -> asUnit.namespaces().createNamespace(tenant + "/other"))
          .isInstanceOf(PulsarAdminException.NotAuthorizedException.class);
      assertThatThrownBy(() -> asUnit.functions().getFunctions(tenant, "fraud"))
          .isInstanceOf(PulsarAdminException.NotAuthorizedException.class);
      assertThatThrownBy(
              () -> asUnit.topics().delete(Topics.DECISIONS.in(payments.pipelineNamespace())))
          .isInstanceOf(PulsarAdminException.NotAuthorizedException.class);
      assertThatThrownBy(
              () -> asUnit.topics().getStats(Topics.DECISIONS.in(lending.pipelineNamespace())))
          .isInstanceOf(PulsarAdminException.NotAuthorizedException.class);
      assertThatThrownBy(() -> asUnit.namespaces().deleteNamespace(ns))
          .isInstanceOf(PulsarAdminException.NotAuthorizedException.class);
    }
    assertThat(admin.namespaces().getNamespaces(payments.tenant))
        .doesNotContain(payments.tenant + "/other");
  }

  @Test
  void thePipelineRunsWithAuthenticationOnAndTheUnitReadsItsDecisions() throws Exception {
    // Given the fused pipeline and the PostgreSQL sink of a unit of its own, deployed by the admin
    BusinessUnit unit =
        BusinessUnit.load(pulsar.projectDir().resolve("pulsar-deploy/business-units"), "payments");
    unit.tenant = "it-pay-run-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
    unit.role = unit.tenant;
    unit.pipeline.sinks.clear();
    // The sink's credentials: variables of the functions worker's environment, by name
    String database = unit.tenant.replace('-', '_');
    String url = PostgresServer.get().server().createDatabase(database);
    DecisionsDatabase.migrate(url, LocalPostgres.USER, PostgresServer.get().server().password());
    BusinessUnit.SinkSettings postgresSink = new BusinessUnit.SinkSettings();
    postgresSink.configs.put("jdbcUrl", url);
    postgresSink.secretsFromEnv.put("userName", AuthStandalone.POSTGRES_USER_VARIABLE);
    postgresSink.secretsFromEnv.put("password", AuthStandalone.POSTGRES_PASSWORD_VARIABLE);
    unit.pipeline.sinks.put("decisions-postgres", postgresSink);
    unit.secretsByName = true;
    Pipeline base = new Pipeline(admin, pulsar.projectDir(), System.out::println);
    Pipeline fused =
        base.topology(pulsar.projectDir().resolve("pulsar-deploy/functions-fused"), Set.of());
    Map<String, String> slots = new LinkedHashMap<>();
    Path models = pulsar.projectDir().resolve("models/target/models");
    slots.put("champion", models.resolve("fraud-v1").toString());
    slots.put("challenger", models.resolve("fraud-v2").toString());
    fused.deploy(unit, Pipeline.fusedModelLocations(slots));
    try {
      fused.awaitRunning(unit, Duration.ofMinutes(4));

      // When the unit's role sends transactions and reads decisions
      PulsarClient client = client(pulsar.token(unit.role));
      Map<String, Decision> decided = new ConcurrentHashMap<>();
      List<String> sent = new ArrayList<>();
      try (Consumer<Decision> decisions =
              client
                  .newConsumer(Topics.DECISIONS.schema())
                  .topic(Topics.DECISIONS.in(unit.pipelineNamespace()))
                  .subscriptionName("it-" + UUID.randomUUID())
                  .subscriptionInitialPosition(SubscriptionInitialPosition.Earliest)
                  .subscribe();
          Producer<Transaction> transactions =
              client
                  .newProducer(Topics.TRANSACTIONS.schema())
                  .topic(Topics.TRANSACTIONS.in(unit.pipelineNamespace()))
                  .create()) {
        for (int i = 0; i < 5; i++) {
          Transaction txn =
              TestTransactions.ordinary("it-card-" + i).toBuilder()
                  .setEventTimeMs(System.currentTimeMillis())
                  .build();
          transactions.send(txn);
          sent.add(txn.getTransactionId());
        }
        // Then the functions (authenticated as the worker's role) decide them all
        await()
            .atMost(Duration.ofMinutes(2))
            .until(
                () -> {
                  Message<Decision> m = decisions.receive(200, TimeUnit.MILLISECONDS);
                  if (m != null) {
                    decided.put(m.getValue().getTransactionId(), m.getValue());
                    decisions.acknowledge(m);
                  }
                  return decided.keySet().containsAll(sent);
                });
      }
      // And the sink writes them, with credentials it reads through the secrets provider from
      // the worker's environment: its stored definition names the variables, holds no value
      var sink = admin.sinks().getSink(unit.tenant, unit.pipeline.namespace, "decisions-postgres");
      assertThat(sink.getSecrets())
          .containsExactly(
              Map.entry("userName", AuthStandalone.POSTGRES_USER_VARIABLE),
              Map.entry("password", AuthStandalone.POSTGRES_PASSWORD_VARIABLE));
      assertThat(sink.getConfigs()).doesNotContainKeys("userName", "password");
      assertThat(sink.toString()).doesNotContain(PostgresServer.get().server().password());
      await()
          .atMost(Duration.ofMinutes(2))
          .pollInterval(Duration.ofSeconds(1))
          .until(() -> PostgresServer.get().scores(database, "it-tx-").keySet().containsAll(sent));
    } finally {
      fused.undeploy(unit);
    }
  }
}
