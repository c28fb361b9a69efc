package io.decisionflow.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.Provisioner;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.Transaction;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.api.Producer;
import org.apache.pulsar.client.api.PulsarClientException;
import org.apache.pulsar.client.api.Schema;
import org.apache.pulsar.common.policies.data.BacklogQuota;
import org.apache.pulsar.common.policies.data.RetentionPolicies;
import org.apache.pulsar.common.policies.data.SchemaCompatibilityStrategy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/** A business unit file provisioned onto the real standalone: tenant, policies, schemas. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class BusinessUnitProvisioningIT {

  private PulsarStandalone pulsar;
  private PulsarAdmin admin;
  private BusinessUnit unit;
  private BusinessNamespace ns;
  private List<String> firstRun;

  @BeforeAll
  void provision() throws Exception {
    pulsar = PulsarStandalone.get();
    admin = pulsar.admin();
    unit = TestUnits.isolated(pulsar.projectDir(), "lending");
    ns = unit.pipelineNamespace();
    firstRun = new Provisioner(admin, System.out::println).provision(unit, List.of("champion"));
  }

  @Test
  void provisioningAppliesTheDeclaredPoliciesAndASecondRunChangesNothing() throws Exception {
    assertThat(firstRun).contains("created tenant " + unit.tenant, "created namespace " + ns);
    assertThat(admin.tenants().getTenantInfo(unit.tenant).getAllowedClusters())
        .containsExactly("standalone");
    assertThat(admin.namespaces().getRetention(ns.toString()))
        .isEqualTo(new RetentionPolicies(4320, 1024));
    assertThat(admin.namespaces().getDeduplicationStatus(ns.toString())).isTrue();
    assertThat(admin.namespaces().getSchemaCompatibilityStrategy(ns.toString()))
        .isEqualTo(SchemaCompatibilityStrategy.BACKWARD_TRANSITIVE);
    BacklogQuota quota =
        admin
            .namespaces()
            .getBacklogQuotaMap(ns.toString())
            .get(BacklogQuota.BacklogQuotaType.destination_storage);
    assertThat(quota.getLimitSize()).isEqualTo(512L * 1024 * 1024);
    assertThat(admin.schemas().getSchemaInfo(Topics.scoring("champion").in(ns)).getType())
        .isEqualTo(org.apache.pulsar.common.schema.SchemaType.PROTOBUF_NATIVE);

    assertThat(admin.topicPolicies().getCompactionThreshold(Topics.MODELS.in(ns)))
        .isEqualTo(1024L * 1024);
    assertThat(admin.topicPolicies().getCompactionThreshold(Topics.MERCHANTS.in(ns)))
        .isEqualTo(1024L * 1024);
    assertThat(admin.topicPolicies().getMaxUnackedMessagesOnConsumer(Topics.TRANSACTIONS.in(ns)))
        .isEqualTo(Topics.TRANSACTIONS_MAX_UNACKED);
    assertThat(
            admin.topicPolicies().getMaxUnackedMessagesOnSubscription(Topics.TRANSACTIONS.in(ns)))
        .isEqualTo(Topics.TRANSACTIONS_MAX_UNACKED);
    assertThat(admin.schemas().getSchemaInfo(Topics.MERCHANTS.in(ns)).getType())
        .isEqualTo(org.apache.pulsar.common.schema.SchemaType.PROTOBUF_NATIVE);

    List<String> secondRun =
        new Provisioner(admin, System.out::println).provision(unit, List.of("champion"));

    assertThat(secondRun).isEmpty();
  }

  @Test
  void theBrokerRefusesAnIncompatibleSchemaOnAProvisionedTopic() throws Exception {
    String topic = Topics.TRANSACTIONS.in(ns);

    // The registered schema itself is accepted.
    try (Producer<Transaction> compatible =
        pulsar.client().newProducer(Topics.TRANSACTIONS.schema()).topic(topic).create()) {
      compatible.send(Transaction.newBuilder().setTransactionId("schema-check").build());
    }

    // Another record type under the same topic is refused by the broker.
    assertThatThrownBy(
            () ->
                pulsar
                    .client()
                    .newProducer(Schema.PROTOBUF_NATIVE(Decision.class))
                    .topic(topic)
                    .create()
                    .close())
        .isInstanceOf(PulsarClientException.IncompatibleSchemaException.class);
    // So is another schema type.
    assertThatThrownBy(
            () -> pulsar.client().newProducer(Schema.STRING).topic(topic).create().close())
        .isInstanceOf(PulsarClientException.IncompatibleSchemaException.class);
  }
}
