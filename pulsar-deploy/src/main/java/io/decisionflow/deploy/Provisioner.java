package io.decisionflow.deploy;

import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.schemas.TopicSpec;
import io.decisionflow.schemas.Topics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.apache.pulsar.common.policies.data.AuthAction;
import org.apache.pulsar.common.policies.data.BacklogQuota;
import org.apache.pulsar.common.policies.data.OffloadPolicies;
import org.apache.pulsar.common.policies.data.RetentionPolicies;
import org.apache.pulsar.common.policies.data.SchemaCompatibilityStrategy;
import org.apache.pulsar.common.policies.data.TenantInfo;
import org.apache.pulsar.common.schema.SchemaInfo;

/**
 * Brings a cluster to what a business-unit file declares: tenant, namespaces, policies, and the
 * schemas of the pipeline's topics. Idempotent: it reads what is there and changes only what
 * differs, so a second run changes nothing. Returns what it changed.
 */
public final class Provisioner {

  static final long COMPACTION_THRESHOLD_BYTES = 1024 * 1024;

  private final PulsarAdmin admin;
  private final Consumer<String> log;

  public Provisioner(PulsarAdmin admin, Consumer<String> log) {
    this.admin = admin;
    this.log = log;
  }

  /**
   * Provisions the business unit; {@code slots} are the model slots whose scoring topics exist.
   *
   * @return the changes made, empty if the cluster already matched
   */
  public List<String> provision(BusinessUnit unit, List<String> slots) throws PulsarAdminException {
    List<String> changes = new ArrayList<>();
    tenant(unit, changes);
    for (BusinessUnit.Namespace ns : unit.namespaces) {
      namespace(new BusinessNamespace(unit.tenant, ns.name), ns.policies, changes);
    }
    BusinessNamespace pipeline = unit.pipelineNamespace();
    List<TopicSpec<?>> topics = new ArrayList<>(Topics.fixed());
    slots.forEach(slot -> topics.add(Topics.scoring(slot)));
    for (TopicSpec<?> topic : topics) {
      schema(topic.in(pipeline), topic.schema().getSchemaInfo(), changes);
    }
    // The pipeline namespace's topics, listed once; ensureTopic adds those it creates.
    Set<String> existing = new HashSet<>(admin.topics().getList(pipeline.toString()));
    compacted(existing, pipeline, Topics.MODELS, changes);
    compacted(existing, pipeline, Topics.MODEL_STATUS, changes);
    compacted(existing, pipeline, Topics.ROUTING, changes);
    compacted(existing, pipeline, Topics.ROUTING_STATUS, changes);
    compacted(existing, pipeline, Topics.MERCHANTS, changes);
    String transactions = Topics.TRANSACTIONS.in(pipeline);
    ensureTopic(existing, transactions, changes);
    allowEnrichBacklog(transactions, changes);
    if (unit.geoReplicated()) {
      replicated(existing, unit, changes);
    }
    if (authorizationEnabled()) {
      grants(existing, unit, changes);
    }
    changes.forEach(change -> log.accept(unit.name + ": " + change));
    if (changes.isEmpty()) {
      log.accept(unit.name + ": up to date, nothing changed");
    }
    return changes;
  }

  private void tenant(BusinessUnit unit, List<String> changes) throws PulsarAdminException {
    TenantInfo wanted =
        TenantInfo.builder()
            .adminRoles(new HashSet<>(unit.adminRoles))
            .allowedClusters(new HashSet<>(unit.allowedClusters))
            .build();
    if (!admin.tenants().getTenants().contains(unit.tenant)) {
      admin.tenants().createTenant(unit.tenant, wanted);
      changes.add("created tenant " + unit.tenant);
      return;
    }
    TenantInfo current = admin.tenants().getTenantInfo(unit.tenant);
    if (!current.getAdminRoles().equals(wanted.getAdminRoles())
        || !current.getAllowedClusters().equals(wanted.getAllowedClusters())) {
      admin.tenants().updateTenant(unit.tenant, wanted);
      changes.add("updated tenant " + unit.tenant + " (admin roles, allowed clusters)");
    }
  }

  private void namespace(BusinessNamespace ns, BusinessUnit.Policies p, List<String> changes)
      throws PulsarAdminException {
    String name = ns.toString();
    if (!admin.namespaces().getNamespaces(ns.tenant()).contains(name)) {
      admin.namespaces().createNamespace(name);
      changes.add("created namespace " + name);
    }
    if (p.retentionMinutes != null || p.retentionSizeMb != null) {
      RetentionPolicies wanted =
          new RetentionPolicies(
              p.retentionMinutes == null ? 0 : p.retentionMinutes,
              p.retentionSizeMb == null ? 0 : p.retentionSizeMb);
      RetentionPolicies current = admin.namespaces().getRetention(name);
      if (current == null
          || current.getRetentionTimeInMinutes() != wanted.getRetentionTimeInMinutes()
          || current.getRetentionSizeInMB() != wanted.getRetentionSizeInMB()) {
        admin.namespaces().setRetention(name, wanted);
        changes.add(
            "set retention of "
                + name
                + " to "
                + wanted.getRetentionTimeInMinutes()
                + " min / "
                + wanted.getRetentionSizeInMB()
                + " MB");
      }
    }
    if (p.backlogQuotaMb != null) {
      BacklogQuota wanted =
          BacklogQuota.builder()
              .limitSize(p.backlogQuotaMb * 1024L * 1024L)
              .retentionPolicy(BacklogQuota.RetentionPolicy.valueOf(p.backlogQuotaPolicy))
              .build();
      Map<BacklogQuota.BacklogQuotaType, BacklogQuota> quotas =
          admin.namespaces().getBacklogQuotaMap(name);
      BacklogQuota current =
          quotas == null ? null : quotas.get(BacklogQuota.BacklogQuotaType.destination_storage);
      if (current == null
          || current.getLimitSize() != wanted.getLimitSize()
          || current.getPolicy() != wanted.getPolicy()) {
        admin.namespaces().setBacklogQuota(name, wanted);
        changes.add(
            "set backlog quota of "
                + name
                + " to "
                + p.backlogQuotaMb
                + " MB, "
                + wanted.getPolicy());
      }
    }
    if (p.deduplication != null
        && !Objects.equals(admin.namespaces().getDeduplicationStatus(name), p.deduplication)) {
      admin.namespaces().setDeduplicationStatus(name, p.deduplication);
      changes.add("set deduplication of " + name + " to " + p.deduplication);
    }
    if (p.offload != null) {
      OffloadPolicies wanted = offloadPolicies(p.offload);
      OffloadPolicies current = admin.namespaces().getOffloadPolicies(name);
      if (!sameOffload(current, wanted)) {
        admin.namespaces().setOffloadPolicies(name, wanted);
        changes.add(
            "set offload of "
                + name
                + " to "
                + p.offload.driver
                + " bucket "
                + p.offload.bucket
                + (p.offload.endpoint == null ? "" : " at " + p.offload.endpoint));
      }
    }
    if (p.schemaCompatibility != null) {
      SchemaCompatibilityStrategy wanted =
          SchemaCompatibilityStrategy.valueOf(p.schemaCompatibility);
      if (admin.namespaces().getSchemaCompatibilityStrategy(name) != wanted) {
        admin.namespaces().setSchemaCompatibilityStrategy(name, wanted);
        changes.add("set schema compatibility of " + name + " to " + wanted);
      }
    }
  }

  /**
   * Control topics and reference tables keep the newest record per key: compaction runs once 1 MB
   * has built up.
   */
  private void compacted(
      Set<String> existing, BusinessNamespace ns, TopicSpec<?> spec, List<String> changes)
      throws PulsarAdminException {
    String topic = spec.in(ns);
    ensureTopic(existing, topic, changes);
    Long current = admin.topicPolicies().getCompactionThreshold(topic);
    if (current == null || current != COMPACTION_THRESHOLD_BYTES) {
      admin.topicPolicies().setCompactionThreshold(topic, COMPACTION_THRESHOLD_BYTES);
      changes.add("set compaction of " + topic + " at " + COMPACTION_THRESHOLD_BYTES + " bytes");
    }
  }

  /**
   * The unit's replicated topics replicate to every cluster the tenant is allowed on: a topic
   * policy each, so that the rest of the namespace (the region's transactions) stays local.
   */
  private void replicated(Set<String> existing, BusinessUnit unit, List<String> changes)
      throws PulsarAdminException {
    List<String> known = admin.clusters().getClusters();
    for (String cluster : unit.allowedClusters) {
      if (!known.contains(cluster)) {
        throw new IllegalStateException(
            unit.name
                + ": cannot replicate to cluster "
                + cluster
                + ": this cluster does not know it (it knows "
                + known
                + "); register it first (pulsar-admin clusters create, or"
                + " pulsar-deploy/regions-local.sh start for the local regions)");
      }
    }
    BusinessNamespace ns = unit.pipelineNamespace();
    Set<String> wanted = new TreeSet<>(unit.allowedClusters);
    for (String name : unit.pipeline.replicatedTopics) {
      String topic = ns.topic(name);
      ensureTopic(existing, topic, changes);
      Set<String> current = admin.topicPolicies().getReplicationClusters(topic, false);
      if (current == null || !new TreeSet<>(current).equals(wanted)) {
        admin.topicPolicies().setReplicationClusters(topic, List.copyOf(wanted));
        changes.add("set replication of " + topic + " to " + wanted);
      }
    }
  }

  /** What the unit's role may do: produce its transactions, consume its decisions. */
  static final Map<String, Set<AuthAction>> ROLE_GRANTS =
      Map.of(
          Topics.TRANSACTIONS.name(), Set.of(AuthAction.produce),
          Topics.DECISIONS.name(), Set.of(AuthAction.consume),
          Topics.FRAUD_ALERTS.name(), Set.of(AuthAction.consume),
          Topics.TRANSACTIONS_OK.name(), Set.of(AuthAction.consume));

  /** Whether the cluster checks permissions (then the unit's role gets its grants). */
  private boolean authorizationEnabled() throws PulsarAdminException {
    return Boolean.parseBoolean(
        admin.brokers().getRuntimeConfigurations().getOrDefault("authorizationEnabled", "false"));
  }

  /**
   * The unit's role may produce to its transactions topic and consume its decisions, alerts and
   * oks; nothing else (no namespace grant, not a tenant admin).
   */
  private void grants(Set<String> existing, BusinessUnit unit, List<String> changes)
      throws PulsarAdminException {
    BusinessNamespace ns = unit.pipelineNamespace();
    for (Map.Entry<String, Set<AuthAction>> grant : new TreeMap<>(ROLE_GRANTS).entrySet()) {
      String topic = ns.topic(grant.getKey());
      ensureTopic(existing, topic, changes);
      Set<AuthAction> current = admin.topics().getPermissions(topic).get(unit.role);
      if (current == null || !current.equals(grant.getValue())) {
        admin.topics().grantPermission(topic, unit.role, grant.getValue());
        changes.add("granted " + unit.role + " " + grant.getValue() + " on " + topic);
      }
    }
  }

  /**
   * Lets a consumer (and a subscription) of {@code topic}, enrich's input, hold {@link
   * Topics#TRANSACTIONS_MAX_UNACKED} unacknowledged messages: a topic policy each. Enrich
   * acknowledges a record once its card's state is durable and, under load, keeps records waiting
   * so that a card's records share one state write; the broker's default bound (50,000 per
   * consumer) would stop the dispatch first.
   */
  public void allowEnrichBacklog(String topic, List<String> changes) throws PulsarAdminException {
    int wanted = Topics.TRANSACTIONS_MAX_UNACKED;
    if (!Objects.equals(admin.topicPolicies().getMaxUnackedMessagesOnConsumer(topic), wanted)) {
      admin.topicPolicies().setMaxUnackedMessagesOnConsumer(topic, wanted);
      changes.add("let each consumer of " + topic + " hold " + wanted + " unacknowledged messages");
    }
    if (!Objects.equals(admin.topicPolicies().getMaxUnackedMessagesOnSubscription(topic), wanted)) {
      admin.topicPolicies().setMaxUnackedMessagesOnSubscription(topic, wanted);
      changes.add(
          "let each subscription of " + topic + " hold " + wanted + " unacknowledged messages");
    }
  }

  /**
   * Creates {@code topic} unless {@code existing} (the namespace's topics) has it. A topic can
   * appear after the listing (e.g. a peer region's replicator creating a replicated topic), which
   * is no error.
   */
  private void ensureTopic(Set<String> existing, String topic, List<String> changes)
      throws PulsarAdminException {
    if (existing.contains(topic)) {
      return;
    }
    try {
      admin.topics().createNonPartitionedTopic(topic);
      changes.add("created topic " + topic);
    } catch (PulsarAdminException.ConflictException e) {
      // created meanwhile
    }
    existing.add(topic);
  }

  /** The namespace offload policies for {@code offload}. */
  static OffloadPolicies offloadPolicies(BusinessUnit.Offload offload) {
    OffloadPolicies.Builder builder =
        OffloadPolicies.builder()
            .managedLedgerOffloadDriver(offload.driver)
            .managedLedgerOffloadBucket(offload.bucket)
            .managedLedgerOffloadRegion(offload.region);
    if (offload.endpoint != null) {
      builder.managedLedgerOffloadServiceEndpoint(offload.endpoint);
    }
    if (offload.thresholdMb != null) {
      builder.managedLedgerOffloadThresholdInBytes(offload.thresholdMb * 1024 * 1024);
    }
    if (offload.deletionLagMinutes != null) {
      builder.managedLedgerOffloadDeletionLagInMillis(offload.deletionLagMinutes * 60_000);
    }
    return builder.build();
  }

  private static boolean sameOffload(OffloadPolicies current, OffloadPolicies wanted) {
    return current != null
        && Objects.equals(
            current.getManagedLedgerOffloadDriver(), wanted.getManagedLedgerOffloadDriver())
        && Objects.equals(
            current.getManagedLedgerOffloadBucket(), wanted.getManagedLedgerOffloadBucket())
        && Objects.equals(
            current.getManagedLedgerOffloadRegion(), wanted.getManagedLedgerOffloadRegion())
        && Objects.equals(
            current.getManagedLedgerOffloadServiceEndpoint(),
            wanted.getManagedLedgerOffloadServiceEndpoint())
        && Objects.equals(
            current.getManagedLedgerOffloadThresholdInBytes(),
            wanted.getManagedLedgerOffloadThresholdInBytes())
        && Objects.equals(
            current.getManagedLedgerOffloadDeletionLagInMillis(),
            wanted.getManagedLedgerOffloadDeletionLagInMillis());
  }

  private void schema(String topic, SchemaInfo wanted, List<String> changes)
      throws PulsarAdminException {
    SchemaInfo current;
    try {
      current = admin.schemas().getSchemaInfo(topic);
    } catch (PulsarAdminException.NotFoundException e) {
      current = null;
    }
    if (current != null
        && current.getType() == wanted.getType()
        && Arrays.equals(current.getSchema(), wanted.getSchema())) {
      return;
    }
    admin.schemas().createSchema(topic, wanted);
    changes.add((current == null ? "registered schema of " : "updated schema of ") + topic);
  }
}
