package io.decisionflow.deploy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.stages.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.apache.pulsar.common.functions.ConsumerConfig;
import org.apache.pulsar.common.io.SinkConfig;

/**
 * Deploys the pipeline's sink configs (the YAML files that {@code pulsar-admin sinks create
 * --sink-config-file} takes, under {@code pulsar-deploy/sinks/}) for one business unit,
 * idempotently, like {@link FunctionDeployer} does for functions: tenant, namespace and topics move
 * to the unit's pipeline namespace, the unit's {@code configs} are merged in, and the secrets are
 * read from the environment variables the unit names, so that no credential sits in a file.
 */
public final class SinkDeployer {

  /** JVM flag under which the deployer records the connector archive it deployed. */
  static final String DEPLOYMENT_FLAG = "-Ddecisionflow.archiveSha256=";

  /** A sink config ready to apply, with its connector archive. */
  public record Deployment(SinkConfig config, Path archive) {}

  private static final ObjectMapper YAML =
      new ObjectMapper(new YAMLFactory()).enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final PulsarAdmin admin;
  private final Consumer<String> log;

  public SinkDeployer(PulsarAdmin admin, Consumer<String> log) {
    this.admin = admin;
    this.log = log;
  }

  /** Reads every {@code *.yaml} sink config in {@code dir}, by sink name. */
  public static Map<String, SinkConfig> readAll(Path dir) {
    Map<String, SinkConfig> configs = new LinkedHashMap<>();
    if (!Files.isDirectory(dir)) {
      return configs;
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        SinkConfig config = read(file);
        configs.put(config.getName(), config);
      }
      return configs;
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot list " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Reads one sink config file. */
  public static SinkConfig read(Path file) {
    try {
      SinkConfig config = YAML.readValue(file.toFile(), SinkConfig.class);
      if (config.getName() == null || config.getName().isBlank()) {
        throw new IllegalArgumentException("sink config " + file + ": name is required");
      }
      return config;
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read sink config " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The sink config for a business unit: {@code template} moved to the unit's pipeline namespace,
   * with {@code settings} merged in and the archive resolved against {@code projectDir}.
   *
   * @param environment where the secrets named by {@code settings.secretsFromEnv} are looked up
   *     (unless the unit hands them over {@link BusinessUnit#secretsByName by name})
   * @throws ConfigException naming the sink and the setting if something is missing
   */
  public static Deployment render(
      SinkConfig template,
      BusinessUnit unit,
      BusinessUnit.SinkSettings settings,
      Path projectDir,
      Function<String, String> environment) {
    SinkConfig config = JSON.convertValue(JSON.valueToTree(template), SinkConfig.class);
    String what = "sink " + config.getName() + " of " + unit.name;
    BusinessNamespace ns = unit.pipelineNamespace();
    config.setTenant(ns.tenant());
    config.setNamespace(ns.namespace());
    try {
      if (config.getInputs() != null) {
        config.setInputs(
            config.getInputs().stream().map(t -> FunctionDeployer.rebind(t, ns)).toList());
      }
      if (config.getInputSpecs() != null) {
        Map<String, ConsumerConfig> specs = new LinkedHashMap<>();
        config
            .getInputSpecs()
            .forEach((topic, spec) -> specs.put(FunctionDeployer.rebind(topic, ns), spec));
        config.setInputSpecs(specs);
      }
      if (config.getTopicToSchemaType() != null) {
        Map<String, String> types = new LinkedHashMap<>();
        config
            .getTopicToSchemaType()
            .forEach((topic, type) -> types.put(FunctionDeployer.rebind(topic, ns), type));
        config.setTopicToSchemaType(types);
      }
      if (config.getDeadLetterTopic() != null) {
        config.setDeadLetterTopic(FunctionDeployer.rebind(config.getDeadLetterTopic(), ns));
      }
    } catch (IllegalArgumentException e) {
      throw new ConfigException(what + ": " + e.getMessage(), e);
    }
    Map<String, Object> configs =
        new LinkedHashMap<>(config.getConfigs() == null ? Map.of() : config.getConfigs());
    configs.putAll(settings.configs);
    config.setConfigs(configs);
    if (settings.parallelism != null) {
      if (settings.parallelism < 1) {
        throw new ConfigException(what + ": parallelism must be >= 1, was " + settings.parallelism);
      }
      config.setParallelism(settings.parallelism);
    }
    Map<String, Object> secrets =
        new LinkedHashMap<>(config.getSecrets() == null ? Map.of() : config.getSecrets());
    settings.secretsFromEnv.forEach(
        (secret, variable) -> {
          if (unit.secretsByName) {
            // The worker's secrets provider reads the variable from its own environment.
            secrets.put(secret, variable);
            return;
          }
          String value = environment.apply(variable);
          if (value == null || value.isEmpty()) {
            throw new ConfigException(
                what
                    + ": secret "
                    + secret
                    + " comes from the environment variable "
                    + variable
                    + ", which is not set: export it before deploying");
          }
          secrets.put(secret, value);
        });
    secrets.putAll(settings.secrets);
    config.setSecrets(secrets.isEmpty() ? null : secrets);
    if (config.getArchive() == null) {
      throw new ConfigException(what + ": archive is required (the connector's NAR)");
    }
    Path archive = projectDir.resolve(config.getArchive()).normalize();
    if (!Files.isRegularFile(archive)) {
      throw new ConfigException(
          what + ": connector archive not found at " + archive + ": build it first (mvn package)");
    }
    config.setArchive(archive.toString());
    String flags = config.getRuntimeFlags() == null ? "" : config.getRuntimeFlags().trim();
    config.setRuntimeFlags(
        (flags.isEmpty() ? "" : flags + " ") + DEPLOYMENT_FLAG + FunctionDeployer.sha256(archive));
    return new Deployment(config, archive);
  }

  /** Creates the sink, or updates it if its config or archive differs. */
  public FunctionDeployer.Outcome apply(Deployment deployment) throws PulsarAdminException {
    SinkConfig wanted = deployment.config();
    String fqn = wanted.getTenant() + "/" + wanted.getNamespace() + "/" + wanted.getName();
    SinkConfig current;
    try {
      current = admin.sinks().getSink(wanted.getTenant(), wanted.getNamespace(), wanted.getName());
    } catch (PulsarAdminException.NotFoundException e) {
      current = null;
    }
    if (current == null) {
      admin.sinks().createSink(wanted, deployment.archive().toString());
      log.accept("created sink " + fqn);
      return FunctionDeployer.Outcome.CREATED;
    }
    List<String> differences = differences(wanted, current);
    if (differences.isEmpty()) {
      log.accept("sink " + fqn + " is up to date");
      return FunctionDeployer.Outcome.UNCHANGED;
    }
    admin.sinks().updateSink(wanted, deployment.archive().toString());
    log.accept("updated sink " + fqn + " (" + String.join(", ", differences) + ")");
    return FunctionDeployer.Outcome.UPDATED;
  }

  /** Deletes the sink if it exists. */
  public boolean delete(String tenant, String namespace, String name) throws PulsarAdminException {
    try {
      admin.sinks().deleteSink(tenant, namespace, name);
      log.accept("deleted sink " + tenant + "/" + namespace + "/" + name);
      return true;
    } catch (PulsarAdminException.NotFoundException e) {
      return false;
    }
  }

  /**
   * Settings of {@code wanted} that {@code current} does not have; only what the config sets is
   * compared, and the archive by the checksum in the runtime flags (the worker keeps its own copy).
   */
  static List<String> differences(SinkConfig wanted, SinkConfig current) {
    return FunctionDeployer.differences(
        wanted,
        current,
        "archive",
        "configs",
        FunctionDeployer.inputTopics(wanted.getInputs(), wanted.getInputSpecs()),
        FunctionDeployer.inputTopics(current.getInputs(), current.getInputSpecs()));
  }
}
