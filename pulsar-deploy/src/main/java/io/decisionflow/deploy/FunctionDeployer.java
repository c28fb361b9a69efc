package io.decisionflow.deploy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.decisionflow.schemas.BusinessNamespace;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.apache.pulsar.common.functions.ConsumerConfig;
import org.apache.pulsar.common.functions.FunctionConfig;

/**
 * Deploys the pipeline's function configs (the YAML files that {@code pulsar-admin functions create
 * --function-config-file} takes) for one business unit, idempotently: a function that does not
 * exist is created, one whose config or code differs is updated, one that matches is left alone.
 *
 * <p>The shipped files are written for the reference business unit ({@code payments/fraud}). For
 * another unit the deployer rebinds them: tenant, namespace and every topic move to the unit's
 * pipeline namespace, and the unit's settings are merged into {@code userConfig} and {@code
 * parallelism}.
 */
public final class FunctionDeployer {

  /** userConfig key under which the deployer records the code it deployed. */
  public static final String DEPLOYMENT_KEY = "_deployment";

  /** The outcome of applying one function config. */
  public enum Outcome {
    CREATED,
    UPDATED,
    UNCHANGED
  }

  /** A function config ready to apply, with the jar it runs. */
  public record Deployment(FunctionConfig config, Path jar) {}

  private static final ObjectMapper YAML =
      new ObjectMapper(new YAMLFactory()).enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern TOPIC =
      Pattern.compile("(persistent|non-persistent)://([^/]+)/([^/]+)/(.+)");

  private final PulsarAdmin admin;
  private final Consumer<String> log;

  public FunctionDeployer(PulsarAdmin admin, Consumer<String> log) {
    this.admin = admin;
    this.log = log;
  }

  /** Reads every {@code *.yaml} function config in {@code dir}, by file name. */
  public static List<FunctionConfig> readAll(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      List<FunctionConfig> configs = new ArrayList<>();
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        configs.add(read(file));
      }
      if (configs.isEmpty()) {
        throw new IllegalArgumentException("no function configs (*.yaml) in " + dir);
      }
      return configs;
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot list " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Reads one function config file. */
  public static FunctionConfig read(Path file) {
    try {
      return YAML.readValue(file.toFile(), FunctionConfig.class);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read function config " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * {@code template}'s userConfig with the unit's settings for the function merged in ({@link
   * UserConfigOverrides#merge}).
   */
  static Map<String, Object> unitUserConfig(FunctionConfig template, BusinessUnit unit) {
    return UserConfigOverrides.merge(
        template.getUserConfig() == null ? Map.of() : template.getUserConfig(),
        unit.function(template.getName()).userConfig);
  }

  /**
   * The function config for a business unit: {@code template} moved to the unit's pipeline
   * namespace, with the unit's settings and then {@code overrides} (by function name, keys of
   * userConfig, nested maps merged key by key: {@link UserConfigOverrides#merge}) merged in, and
   * the jar resolved against {@code projectDir}.
   */
  public static Deployment render(
      FunctionConfig template,
      BusinessUnit unit,
      Map<String, Map<String, Object>> overrides,
      Path projectDir) {
    FunctionConfig config = copy(template);
    BusinessNamespace ns = unit.pipelineNamespace();
    config.setTenant(ns.tenant());
    config.setNamespace(ns.namespace());
    if (config.getInputs() != null) {
      config.setInputs(config.getInputs().stream().map(t -> rebind(t, ns)).toList());
    }
    if (config.getInputSpecs() != null) {
      Map<String, ConsumerConfig> specs = new LinkedHashMap<>();
      config.getInputSpecs().forEach((topic, spec) -> specs.put(rebind(topic, ns), spec));
      config.setInputSpecs(specs);
    }
    if (config.getOutput() != null) {
      config.setOutput(rebind(config.getOutput(), ns));
    }
    if (config.getDeadLetterTopic() != null) {
      config.setDeadLetterTopic(rebind(config.getDeadLetterTopic(), ns));
    }
    if (config.getLogTopic() != null) {
      config.setLogTopic(rebind(config.getLogTopic(), ns));
    }
    BusinessUnit.FunctionSettings settings = unit.function(config.getName());
    Map<String, Object> userConfig =
        UserConfigOverrides.merge(
            unitUserConfig(config, unit), overrides.getOrDefault(config.getName(), Map.of()));
    if (settings.parallelism != null) {
      config.setParallelism(settings.parallelism);
    }
    if (config.getJar() == null) {
      throw new IllegalArgumentException("function config " + config.getName() + " has no jar");
    }
    Path jar = projectDir.resolve(config.getJar()).normalize();
    if (!Files.isRegularFile(jar)) {
      throw new IllegalArgumentException(
          "jar of function "
              + config.getName()
              + " not found at "
              + jar
              + ": build it first (mvn package)");
    }
    userConfig.put(DEPLOYMENT_KEY, Map.of("codeSha256", sha256(jar)));
    config.setUserConfig(userConfig);
    config.setJar(jar.toString());
    return new Deployment(config, jar);
  }

  /** Creates the function, or updates it if its config or code differs. */
  public Outcome apply(Deployment deployment) throws PulsarAdminException {
    FunctionConfig wanted = deployment.config();
    String fqfn = wanted.getTenant() + "/" + wanted.getNamespace() + "/" + wanted.getName();
    FunctionConfig current;
    try {
      current =
          admin
              .functions()
              .getFunction(wanted.getTenant(), wanted.getNamespace(), wanted.getName());
    } catch (PulsarAdminException.NotFoundException e) {
      current = null;
    }
    if (current == null) {
      admin.functions().createFunction(wanted, deployment.jar().toString());
      log.accept("created function " + fqfn);
      return Outcome.CREATED;
    }
    List<String> differences = differences(wanted, current);
    if (differences.isEmpty()) {
      log.accept("function " + fqfn + " is up to date");
      return Outcome.UNCHANGED;
    }
    admin.functions().updateFunction(wanted, deployment.jar().toString());
    log.accept("updated function " + fqfn + " (" + String.join(", ", differences) + ")");
    return Outcome.UPDATED;
  }

  /** Deletes the function if it exists. */
  public boolean delete(String tenant, String namespace, String name) throws PulsarAdminException {
    try {
      admin.functions().deleteFunction(tenant, namespace, name);
      log.accept("deleted function " + tenant + "/" + namespace + "/" + name);
      return true;
    } catch (PulsarAdminException.NotFoundException e) {
      return false;
    }
  }

  /**
   * Settings of {@code wanted} that {@code current} does not have. Only what the config file sets
   * is compared; the worker fills in defaults for the rest. The jar path is not compared (the
   * worker keeps its own copy): the code is compared by the checksum in userConfig.
   */
  static List<String> differences(FunctionConfig wanted, FunctionConfig current) {
    return differences(
        wanted,
        current,
        "jar",
        "userConfig",
        inputTopics(wanted.getInputs(), wanted.getInputSpecs()),
        inputTopics(current.getInputs(), current.getInputSpecs()));
  }

  /**
   * Settings of {@code wanted} (a function or sink config) that {@code current} does not have, as
   * JSON: {@code code} (the jar or archive path) is not compared; the input topics are compared as
   * sets under the name {@code inputs} (the worker returns them under inputSpecs); {@code exact}
   * (the user settings) must match key for key, the rest only in what {@code wanted} sets.
   */
  static List<String> differences(
      Object wanted,
      Object current,
      String code,
      String exact,
      java.util.Set<String> wantedTopics,
      java.util.Set<String> currentTopics) {
    ObjectNode want = JSON.valueToTree(wanted);
    JsonNode have = JSON.valueToTree(current);
    want.remove(code);
    want.remove("inputs");
    List<String> differences = new ArrayList<>();
    if (!wantedTopics.equals(currentTopics)) {
      differences.add("inputs");
    }
    Iterator<Map.Entry<String, JsonNode>> fields = want.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      if (!sameValue(field.getValue(), have.get(field.getKey()), field.getKey().equals(exact))) {
        differences.add(field.getKey());
      }
    }
    return differences;
  }

  /** The input topics of a function or sink config: its inputs and the keys of its inputSpecs. */
  static java.util.Set<String> inputTopics(
      java.util.Collection<String> inputs, Map<String, ?> inputSpecs) {
    java.util.Set<String> topics = new java.util.TreeSet<>();
    if (inputs != null) {
      topics.addAll(inputs);
    }
    if (inputSpecs != null) {
      topics.addAll(inputSpecs.keySet());
    }
    return topics;
  }

  /**
   * Whether {@code current} holds what {@code wanted} says, as JSON: numbers by value (the worker
   * returns 70 as 70.0); objects by the keys {@code wanted} sets, unless {@code exact} (then a key
   * only {@code current} has is a difference too).
   */
  static boolean sameValue(JsonNode wanted, JsonNode current, boolean exact) {
    if (wanted.isNull()) {
      return true;
    }
    if (current == null || current.isNull()) {
      return false;
    }
    if (wanted.isNumber() && current.isNumber()) {
      return wanted.decimalValue().compareTo(current.decimalValue()) == 0;
    }
    if (wanted.isObject() && current.isObject()) {
      if (exact && wanted.size() != current.size()) {
        return false;
      }
      Iterator<Map.Entry<String, JsonNode>> it = wanted.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!sameValue(e.getValue(), current.get(e.getKey()), exact)) {
          return false;
        }
      }
      return true;
    }
    if (wanted.isArray() && current.isArray()) {
      if (wanted.size() != current.size()) {
        return false;
      }
      for (int i = 0; i < wanted.size(); i++) {
        if (!sameValue(wanted.get(i), current.get(i), exact)) {
          return false;
        }
      }
      return true;
    }
    return wanted.equals(current);
  }

  /** {@code persistent://<any>/<any>/name} to the same name in {@code ns}. */
  static String rebind(String topic, BusinessNamespace ns) {
    Matcher m = TOPIC.matcher(topic);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "topic '"
              + topic
              + "' must be fully qualified, e.g. persistent://payments/fraud/transactions"
              + " (short names resolve to public/default)");
    }
    return m.group(1) + "://" + ns.tenant() + "/" + ns.namespace() + "/" + m.group(4);
  }

  private static FunctionConfig copy(FunctionConfig config) {
    return JSON.convertValue(JSON.valueToTree(config), FunctionConfig.class);
  }

  /** Checksums by file, path and version: several functions run the same 165 MB jar. */
  private static final Map<String, String> CHECKSUMS =
      new java.util.concurrent.ConcurrentHashMap<>();

  static String sha256(Path file) {
    try {
      String version =
          file.toAbsolutePath() + "|" + Files.size(file) + "|" + Files.getLastModifiedTime(file);
      return CHECKSUMS.computeIfAbsent(version, v -> digest(file));
    } catch (IOException e) {
      throw new IllegalStateException("cannot checksum " + file + ": " + e.getMessage(), e);
    }
  }

  private static String digest(Path file) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
        in.transferTo(OutputStream.nullOutputStream());
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (IOException | NoSuchAlgorithmException e) {
      throw new IllegalStateException("cannot checksum " + file + ": " + e.getMessage(), e);
    }
  }
}
