package io.decisionflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.decisionflow.functions.UserConfigs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.pulsar.common.functions.FunctionConfig;
import org.apache.pulsar.common.functions.Resources;
import org.apache.pulsar.common.io.SinkConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Kubernetes deployment files in {@code pulsar-deploy/kubernetes/} say what the local ones say,
 * with cluster resources, and the Helm values use the chart's keys. Offline: nothing here talks to
 * a cluster or runs Helm.
 */
class KubernetesFilesTest {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Z0-9_]+)}");

  /** What deploy-k8s.sh fills in, with example values of the right shape. */
  private static final Map<String, String> EXAMPLES =
      Map.of(
          "DF_VERSION", "0.1.0",
          "DF_S3_ENDPOINT", "https://s3.us-east-1.amazonaws.com",
          "DF_S3_REGION", "us-east-1",
          "DF_ARCHIVE_BUCKET", "decisionflow-decisions-archive-us-east",
          "DF_POSTGRES_JDBC_URL", "jdbc:postgresql://postgres.example.com:5432/decisionflow");

  /** Maps in the chart's values whose keys are free (config file keys, Kubernetes resources). */
  private static final Pattern FREE_FORM =
      Pattern.compile("(^|\\.)(configData|resources|annotations)\\.");

  @TempDir Path tmp;

  static Stream<Path> functionFiles() {
    return ShippedFiles.functionFiles().stream();
  }

  static Stream<Path> sinkFiles() {
    return ShippedFiles.sinkFiles().stream();
  }

  static Path k8s() {
    return ShippedFiles.moduleDir().resolve("kubernetes");
  }

  @Test
  void everyYamlFileParses() throws IOException {
    // Given every YAML file under kubernetes/
    List<Path> files;
    try (Stream<Path> walk = Files.walk(k8s())) {
      files = walk.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
    }

    // Then there are the three values files, six functions and two sinks, and each parses
    assertThat(files).hasSize(3 + 6 + 2);
    for (Path file : files) {
      assertThatCode(() -> YAML.readTree(file.toFile())).as("%s", file).doesNotThrowAnyException();
      assertThat(YAML.readTree(file.toFile()).isObject()).as("%s is a map", file).isTrue();
    }
  }

  @ParameterizedTest
  @MethodSource("functionFiles")
  void eachFunctionHasAClusterCounterpartThatDoesTheSame(Path local) throws IOException {
    // Given a local function config and its cluster counterpart, placeholders filled in
    FunctionConfig mine = FunctionDeployer.read(local);
    Path file = k8s().resolve("functions").resolve(local.getFileName());
    assertThat(file).as("cluster counterpart of %s", local.getFileName()).isRegularFile();

    // When the counterpart is read as Pulsar 4.0 reads it (unknown keys fail)
    FunctionConfig cluster = FunctionDeployer.read(rendered(file));

    // Then it runs the same class on the same topics, subscription and guarantees
    assertThat(cluster.getName()).isEqualTo(mine.getName());
    assertThat(cluster.getTenant()).isEqualTo(mine.getTenant());
    assertThat(cluster.getNamespace()).isEqualTo(mine.getNamespace());
    assertThat(cluster.getClassName()).isEqualTo(mine.getClassName());
    assertThat(cluster.getRuntime()).isEqualTo(mine.getRuntime());
    assertThat(cluster.getInputs()).containsExactlyElementsOf(mine.getInputs());
    assertThat(cluster.getInputSpecs()).isEqualTo(mine.getInputSpecs());
    assertThat(cluster.getOutput()).isEqualTo(mine.getOutput());
    assertThat(cluster.getOutputSchemaType()).isEqualTo(mine.getOutputSchemaType());
    assertThat(cluster.getProcessingGuarantees()).isEqualTo(mine.getProcessingGuarantees());
    assertThat(cluster.getRetainKeyOrdering()).isEqualTo(mine.getRetainKeyOrdering());
    assertThat(cluster.getRetainOrdering()).isEqualTo(mine.getRetainOrdering());
    assertThat(cluster.getSubName()).isEqualTo(mine.getSubName());
    assertThat(cluster.getSubscriptionPosition()).isEqualTo(mine.getSubscriptionPosition());
    assertThat(cluster.getCleanupSubscription()).isEqualTo(mine.getCleanupSubscription());

    // And it has a parallelism and cpu, ram and disk, at least the local ones
    assertThat(cluster.getParallelism()).as("parallelism").isNotNull().isPositive();
    assertResources(cluster.getResources(), mine.getResources(), file);

    // And it names its jar as a package of its namespace, the local jar's name at the release
    String jarName = Path.of(mine.getJar()).getFileName().toString().replaceAll("\\.jar$", "");
    String packageUrl =
        "function://" + mine.getTenant() + "/" + mine.getNamespace() + "/" + jarName;
    assertThat(text(file)).contains("jar: " + packageUrl + "@${DF_VERSION}\n");

    // And its userConfig is valid for its class
    assertThatCode(() -> UserConfigs.validate(cluster.getClassName(), cluster.getUserConfig()))
        .as("userConfig of %s", file.getFileName())
        .doesNotThrowAnyException();
  }

  @Test
  void enrichScalesOutOnlyWithKeyOrderingAndGuardStaysSingle() throws IOException {
    // Given the cluster configs of enrich and guard
    FunctionConfig enrich = clusterFunction("enrich");
    FunctionConfig guard = clusterFunction("guard");

    // Then enrich runs several instances, each card on one of them (Key_Shared), and guard one
    assertThat(enrich.getParallelism()).isGreaterThan(1);
    assertThat(enrich.getRetainKeyOrdering()).isTrue();
    assertThat(guard.getParallelism()).isEqualTo(1);
  }

  @ParameterizedTest
  @ValueSource(strings = {"score-champion", "score-challenger"})
  void scoreFunctionsGetAJavaCppCacheRoomForNativeMemoryAndNoLocalModel(String name)
      throws IOException {
    // Given a cluster score config
    FunctionConfig score = clusterFunction(name);

    // Then JavaCPP unpacks into the directory the runtime image creates
    assertThat(score.getRuntimeFlags()).contains("-Dorg.bytedeco.javacpp.cachedir=");
    String cacheDir =
        score
            .getRuntimeFlags()
            .replaceAll(".*-Dorg\\.bytedeco\\.javacpp\\.cachedir=(\\S+).*", "$1");
    assertThat(text(k8s().resolve("Dockerfile"))).contains("mkdir -p").contains(cacheDir);

    // And its pod gets more memory than its heap, for TensorFlow's native memory
    JsonNode options = JSON.readTree(score.getCustomRuntimeOptions());
    JsonNode limit = options.path("resourceRequirements").path("limits").path("memory");
    assertThat(limit.isTextual()).as("customRuntimeOptions limits.memory").isTrue();
    assertThat(bytes(limit.asText())).isGreaterThan(score.getResources().getRam());
    assertThat(options.path("resourceRequirements").path("requests").path("memory").asText())
        .isEqualTo(limit.asText());

    // And it reads no model directory that a pod would not have
    assertThat(score.getUserConfig()).doesNotContainKey("modelLocation").containsKey("modelStore");
  }

  @ParameterizedTest
  @MethodSource("sinkFiles")
  void eachSinkHasAClusterCounterpartThatDoesTheSame(Path local) throws IOException {
    // Given a local sink config and its cluster counterpart, placeholders filled in
    SinkConfig mine = SinkDeployer.read(local);
    Path file = k8s().resolve("sinks").resolve(local.getFileName());
    assertThat(file).as("cluster counterpart of %s", local.getFileName()).isRegularFile();

    // When the counterpart is read
    SinkConfig cluster = SinkDeployer.read(rendered(file));

    // Then it reads the same topic the same way
    assertThat(cluster.getName()).isEqualTo(mine.getName());
    assertThat(cluster.getTenant()).isEqualTo(mine.getTenant());
    assertThat(cluster.getNamespace()).isEqualTo(mine.getNamespace());
    assertThat(cluster.getInputs()).containsExactlyElementsOf(mine.getInputs());
    assertThat(cluster.getInputSpecs()).isEqualTo(mine.getInputSpecs());
    assertThat(cluster.getSourceSubscriptionName()).isEqualTo(mine.getSourceSubscriptionName());
    assertThat(cluster.getSourceSubscriptionPosition())
        .isEqualTo(mine.getSourceSubscriptionPosition());
    assertThat(cluster.getProcessingGuarantees()).isEqualTo(mine.getProcessingGuarantees());
    assertThat(cluster.getRetainOrdering()).isEqualTo(mine.getRetainOrdering());
    assertThat(cluster.getNegativeAckRedeliveryDelayMs())
        .isEqualTo(mine.getNegativeAckRedeliveryDelayMs());
    assertThat(cluster.getConfigs().keySet()).isEqualTo(mine.getConfigs().keySet());

    // And it has a parallelism and resources, and its NAR as a package of its namespace
    assertThat(cluster.getParallelism()).as("parallelism").isNotNull().isPositive();
    assertResources(cluster.getResources(), mine.getResources(), file);
    String narName = Path.of(mine.getArchive()).getFileName().toString().replaceAll("\\.nar$", "");
    assertThat(text(file))
        .contains(
            "archive: sink://"
                + mine.getTenant()
                + "/"
                + mine.getNamespace()
                + "/"
                + narName
                + "@${DF_VERSION}\n");
  }

  @Test
  void secretsAreKubernetesSecretReferencesNeverLiterals() throws IOException {
    // Given every cluster function and sink config
    Map<String, Map<String, Object>> secretsByFile = new LinkedHashMap<>();
    Map<String, Map<String, Object>> plainByFile = new LinkedHashMap<>();
    for (Path file : clusterConfigFiles()) {
      JsonNode node = YAML.readTree(file.toFile());
      secretsByFile.put(file.getFileName().toString(), map(node.path("secrets")));
      plainByFile.put(file.getFileName().toString(), map(node.path("configs")));
      plainByFile.merge(
          file.getFileName().toString(),
          map(node.path("userConfig")),
          (a, b) -> {
            Map<String, Object> all = new LinkedHashMap<>(a);
            all.putAll(b);
            return all;
          });
    }

    // Then each secret is {path: <Secret name>, key: <key>}, the format of Pulsar's
    // KubernetesSecretsProviderConfigurator, and no plain setting holds a credential
    assertThat(secretsByFile.values().stream().mapToInt(Map::size).sum()).isGreaterThan(0);
    secretsByFile.forEach(
        (file, secrets) ->
            secrets.forEach(
                (name, ref) -> {
                  assertThat(ref).as("secret %s of %s", name, file).isInstanceOf(Map.class);
                  Map<?, ?> reference = (Map<?, ?>) ref;
                  assertThat(new TreeSet<>(stringKeys(reference)))
                      .as("secret %s of %s", name, file)
                      .containsExactly("key", "path");
                  assertThat(reference.values())
                      .allSatisfy(v -> assertThat(v).isInstanceOf(String.class).isNotEqualTo(""));
                }));
    plainByFile.forEach(
        (file, settings) ->
            assertThat(settings.keySet())
                .as("plain settings of %s", file)
                .noneMatch(KubernetesFilesTest::looksLikeACredential));
    assertThat(secretsByFile.get("decisions-postgres.yaml")).containsKeys("userName", "password");
    assertThat(secretsByFile.get("archive.yaml")).containsKeys("accessKey", "secretKey");
  }

  @Test
  void everyPlaceholderIsOneTheDeployScriptFillsInAndTheReadmeLists() throws IOException {
    // Given the placeholders of the cluster configs
    Set<String> used = new TreeSet<>();
    for (Path file : clusterConfigFiles()) {
      Matcher m = PLACEHOLDER.matcher(text(file));
      while (m.find()) {
        used.add(m.group(1));
      }
    }
    String script = text(k8s().resolve("deploy-k8s.sh"));
    String readme = text(k8s().resolve("README.md"));

    // Then each has an example here, and the deploy script and the README name it
    assertThat(used).contains("DF_VERSION");
    assertThat(EXAMPLES.keySet()).containsAll(used);
    for (String name : used) {
      assertThat(script).as("deploy-k8s.sh fills in %s", name).contains(name);
      assertThat(readme).as("README.md lists %s", name).contains(name);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"us-east", "eu-west"})
  void valuesTurnOnTokenAuthTheKubernetesRuntimeAndTheGlibcImage(String cluster)
      throws IOException {
    // Given the values of a cluster: the common file with the cluster's on top, as Helm merges them
    JsonNode values = values(cluster);

    // Then JWT authentication and authorization are on, with keys made outside the chart
    assertThat(values.at("/auth/authentication/enabled").asBoolean()).isTrue();
    assertThat(values.at("/auth/authentication/jwt/enabled").asBoolean()).isTrue();
    assertThat(values.at("/auth/authentication/jwt/generateSecrets/enabled").asBoolean()).isFalse();
    assertThat(values.at("/auth/authorization/enabled").asBoolean()).isTrue();

    // And functions run on the dedicated worker, whose Kubernetes runtime starts our image
    assertThat(values.at("/components/functions").asBoolean()).isTrue();
    assertThat(values.at("/components/function_worker").asBoolean()).isTrue();
    String image =
        values.at("/images/functions/repository").asText()
            + ":"
            + values.at("/images/functions/tag").asText();
    assertThat(text(k8s().resolve("Dockerfile"))).contains("docker build -t " + image + " ");

    // And the worker hands secrets, runtime options and state as the configs expect
    JsonNode worker = values.at("/function_worker/configData");
    assertThat(worker.path("PF_secretsProviderConfiguratorClassName").asText())
        .isEqualTo(
            "org.apache.pulsar.functions.secretsproviderconfigurator"
                + ".KubernetesSecretsProviderConfigurator");
    assertThat(worker.path("PF_runtimeCustomizerClassName").asText())
        .isEqualTo(
            "org.apache.pulsar.functions.runtime.kubernetes.BasicKubernetesManifestCustomizer");
    assertThat(worker.path("PF_stateStorageServiceUrl").asText()).startsWith("bk://");
    assertThat(values.at("/functions/useBookieAsStateStore").asBoolean()).isTrue();
    assertThat(values.at("/broker/packageManagement/enabled").asBoolean()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"us-east", "eu-west"})
  void valuesNameTheClusterAndOffloadToItsBucketWithCredentialsFromASecret(String cluster)
      throws IOException {
    // Given the values of a cluster
    JsonNode values = values(cluster);
    JsonNode broker = values.at("/broker/configData");

    // Then the cluster has its name, and offloads with the S3 driver to a bucket of its own
    assertThat(values.path("clusterName").asText()).isEqualTo(cluster);
    assertThat(broker.path("managedLedgerOffloadDriver").asText()).isEqualTo("S3");
    assertThat(broker.path("managedLedgerOffloadBucket").asText()).contains(cluster);
    assertThat(broker.path("s3ManagedLedgerOffloadBucket").asText())
        .isEqualTo(broker.path("managedLedgerOffloadBucket").asText());
    assertThat(broker.path("PULSAR_PREFIX_managedLedgerOffloadServiceEndpoint").asText())
        .startsWith("https://");

    // And its credentials are environment variables from a Kubernetes Secret
    List<String> names = new ArrayList<>();
    for (JsonNode env : values.at("/broker/extraEnvs")) {
      names.add(env.path("name").asText());
      assertThat(env.has("value")).as("%s has no literal value", env).isFalse();
      assertThat(env.at("/valueFrom/secretKeyRef/name").asText()).isNotBlank();
    }
    assertThat(names).contains("ACCESS_KEY_ID", "ACCESS_KEY_SECRET");
  }

  @Test
  void theTwoClustersDifferOnlyInNameAndRegion() throws IOException {
    // Given the two per-cluster files
    String east = text(k8s().resolve("values-us-east.yaml"));
    String west = text(k8s().resolve("values-eu-west.yaml"));

    // Then one is the other with the cluster's name and region swapped, and each marks placeholders
    assertThat(east.replace("us-east", "eu-west")).isEqualTo(west);
    assertThat(east).contains("PLACEHOLDER");
  }

  @ParameterizedTest
  @ValueSource(strings = {"values-common.yaml", "values-us-east.yaml", "values-eu-west.yaml"})
  void everyValuesKeyExistsInTheChart(String name) throws IOException {
    // Given the chart's key paths (chart-values-keys.txt) and a values file's leaf paths
    Set<String> chart = new TreeSet<>();
    for (String line : Files.readAllLines(k8s().resolve("chart-values-keys.txt"))) {
      if (!line.isBlank() && !line.startsWith("#")) {
        chart.add(line.trim());
      }
    }
    List<String> leaves = new ArrayList<>();
    leaves(YAML.readTree(k8s().resolve(name).toFile()), "", leaves);

    // When each is looked up: as a chart key, or inside a map whose keys the chart leaves free
    List<String> unknown =
        leaves.stream()
            .filter(p -> !chart.contains(p))
            .filter(p -> !insideAFreeFormMapOfTheChart(p, chart))
            .toList();

    // Then none is unknown
    assertThat(leaves).isNotEmpty();
    assertThat(unknown).as("keys of %s not in the chart's values.yaml", name).isEmpty();
  }

  @Test
  void theRuntimeImageIsGlibcWithPulsarOfTheClusters() throws IOException {
    // Given the Dockerfile
    String dockerfile = text(k8s().resolve("Dockerfile"));

    // Then it copies /pulsar of the official image of the clusters' version onto a glibc base
    assertThat(dockerfile).contains("ARG PULSAR_IMAGE=apachepulsar/pulsar:4.0.8");
    assertThat(dockerfile).containsPattern("ARG BASE_IMAGE=eclipse-temurin:17-jre-(jammy|noble)");
    assertThat(dockerfile.toLowerCase(Locale.ROOT)).doesNotContain("from alpine");
    assertThat(dockerfile).contains("COPY --from=pulsar --chown=10000:0 /pulsar /pulsar");
    assertThat(dockerfile).contains("/pulsar/instances/java-instance.jar");
    assertThat(dockerfile).contains("USER 10000");
    assertThat(values("us-east").path("defaultPulsarImageTag").asText()).isEqualTo("4.0.8");
  }

  private static void assertResources(Resources cluster, Resources local, Path file) {
    assertThat(cluster).as("resources of %s", file.getFileName()).isNotNull();
    assertThat(cluster.getCpu()).as("cpu").isNotNull().isGreaterThanOrEqualTo(local.getCpu());
    assertThat(cluster.getRam()).as("ram").isNotNull().isGreaterThanOrEqualTo(local.getRam());
    assertThat(cluster.getDisk()).as("disk").isNotNull().isGreaterThanOrEqualTo(local.getDisk());
  }

  private FunctionConfig clusterFunction(String name) throws IOException {
    return FunctionDeployer.read(rendered(k8s().resolve("functions").resolve(name + ".yaml")));
  }

  /** The file with its placeholders filled in as deploy-k8s.sh would, in a temporary file. */
  private Path rendered(Path file) throws IOException {
    String text = text(file);
    Matcher m = PLACEHOLDER.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = EXAMPLES.get(m.group(1));
      assertThat(value).as("example for ${%s} in %s", m.group(1), file.getFileName()).isNotNull();
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    Path copy = Files.createTempFile(tmp, "rendered", ".yaml");
    Files.writeString(copy, out.toString());
    return copy;
  }

  /** values-common.yaml with values-{cluster}.yaml merged over it, maps key by key. */
  private static JsonNode values(String cluster) throws IOException {
    JsonNode common = YAML.readTree(k8s().resolve("values-common.yaml").toFile());
    JsonNode own = YAML.readTree(k8s().resolve("values-" + cluster + ".yaml").toFile());
    return YAML.readerForUpdating(common.deepCopy()).readValue(own);
  }

  private static List<Path> clusterConfigFiles() throws IOException {
    List<Path> files = new ArrayList<>();
    for (String dir : List.of("functions", "sinks")) {
      try (Stream<Path> list = Files.list(k8s().resolve(dir))) {
        list.filter(f -> f.toString().endsWith(".yaml")).sorted().forEach(files::add);
      }
    }
    assertThat(files).hasSize(8);
    return files;
  }

  private static void leaves(JsonNode node, String path, List<String> out) {
    if (node.isObject() && node.size() > 0) {
      node.fields()
          .forEachRemaining(
              e ->
                  leaves(e.getValue(), path.isEmpty() ? e.getKey() : path + "." + e.getKey(), out));
    } else {
      out.add(path);
    }
  }

  /**
   * Whether {@code path} is inside a map whose keys the chart leaves free ({@code
   * broker.configData.X}, {@code proxy.resources.limits.Y}) and the chart has that map.
   */
  private static boolean insideAFreeFormMapOfTheChart(String path, Set<String> chart) {
    Matcher m = FREE_FORM.matcher(path);
    if (!m.find()) {
      return false;
    }
    String root = path.substring(0, m.end() - 1);
    return chart.contains(root) || chart.stream().anyMatch(k -> k.startsWith(root + "."));
  }

  private static boolean looksLikeACredential(String key) {
    String k = key.toLowerCase(Locale.ROOT);
    return k.contains("password")
        || k.contains("secret")
        || k.contains("accesskey")
        || k.contains("username")
        || k.contains("token");
  }

  private static Map<String, Object> map(JsonNode node) {
    if (node.isMissingNode() || node.isNull()) {
      return Map.of();
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> map = JSON.convertValue(node, LinkedHashMap.class);
    return map;
  }

  private static List<String> stringKeys(Map<?, ?> map) {
    return map.keySet().stream().map(String::valueOf).toList();
  }

  private static long bytes(String quantity) {
    Matcher m = Pattern.compile("(\\d+)(Gi|Mi)").matcher(quantity);
    assertThat(m.matches()).as("quantity %s in Gi or Mi", quantity).isTrue();
    long n = Long.parseLong(m.group(1));
    return m.group(2).equals("Gi") ? n << 30 : n << 20;
  }

  private static String text(Path file) throws IOException {
    return Files.readString(file);
  }
}
