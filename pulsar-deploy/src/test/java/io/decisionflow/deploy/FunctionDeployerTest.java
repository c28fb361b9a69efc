package io.decisionflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.decisionflow.schemas.BusinessNamespace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pulsar.common.functions.ConsumerConfig;
import org.apache.pulsar.common.functions.FunctionConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FunctionDeployerTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String LENDING = "persistent://lending/fraud/";

  @TempDir Path project;

  private BusinessUnit lending;

  @BeforeEach
  void projectWithFakeJars() {
    ShippedFiles.project(project);
    lending = ShippedFiles.unit("lending");
  }

  // --- render -----------------------------------------------------------------------------

  @Test
  void renderMovesTenantNamespaceAndEveryTopicToTheUnitsNamespace() {
    for (Path file : ShippedFiles.functionFiles()) {
      // Given a shipped function config, written for payments/fraud
      FunctionConfig template = FunctionDeployer.read(file);

      // When it is rendered for the lending unit
      FunctionConfig config =
          FunctionDeployer.render(template, lending, Map.of(), project).config();

      // Then tenant, namespace and every topic are lending/fraud, with the same topic names
      assertThat(config.getTenant()).isEqualTo("lending");
      assertThat(config.getNamespace()).isEqualTo("fraud");
      if (template.getInputs() != null) {
        assertThat(config.getInputs())
            .containsExactlyElementsOf(lendingTopics(template.getInputs()));
      }
      if (template.getInputSpecs() != null) {
        assertThat(config.getInputSpecs().keySet())
            .containsExactlyElementsOf(lendingTopics(template.getInputSpecs().keySet()));
        template
            .getInputSpecs()
            .forEach(
                (topic, spec) ->
                    assertThat(config.getInputSpecs().get(lendingTopic(topic)).getSchemaType())
                        .isEqualTo(spec.getSchemaType()));
      }
      if (template.getOutput() != null) {
        assertThat(config.getOutput()).isEqualTo(lendingTopic(template.getOutput()));
      }
      assertThat(JSON.valueToTree(config).toString())
          .as("rendered %s", file.getFileName())
          .doesNotContain("payments/fraud");
    }
  }

  @Test
  void renderDoesNotChangeTheTemplate() {
    // Given the shipped decide config
    FunctionConfig template = ShippedFiles.function("decide");
    String before = JSON.valueToTree(template).toString();

    // When it is rendered for lending with an override
    FunctionDeployer.render(
        template, lending, Map.of("decide", Map.of("threshold", "0.6")), project);

    // Then the template is as it was
    assertThat(JSON.valueToTree(template).toString()).isEqualTo(before);
  }

  @Test
  void renderMergesTheUnitsUserConfigOverTheFiles() {
    // Given decide's file threshold 0.2 and lending's settings (threshold 0.4, per-slot 0.45)
    FunctionConfig template = ShippedFiles.function("decide");
    assertThat(template.getUserConfig()).containsEntry("threshold", 0.2);

    // When it is rendered for lending
    Map<String, Object> userConfig =
        FunctionDeployer.render(template, lending, Map.of(), project).config().getUserConfig();

    // Then the unit's keys win
    assertThat(userConfig).containsEntry("threshold", 0.4);
    assertThat(userConfig).containsEntry("thresholds", Map.of("challenger", 0.45));
  }

  @Test
  void renderKeepsFileKeysTheUnitDoesNotSet() {
    // Given enrich's file settings, which lending does not set
    FunctionConfig template = ShippedFiles.function("enrich");

    // When it is rendered for lending
    Map<String, Object> userConfig =
        FunctionDeployer.render(template, lending, Map.of(), project).config().getUserConfig();

    // Then they are kept
    assertThat(userConfig).containsAllEntriesOf(template.getUserConfig());
  }

  @Test
  void renderAppliesOverridesAfterTheUnitsUserConfig() {
    // Given lending sets decide's threshold to 0.4
    FunctionConfig template = ShippedFiles.function("decide");
    Map<String, Map<String, Object>> overrides =
        Map.of("decide", Map.of("threshold", "0.6"), "route", Map.of("routingVersion", "v9"));

    // When decide is rendered with an override of its threshold (and one for another function)
    Map<String, Object> userConfig =
        FunctionDeployer.render(template, lending, overrides, project).config().getUserConfig();

    // Then the override wins, the unit's other keys stay, and route's override is not applied
    assertThat(userConfig).containsEntry("threshold", "0.6");
    assertThat(userConfig).containsEntry("thresholds", Map.of("challenger", 0.45));
    assertThat(userConfig).doesNotContainKey("routingVersion");
  }

  @Test
  void renderMergesANestedOverrideKeyByKey() {
    // Given the fused function, whose enrich settings are a map in its file
    FunctionConfig template =
        FunctionDeployer.read(
            ShippedFiles.moduleDir().resolve("functions-fused").resolve("fused.yaml"));
    @SuppressWarnings("unchecked")
    Map<String, Object> fileEnrich = (Map<String, Object>) template.getUserConfig().get("enrich");
    assertThat(fileEnrich).containsKey("featureSpecVersion");

    // When it is rendered with one nested enrich setting
    Map<String, Object> userConfig =
        FunctionDeployer.render(
                template,
                lending,
                UserConfigOverrides.parse(List.of("fused.enrich.stateFlushDelayMs=200")),
                project)
            .config()
            .getUserConfig();

    // Then that setting joins the file's enrich settings instead of replacing them
    @SuppressWarnings("unchecked")
    Map<String, Object> enrich = (Map<String, Object>) userConfig.get("enrich");
    assertThat(enrich).containsAllEntriesOf(fileEnrich).containsEntry("stateFlushDelayMs", 200L);
    assertThat(userConfig.get("route")).isEqualTo(template.getUserConfig().get("route"));
  }

  @Test
  void renderTakesTheParallelismOfTheUnit() {
    // Given a unit that runs decide with 3 instances
    FunctionConfig template = ShippedFiles.function("decide");
    lending.pipeline.functions.get("decide").parallelism = 3;

    // When decide and enrich (not set by the unit) are rendered
    FunctionConfig decide = FunctionDeployer.render(template, lending, Map.of(), project).config();
    FunctionConfig enrich =
        FunctionDeployer.render(ShippedFiles.function("enrich"), lending, Map.of(), project)
            .config();

    // Then decide has 3 and enrich keeps its file's parallelism
    assertThat(decide.getParallelism()).isEqualTo(3);
    assertThat(enrich.getParallelism()).isEqualTo(1);
  }

  @Test
  void renderResolvesTheJarAgainstTheProjectDirectory() {
    // Given decide's jar, relative to the project
    FunctionConfig template = ShippedFiles.function("decide");
    Path expected = project.resolve(template.getJar()).normalize();

    // When it is rendered
    FunctionDeployer.Deployment deployment =
        FunctionDeployer.render(template, lending, Map.of(), project);

    // Then the deployment names the jar in the project, by absolute path
    assertThat(deployment.jar()).isEqualTo(expected);
    assertThat(deployment.config().getJar()).isEqualTo(expected.toString());
  }

  @Test
  void renderFailsNamingTheMissingJarAndHowToBuildIt() throws Exception {
    // Given a project where decide's jar was not built
    FunctionConfig template = ShippedFiles.function("decide");
    Path jar = project.resolve(template.getJar()).normalize();
    Files.delete(jar);

    // When it is rendered
    // Then it fails naming the function, the path and the build command
    assertThatThrownBy(() -> FunctionDeployer.render(template, lending, Map.of(), project))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("decide")
        .hasMessageContaining(jar.toString())
        .hasMessageContaining("mvn package");
  }

  @Test
  void renderRecordsTheSha256OfTheJarInUserConfig() throws Exception {
    // Given a project whose decide jar has known bytes
    FunctionConfig template = ShippedFiles.function("decide");
    byte[] bytes =
        ShippedFiles.writeFakeJar(project.resolve(template.getJar()), "decide code, build 1");
    String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));

    // When it is rendered
    Map<String, Object> userConfig =
        FunctionDeployer.render(template, lending, Map.of(), project).config().getUserConfig();

    // Then userConfig records the checksum of those bytes
    assertThat(userConfig)
        .containsEntry(FunctionDeployer.DEPLOYMENT_KEY, Map.of("codeSha256", expected));
  }

  @Test
  void renderRecordsADifferentChecksumWhenTheCodeChanges() throws Exception {
    // Given decide rendered from one build of its jar
    FunctionConfig template = ShippedFiles.function("decide");
    Path jar = project.resolve(template.getJar());
    ShippedFiles.writeFakeJar(jar, "build 1");
    FunctionConfig first = FunctionDeployer.render(template, lending, Map.of(), project).config();

    // When the jar is rebuilt with other bytes and decide rendered again
    ShippedFiles.writeFakeJar(jar, "build 2");
    FunctionConfig second = FunctionDeployer.render(template, lending, Map.of(), project).config();

    // Then the configs differ in userConfig only
    assertThat(FunctionDeployer.differences(second, first)).containsExactly("userConfig");
  }

  @Test
  void renderRejectsAShortTopicName() {
    // Given a config whose input is a short topic name
    FunctionConfig template = ShippedFiles.function("enrich");
    template.setInputs(List.of("transactions"));

    // When it is rendered
    // Then it fails saying that topics must be fully qualified
    assertThatThrownBy(() -> FunctionDeployer.render(template, lending, Map.of(), project))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'transactions'")
        .hasMessageContaining("must be fully qualified");
  }

  @Test
  void renderFailsWhenTheConfigNamesNoJar() {
    // Given a config without a jar
    FunctionConfig template = ShippedFiles.function("decide");
    template.setJar(null);

    // When it is rendered
    // Then it fails naming the function
    assertThatThrownBy(() -> FunctionDeployer.render(template, lending, Map.of(), project))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("decide")
        .hasMessageContaining("no jar");
  }

  // --- rebind -----------------------------------------------------------------------------

  @Test
  void rebindMovesAQualifiedTopicKeepingItsPersistenceAndName() {
    // Given lending's namespace
    BusinessNamespace ns = new BusinessNamespace("lending", "fraud");

    // When qualified topics of another namespace are rebound
    // Then only tenant and namespace change
    assertThat(FunctionDeployer.rebind("persistent://payments/fraud/scoring-champion", ns))
        .isEqualTo("persistent://lending/fraud/scoring-champion");
    assertThat(FunctionDeployer.rebind("non-persistent://public/default/scores", ns))
        .isEqualTo("non-persistent://lending/fraud/scores");
  }

  @Test
  void rebindRejectsAShortTopicNameSayingItMustBeFullyQualified() {
    // Given lending's namespace
    BusinessNamespace ns = new BusinessNamespace("lending", "fraud");

    // When a short topic name is rebound
    // Then it fails naming the topic and saying it must be fully qualified
    assertThatThrownBy(() -> FunctionDeployer.rebind("scores", ns))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'scores'")
        .hasMessageContaining("must be fully qualified");
    assertThatThrownBy(() -> FunctionDeployer.rebind("payments/fraud/scores", ns))
        .hasMessageContaining("must be fully qualified");
  }

  // --- differences ------------------------------------------------------------------------

  @Test
  void differencesOfIdenticalConfigsAreEmpty() {
    // Given a rendered config and a copy of it
    FunctionConfig wanted = rendered("route");
    FunctionConfig current = copy(wanted);

    // When they are compared
    // Then nothing differs
    assertThat(FunctionDeployer.differences(wanted, current)).isEmpty();
  }

  @Test
  void differencesIgnoreHowTheWorkerReturnsAnUnchangedConfig() {
    for (String name : List.of("route", "decide", "enrich", "score-champion")) {
      // Given a rendered config, and what the worker returns for it once deployed
      FunctionConfig wanted = rendered(name);
      FunctionConfig current = asWorkerReturns(wanted);

      // When they are compared
      // Then nothing differs
      assertThat(FunctionDeployer.differences(wanted, current)).as(name).isEmpty();
    }
  }

  @Test
  void differencesNameUserConfigWhenAValueChanged() {
    // Given decide deployed with threshold 0.4, now wanted with 0.45
    FunctionConfig wanted = rendered("decide");
    FunctionConfig current = asWorkerReturns(wanted);
    wanted.getUserConfig().put("threshold", 0.45);

    // When they are compared
    // Then userConfig differs
    assertThat(FunctionDeployer.differences(wanted, current)).containsExactly("userConfig");
  }

  @Test
  void differencesNameUserConfigWhenANestedValueChanged() {
    // Given route deployed with 90/10, now wanted with 80/20
    FunctionConfig wanted = rendered("route");
    FunctionConfig current = asWorkerReturns(wanted);
    wanted
        .getUserConfig()
        .put(
            "arms",
            List.of(
                Map.of("name", "champion", "slot", "champion", "weight", 80),
                Map.of("name", "challenger", "slot", "challenger", "weight", 20)));

    // When they are compared
    // Then userConfig differs
    assertThat(FunctionDeployer.differences(wanted, current)).containsExactly("userConfig");
  }

  @Test
  void differencesNameUserConfigWhenAKeyWasRemoved() {
    // Given decide deployed with per-slot thresholds, now wanted without them
    FunctionConfig wanted = rendered("decide");
    FunctionConfig current = asWorkerReturns(wanted);
    wanted.getUserConfig().remove("thresholds");

    // When they are compared
    // Then userConfig differs
    assertThat(FunctionDeployer.differences(wanted, current)).containsExactly("userConfig");
  }

  @Test
  void differencesNameUserConfigWhenAKeyWasAdded() {
    // Given enrich deployed, now wanted with one more setting
    FunctionConfig wanted = rendered("enrich");
    FunctionConfig current = asWorkerReturns(wanted);
    wanted.getUserConfig().put("stateKeyPrefix", "card-v2:");

    // When they are compared
    // Then userConfig differs
    assertThat(FunctionDeployer.differences(wanted, current)).containsExactly("userConfig");
  }

  @Test
  void differencesNameParallelismWhenItChanged() {
    // Given decide deployed with 1 instance, now wanted with 2
    FunctionConfig wanted = rendered("decide");
    FunctionConfig current = asWorkerReturns(wanted);
    wanted.setParallelism(2);

    // When they are compared
    // Then parallelism differs
    assertThat(FunctionDeployer.differences(wanted, current)).containsExactly("parallelism");
  }

  @Test
  void differencesNameInputsWhenAnInputTopicWasAdded() {
    // Given decide deployed reading scores, now wanted reading one more topic
    FunctionConfig wanted = rendered("decide");
    FunctionConfig current = asWorkerReturns(wanted);
    List<String> inputs = new ArrayList<>(wanted.getInputs());
    inputs.add(LENDING + "scores-replay");
    wanted.setInputs(inputs);

    // When they are compared
    // Then inputs differ
    assertThat(FunctionDeployer.differences(wanted, current)).containsExactly("inputs");
  }

  @Test
  void differencesNameInputsWhenAnInputTopicWasRemoved() {
    // Given enrich deployed reading transactions and a second topic, now wanted without it
    FunctionConfig wanted = rendered("enrich");
    FunctionConfig deployed = copy(wanted);
    deployed.setInputs(List.of(LENDING + "transactions", LENDING + "transactions-replay"));
    FunctionConfig current = asWorkerReturns(deployed);

    // When they are compared
    // Then inputs differ
    assertThat(FunctionDeployer.differences(wanted, current)).containsExactly("inputs");
  }

  @Test
  void differencesNameTheSchemaOfAnInputWhenItChanged() {
    // Given decide deployed reading raw bytes, now wanted reading Avro
    FunctionConfig wanted = rendered("decide");
    FunctionConfig current = asWorkerReturns(wanted);
    org.apache.pulsar.common.functions.ConsumerConfig avro =
        new org.apache.pulsar.common.functions.ConsumerConfig();
    avro.setSchemaType("AVRO");
    wanted.setInputSpecs(Map.of(wanted.getInputs().iterator().next(), avro));

    // When they are compared
    // Then inputSpecs differ
    assertThat(FunctionDeployer.differences(wanted, current)).containsExactly("inputSpecs");
  }

  // --- helpers ----------------------------------------------------------------------------

  /** The shipped function {@code name} rendered for lending. */
  private FunctionConfig rendered(String name) {
    return FunctionDeployer.render(ShippedFiles.function(name), lending, Map.of(), project)
        .config();
  }

  private static FunctionConfig copy(FunctionConfig config) {
    return JSON.convertValue(JSON.valueToTree(config), FunctionConfig.class);
  }

  /**
   * {@code config} as the worker returns it from {@code getFunction}: every input under inputSpecs
   * with default consumer fields and no {@code inputs}; userConfig through JSON with every number a
   * double; the worker's own jar path; fields the file leaves unset filled in.
   */
  private static FunctionConfig asWorkerReturns(FunctionConfig config) {
    FunctionConfig current = copy(config);
    Map<String, ConsumerConfig> specs = new LinkedHashMap<>();
    List<String> topics = new ArrayList<>();
    if (config.getInputs() != null) {
      topics.addAll(config.getInputs());
    }
    if (config.getInputSpecs() != null) {
      config.getInputSpecs().keySet().stream()
          .filter(t -> !topics.contains(t))
          .forEach(topics::add);
    }
    for (String topic : topics) {
      ConsumerConfig given =
          config.getInputSpecs() == null ? null : config.getInputSpecs().get(topic);
      specs.put(
          topic,
          ConsumerConfig.builder()
              .schemaType(given == null ? "" : given.getSchemaType())
              .serdeClassName("")
              .isRegexPattern(false)
              .schemaProperties(Map.of())
              .consumerProperties(Map.of())
              .poolMessages(false)
              .build());
    }
    current.setInputs(null);
    current.setInputSpecs(specs);
    current.setUserConfig(doubles(config.getUserConfig()));
    current.setJar("/tmp/pulsar_functions/lending/fraud/" + config.getName() + "/0/code.jar");
    current.setRetainOrdering(false);
    current.setForwardSourceMessageProperty(true);
    current.setMaxPendingAsyncRequests(1000);
    current.setExposePulsarAdminClientEnabled(false);
    current.setTimeoutMs(30000L);
    current.setSecrets(Map.of());
    current.setCustomSchemaOutputs(Map.of());
    return current;
  }

  /** Every number in {@code value} (maps and lists too) as a double, as Gson reads JSON. */
  @SuppressWarnings("unchecked")
  private static <T> T doubles(T value) {
    if (value instanceof Number n) {
      return (T) Double.valueOf(n.doubleValue());
    }
    if (value instanceof Map<?, ?> map) {
      Map<Object, Object> out = new LinkedHashMap<>();
      map.forEach((k, v) -> out.put(k, doubles(v)));
      return (T) out;
    }
    if (value instanceof List<?> list) {
      return (T) list.stream().map(FunctionDeployerTest::doubles).toList();
    }
    return value;
  }

  private static String lendingTopic(String paymentsTopic) {
    assertThat(paymentsTopic).startsWith("persistent://payments/fraud/");
    return LENDING + paymentsTopic.substring("persistent://payments/fraud/".length());
  }

  private static List<String> lendingTopics(Iterable<String> paymentsTopics) {
    List<String> topics = new ArrayList<>();
    paymentsTopics.forEach(t -> topics.add(lendingTopic(t)));
    return topics;
  }
}
