package io.decisionflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.decisionflow.functions.UserConfigs;
import io.decisionflow.schemas.TopicSpec;
import io.decisionflow.schemas.Topics;
import io.decisionflow.stages.StageConfigs;
import io.decisionflow.stages.route.RouteConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.pulsar.client.api.SubscriptionInitialPosition;
import org.apache.pulsar.common.functions.ConsumerConfig;
import org.apache.pulsar.common.functions.FunctionConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The function configs and business units in {@code pulsar-deploy/} are deployable as shipped. */
class ShippedFilesTest {

  private static final String ROUTE_CLASS = "io.decisionflow.functions.RouteFunction";
  private static final String PROTOBUF = "PROTOBUF_NATIVE";

  static Stream<Path> functionFiles() {
    return ShippedFiles.functionFiles().stream();
  }

  static Stream<Path> businessUnitFiles() {
    return ShippedFiles.businessUnitFiles().stream();
  }

  @Test
  void theShippedPipelineHasEveryStage() {
    // Given the shipped function configs
    List<Path> files = ShippedFiles.functionFiles();

    // When their names are read
    Set<String> names =
        files.stream()
            .map(f -> FunctionDeployer.read(f).getName())
            .collect(Collectors.toCollection(TreeSet::new));

    // Then enrich, route, decide, guard and at least one score function are there
    assertThat(names).contains("enrich", "route", "decide", "guard");
    assertThat(names).anyMatch(n -> n.startsWith("score-"));
    assertThat(ShippedFiles.businessUnitFiles()).isNotEmpty();
  }

  @ParameterizedTest
  @MethodSource("functionFiles")
  void eachFunctionConfigParsesForPaymentsFraudUnderItsFileName(Path file) {
    // Given a shipped function config file

    // When it is read
    FunctionConfig config = FunctionDeployer.read(file);

    // Then it is written for payments/fraud and named as its file
    assertThat(config.getTenant()).isEqualTo("payments");
    assertThat(config.getNamespace()).isEqualTo("fraud");
    assertThat(config.getName() + ".yaml").isEqualTo(file.getFileName().toString());
    assertThat(config.getJar()).as("jar").isNotBlank();
    assertThat(config.getRuntime()).isEqualTo(FunctionConfig.Runtime.JAVA);
  }

  @ParameterizedTest
  @MethodSource("functionFiles")
  void eachFunctionConfigNamesOnlyRegisteredTopicsOfPaymentsFraud(Path file) {
    // Given a shipped function config
    FunctionConfig config = FunctionDeployer.read(file);
    Set<String> registered = new TreeSet<>();
    Topics.fixed().forEach(spec -> registered.add(spec.name()));
    Object slot = userConfig(config).get("modelSlot");
    if (slot != null) {
      registered.add(Topics.scoring(String.valueOf(slot)).name());
    }

    // When its topics are listed
    List<String> topics = topics(config);

    // Then each is a fully qualified topic of payments/fraud named in the registry
    assertThat(topics).as("topics of %s", file.getFileName()).isNotEmpty();
    for (String topic : topics) {
      assertThat(topic).startsWith("persistent://payments/fraud/");
      assertThat(topic.substring("persistent://payments/fraud/".length()))
          .as("topic %s of %s", topic, file.getFileName())
          .isIn(registered);
    }
  }

  @ParameterizedTest
  @MethodSource("functionFiles")
  void eachScoreFunctionReadsTheScoringTopicOfItsOwnSlot(Path file) {
    // Given a shipped function config that serves a model slot
    FunctionConfig config = FunctionDeployer.read(file);
    Object slot = userConfig(config).get("modelSlot");
    if (slot == null) {
      return;
    }
    TopicSpec<?> scoring = Topics.scoring(String.valueOf(slot));

    // When its inputs are listed
    Set<String> inputs = inputTopics(config);

    // Then it reads exactly scoring-<slot> and is named score-<slot>
    assertThat(inputs).containsExactly("persistent://payments/fraud/" + scoring.name());
    assertThat(config.getName()).isEqualTo("score-" + slot);
  }

  @ParameterizedTest
  @MethodSource("functionFiles")
  void eachFunctionRunsAKnownFunctionClassWithAValidUserConfig(Path file) {
    // Given a shipped function config
    FunctionConfig config = FunctionDeployer.read(file);

    // When its userConfig is validated for its class
    // Then the class is a decisionflow function and the config is valid
    assertThatCode(() -> UserConfigs.validate(config.getClassName(), config.getUserConfig()))
        .as("%s (%s)", file.getFileName(), config.getClassName())
        .doesNotThrowAnyException();
  }

  @ParameterizedTest
  @MethodSource("functionFiles")
  void eachFunctionReadsRawBytesAndWritesProtobuf(Path file) {
    // Given a shipped function config
    FunctionConfig config = FunctionDeployer.read(file);
    Map<String, ConsumerConfig> specs =
        config.getInputSpecs() == null ? Map.of() : config.getInputSpecs();

    // When its input and output schemas are read
    // Then every input is read as raw bytes (the stage parses it and dead-letters what does not
    // parse), and every output is Protobuf
    assertThat(specs.values()).allSatisfy(spec -> assertThat(spec.getSchemaType()).isNull());
    if (config.getOutput() != null) {
      assertThat(config.getOutputSchemaType()).as("outputSchemaType").isEqualTo(PROTOBUF);
    }
  }

  @ParameterizedTest
  @MethodSource("functionFiles")
  void eachFunctionStartsFromEarliestWithAtLeastOnce(Path file) {
    // Given a shipped function config
    FunctionConfig config = FunctionDeployer.read(file);

    // When its delivery settings are read
    // Then a new subscription starts at the earliest record, processed at least once: by the
    // runtime, or by enrich itself (MANUAL: it acknowledges once the card's state is durable)
    assertThat(config.getSubscriptionPosition()).isEqualTo(SubscriptionInitialPosition.Earliest);
    assertThat(config.getProcessingGuarantees())
        .isEqualTo(
            config.getClassName().endsWith(".EnrichFunction")
                ? FunctionConfig.ProcessingGuarantees.MANUAL
                : FunctionConfig.ProcessingGuarantees.ATLEAST_ONCE);
  }

  @Test
  void enrichKeepsTheOrderOfEachCardAndReadsRawTransactions() {
    // Given the shipped enrich config
    FunctionConfig enrich = ShippedFiles.function("enrich");

    // When its input settings are read
    Set<String> inputs = inputTopics(enrich);

    // Then it reads transactions with Key_Shared ordering and no schema
    assertThat(enrich.getRetainKeyOrdering()).isTrue();
    assertThat(inputs).containsExactly("persistent://payments/fraud/" + Topics.TRANSACTIONS.name());
    if (enrich.getInputSpecs() != null) {
      assertThat(enrich.getInputSpecs().values())
          .allSatisfy(spec -> assertThat(spec.getSchemaType()).isNull());
    }
    assertThat(enrich.getOutput())
        .isEqualTo("persistent://payments/fraud/" + Topics.TRANSACTIONS_ENRICHED.name());
  }

  @ParameterizedTest
  @MethodSource("businessUnitFiles")
  void eachBusinessUnitLoadsAndValidatesUnderItsFileName(Path file) {
    // Given a shipped business-unit file

    // When it is loaded
    BusinessUnit unit = BusinessUnit.load(file);

    // Then it is named as its file and its pipeline runs in a declared namespace
    assertThat(unit.name + ".yaml").isEqualTo(file.getFileName().toString());
    assertThat(unit.namespaces).extracting(ns -> ns.name).contains(unit.pipeline.namespace);
    assertThat(unit.pipelineNamespace().tenant()).isEqualTo(unit.tenant);
  }

  @ParameterizedTest
  @MethodSource("businessUnitFiles")
  void eachBusinessUnitSetsOnlyShippedFunctionsWithValidUserConfigs(Path file) {
    // Given a shipped business unit and the shipped function configs
    BusinessUnit unit = BusinessUnit.load(file);
    Map<String, FunctionConfig> shipped = new LinkedHashMap<>();
    ShippedFiles.functionFiles()
        .forEach(f -> shipped.put(FunctionDeployer.read(f).getName(), FunctionDeployer.read(f)));

    // When each function's settings are merged over its config, as the deployer does
    // Then each function exists and its merged userConfig is valid for its class
    assertThat(shipped.keySet()).containsAll(unit.pipeline.functions.keySet());
    unit.pipeline.functions.forEach(
        (name, settings) -> {
          FunctionConfig config = shipped.get(name);
          Map<String, Object> merged = new LinkedHashMap<>(userConfig(config));
          merged.putAll(settings.userConfig);
          assertThatCode(() -> UserConfigs.validate(config.getClassName(), merged))
              .as("%s of %s", name, file.getFileName())
              .doesNotThrowAnyException();
        });
  }

  @ParameterizedTest
  @MethodSource("businessUnitFiles")
  void eachBusinessUnitRoutesOnlyToSlotsThatHaveAScoreFunction(Path file) {
    // Given a shipped business unit's route settings
    BusinessUnit unit = BusinessUnit.load(file);
    Map<String, Object> route = unit.function("route").userConfig;

    // When its arms are validated as the route function's config
    assertThatCode(() -> UserConfigs.validate(ROUTE_CLASS, route))
        .as("route of %s", file.getFileName())
        .doesNotThrowAnyException();
    List<RouteConfig.Arm> arms = StageConfigs.load(route, RouteConfig.class).arms;

    // Then every arm's slot has a shipped score-<slot>.yaml serving that slot
    assertThat(arms).isNotEmpty();
    for (RouteConfig.Arm arm : arms) {
      Path score = ShippedFiles.functionsDir().resolve("score-" + arm.slot() + ".yaml");
      assertThat(score).as("arm %s of %s", arm.name, file.getFileName()).isRegularFile();
      assertThat(userConfig(FunctionDeployer.read(score)).get("modelSlot")).isEqualTo(arm.slot());
    }
  }

  @Test
  void theShippedRouteConfigRoutesOnlyToSlotsThatHaveAScoreFunction() {
    // Given the shipped route config
    FunctionConfig route = ShippedFiles.function("route");

    // When its arms are read
    List<RouteConfig.Arm> arms = StageConfigs.load(route.getUserConfig(), RouteConfig.class).arms;

    // Then every arm's slot has a score function
    assertThat(arms)
        .allSatisfy(
            arm ->
                assertThat(ShippedFiles.functionsDir().resolve("score-" + arm.slot() + ".yaml"))
                    .isRegularFile());
  }

  private static Map<String, Object> userConfig(FunctionConfig config) {
    return config.getUserConfig() == null ? Map.of() : config.getUserConfig();
  }

  private static Set<String> inputTopics(FunctionConfig config) {
    Set<String> topics = new TreeSet<>();
    if (config.getInputs() != null) {
      topics.addAll(config.getInputs());
    }
    if (config.getInputSpecs() != null) {
      topics.addAll(config.getInputSpecs().keySet());
    }
    return topics;
  }

  private static List<String> topics(FunctionConfig config) {
    List<String> topics = new ArrayList<>(inputTopics(config));
    for (String topic :
        new String[] {config.getOutput(), config.getDeadLetterTopic(), config.getLogTopic()}) {
      if (topic != null) {
        topics.add(topic);
      }
    }
    return topics;
  }
}
