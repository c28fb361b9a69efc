package io.decisionflow.deploy;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.decisionflow.schemas.BusinessNamespace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A business unit as declared in {@code pulsar-deploy/business-units/<name>.yaml}: its tenant,
 * namespaces with their policies, and how its pipeline is configured. One business unit is one
 * Pulsar tenant.
 */
public final class BusinessUnit {

  /** Policies of one namespace. Unset values are left as the cluster has them. */
  public static final class Policies {
    /** How long acknowledged messages are kept, in minutes. */
    public Integer retentionMinutes;

    /** How much acknowledged data is kept, in MB. */
    public Integer retentionSizeMb;

    /** Broker deduplication of producer retries. */
    public Boolean deduplication;

    /** Schema compatibility strategy, e.g. BACKWARD_TRANSITIVE. */
    public String schemaCompatibility;

    /** Backlog quota: the most unacknowledged data a subscription may hold, in MB. */
    public Integer backlogQuotaMb;

    /**
     * What happens at the quota: producer_request_hold, producer_exception,
     * consumer_backlog_eviction.
     */
    public String backlogQuotaPolicy = "producer_request_hold";

    /** Tiered storage: closed ledgers move to object storage (unset: the cluster's setting). */
    public Offload offload;
  }

  /**
   * Offload of the namespace's closed ledgers to S3-compatible object storage with Pulsar's
   * offloaders (the jcloud NAR in the broker's {@code offloaders/}). The broker reads the
   * credentials from its environment ({@code ACCESS_KEY_ID}, {@code ACCESS_KEY_SECRET}); the bucket
   * must exist.
   */
  public static final class Offload {
    /**
     * Offloader driver: {@code S3} for any S3-compatible store ({@code aws-s3} asks AWS itself for
     * the bucket's location).
     */
    public String driver = "S3";

    public String bucket;

    public String region = "us-east-1";

    /** The store's endpoint, e.g. http://127.0.0.1:9000; unset for AWS S3. */
    public String endpoint;

    /** Offload once a topic holds this much in BookKeeper, in MB (0: every closed ledger). */
    public Long thresholdMb;

    /** How long an offloaded ledger stays in BookKeeper too, in minutes (0: deleted at once). */
    public Long deletionLagMinutes;
  }

  /** One namespace of the tenant. */
  public static final class Namespace {
    public String name;
    public Policies policies = new Policies();
  }

  /** Settings of one function of the pipeline, merged over its function config. */
  public static final class FunctionSettings {
    /** Keys merged into the function's userConfig. */
    public Map<String, Object> userConfig = new LinkedHashMap<>();

    /** Instances of the function. */
    public Integer parallelism;
  }

  /** Settings of one sink of the pipeline, merged over its sink config. */
  public static final class SinkSettings {
    /** Keys merged into the sink's connector configs (e.g. {@code jdbcUrl}). */
    public Map<String, Object> configs = new LinkedHashMap<>();

    /**
     * Secrets of the sink by name (e.g. {@code password}), each read at deploy time from the
     * environment variable given here, so that no credential sits in a file.
     */
    public Map<String, String> secretsFromEnv = new LinkedHashMap<>();

    /** Secret values set by code (the demo's and the tests' own databases); never in files. */
    @JsonIgnore public Map<String, Object> secrets = new LinkedHashMap<>();

    /** Instances of the sink. */
    public Integer parallelism;
  }

  /** Where and how the pipeline of this business unit runs. */
  public static final class Pipeline {
    /** Namespace (of {@link #namespaces}) that holds the pipeline's topics and functions. */
    public String namespace;

    /** Per-function settings, by function name (e.g. {@code decide}). */
    public Map<String, FunctionSettings> functions = new LinkedHashMap<>();

    /**
     * The sinks this unit runs, by sink name (a config {@code pulsar-deploy/sinks/<name>.yaml}); a
     * sink the unit does not list is not deployed.
     */
    public Map<String, SinkSettings> sinks = new LinkedHashMap<>();

    /**
     * Topics of the pipeline namespace that replicate to every cluster in {@link #allowedClusters}
     * when it names more than one (geo-replication): the pipeline's outputs only. Its inputs stay
     * in their region, or two regions would decide the same transaction.
     */
    public List<String> replicatedTopics = new ArrayList<>();
  }

  /** The topics {@link Pipeline#replicatedTopics} may name: the pipeline's outputs. */
  public static final Set<String> REPLICABLE_TOPICS =
      Set.of("decisions", "fraud-alerts", "transactions-ok", "dead-letters", "shadow-scores");

  private static final ObjectMapper YAML =
      new ObjectMapper(new YAMLFactory())
          .setPropertyNamingStrategy(PropertyNamingStrategies.LOWER_CAMEL_CASE)
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private static final Set<String> BACKLOG_POLICIES =
      Set.of("producer_request_hold", "producer_exception", "consumer_backlog_eviction");

  /**
   * Whether the sinks get their {@code secretsFromEnv} by the variables' names instead of their
   * values, for a functions worker whose secrets provider reads its own environment ({@code
   * io.decisionflow.secrets.EnvironmentSecretsProvider}); set at deploy time, not in the file.
   */
  @JsonIgnore public boolean secretsByName;

  /** Short name, the file's name without {@code .yaml}. */
  public String name;

  public String description;

  /** The Pulsar tenant of this business unit. */
  public String tenant;

  /** Roles that administer the tenant. */
  public List<String> adminRoles = new ArrayList<>();

  /** Clusters the tenant may use; {@code standalone} is the local standalone's name. */
  public List<String> allowedClusters = new ArrayList<>(List.of("standalone"));

  /**
   * The role (a token's subject) of the unit's clients, on a cluster with authorization: it may
   * produce transactions and consume decisions (and the alerts and oks) of this tenant, nothing
   * else. Default: the tenant's name.
   */
  public String role;

  public List<Namespace> namespaces = new ArrayList<>();

  public Pipeline pipeline = new Pipeline();

  /** Reads and validates a business-unit file. */
  public static BusinessUnit load(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("business-unit file " + file + " does not exist");
    }
    BusinessUnit unit;
    try {
      unit = YAML.readValue(file.toFile(), BusinessUnit.class);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    }
    if (unit.name == null) {
      unit.name = file.getFileName().toString().replaceFirst("\\.ya?ml$", "");
    }
    unit.validate(file.toString());
    return unit;
  }

  /** Finds {@code <dir>/<name>.yaml}. */
  public static BusinessUnit load(Path dir, String name) {
    return load(dir.resolve(name + ".yaml"));
  }

  /**
   * This unit allowed on {@code clusters} instead of the file's {@link #allowedClusters} (e.g. the
   * two local regions); with more than one, the {@link Pipeline#replicatedTopics} replicate.
   *
   * @throws IllegalArgumentException if {@code clusters} is empty or names a cluster twice
   */
  public BusinessUnit onClusters(List<String> clusters) {
    if (clusters == null
        || clusters.isEmpty()
        || clusters.stream().anyMatch(c -> c == null || c.isBlank())) {
      throw new IllegalArgumentException(
          "clusters must name at least one cluster, was " + clusters);
    }
    if (Set.copyOf(clusters).size() != clusters.size()) {
      throw new IllegalArgumentException("clusters names a cluster twice: " + clusters);
    }
    allowedClusters = new ArrayList<>(clusters);
    return this;
  }

  /** Whether the unit spans more than one cluster, so that its replicated topics replicate. */
  public boolean geoReplicated() {
    return allowedClusters.size() > 1 && !pipeline.replicatedTopics.isEmpty();
  }

  /** The namespace that runs the pipeline. */
  public BusinessNamespace pipelineNamespace() {
    return new BusinessNamespace(tenant, pipeline.namespace);
  }

  /** The settings of one function (empty if the file has none). */
  public FunctionSettings function(String functionName) {
    return pipeline.functions.getOrDefault(functionName, new FunctionSettings());
  }

  private void validate(String source) {
    require(tenant != null, source, "tenant", tenant, "is required");
    requireNames(source, "tenant", tenant, "x"); // checks the tenant's characters
    require(
        allowedClusters != null && !allowedClusters.isEmpty(),
        source,
        "allowedClusters",
        allowedClusters,
        "must name at least one cluster");
    require(
        namespaces != null && !namespaces.isEmpty(),
        source,
        "namespaces",
        namespaces,
        "must declare at least one namespace");
    for (int i = 0; i < namespaces.size(); i++) {
      Namespace ns = namespaces.get(i);
      String at = "namespaces[" + i + "]";
      require(ns != null, source, at, null, "must be a namespace {name, policies}");
      require(ns.name != null, source, at + ".name", ns.name, "is required");
      requireNames(source, at + ".name", tenant, ns.name);
      Policies p = ns.policies == null ? new Policies() : ns.policies;
      ns.policies = p;
      if (p.retentionMinutes != null) {
        require(
            p.retentionMinutes >= -1,
            source,
            at + ".policies.retentionMinutes",
            p.retentionMinutes,
            "must be >= 0 (or -1 for infinite)");
      }
      if (p.schemaCompatibility != null) {
        try {
          org.apache.pulsar.common.policies.data.SchemaCompatibilityStrategy.valueOf(
              p.schemaCompatibility);
        } catch (IllegalArgumentException e) {
          require(
              false,
              source,
              at + ".policies.schemaCompatibility",
              p.schemaCompatibility,
              "must be one of BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL,"
                  + " FULL_TRANSITIVE, ALWAYS_COMPATIBLE, ALWAYS_INCOMPATIBLE");
        }
      }
      require(
          p.backlogQuotaPolicy != null && BACKLOG_POLICIES.contains(p.backlogQuotaPolicy),
          source,
          at + ".policies.backlogQuotaPolicy",
          p.backlogQuotaPolicy,
          "must be one of " + BACKLOG_POLICIES);
      if (p.offload != null) {
        require(
            p.offload.bucket != null && !p.offload.bucket.isBlank(),
            source,
            at + ".policies.offload.bucket",
            p.offload.bucket,
            "is required (the bucket must exist)");
        require(
            Set.of("S3", "aws-s3", "google-cloud-storage", "filesystem").contains(p.offload.driver),
            source,
            at + ".policies.offload.driver",
            p.offload.driver,
            "must be S3 (any S3-compatible store), aws-s3, google-cloud-storage or filesystem");
        require(
            p.offload.thresholdMb == null || p.offload.thresholdMb >= 0,
            source,
            at + ".policies.offload.thresholdMb",
            p.offload.thresholdMb,
            "must be >= 0");
        require(
            p.offload.deletionLagMinutes == null || p.offload.deletionLagMinutes >= 0,
            source,
            at + ".policies.offload.deletionLagMinutes",
            p.offload.deletionLagMinutes,
            "must be >= 0");
      }
      if (p.backlogQuotaMb != null && p.retentionSizeMb != null && p.retentionSizeMb >= 0) {
        require(
            p.backlogQuotaMb <= p.retentionSizeMb,
            source,
            at + ".policies.backlogQuotaMb",
            p.backlogQuotaMb,
            "must not exceed retentionSizeMb (" + p.retentionSizeMb + "), as Pulsar requires");
      }
    }
    require(pipeline != null, source, "pipeline", null, "is required");
    // A key written with nothing under it (e.g. "decide:" with its settings commented out) reads
    // as null: it means "none", not a failure later on.
    if (adminRoles == null) {
      adminRoles = new ArrayList<>();
    }
    if (pipeline.functions == null) {
      pipeline.functions = new LinkedHashMap<>();
    }
    pipeline.functions.replaceAll(
        (fn, settings) -> settings == null ? new FunctionSettings() : settings);
    for (FunctionSettings settings : pipeline.functions.values()) {
      if (settings.userConfig == null) {
        settings.userConfig = new LinkedHashMap<>();
      }
    }
    if (role == null) {
      role = tenant;
    }
    require(
        role.matches("[A-Za-z0-9._-]+"),
        source,
        "role",
        role,
        "must be letters, digits, '.', '_' or '-' (a token's subject)");
    if (pipeline.replicatedTopics == null) {
      pipeline.replicatedTopics = new ArrayList<>();
    }
    for (int i = 0; i < pipeline.replicatedTopics.size(); i++) {
      String topic = pipeline.replicatedTopics.get(i);
      require(
          REPLICABLE_TOPICS.contains(topic),
          source,
          "pipeline.replicatedTopics[" + i + "]",
          topic,
          "must be one of the pipeline's outputs "
              + new java.util.TreeSet<>(REPLICABLE_TOPICS)
              + " (its inputs stay in their region, or two regions would decide the same"
              + " transaction)");
    }
    require(
        namespaces.stream().anyMatch(ns -> ns.name.equals(pipeline.namespace)),
        source,
        "pipeline.namespace",
        pipeline.namespace,
        "must be one of the declared namespaces");
  }

  /** Checks the characters of a tenant and namespace name, naming the file and the field. */
  private static void requireNames(String source, String field, String tenant, String namespace) {
    try {
      new BusinessNamespace(tenant, namespace);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(source + ": " + field + ": " + e.getMessage(), e);
    }
  }

  private static void require(
      boolean condition, String source, String field, Object value, String problem) {
    if (!condition) {
      throw new IllegalArgumentException(
          source + ": " + field + " " + problem + ", was " + (value == null ? "<missing>" : value));
    }
  }
}
