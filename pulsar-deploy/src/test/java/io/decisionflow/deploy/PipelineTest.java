package io.decisionflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decisionflow.stages.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pulsar.common.functions.FunctionConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Pipeline#render}: no cluster needed, so the admin client is null. */
class PipelineTest {

  @TempDir Path project;

  private final List<String> log = new ArrayList<>();
  private Pipeline pipeline;

  @BeforeEach
  void projectWithShippedFilesAndFakeJars() {
    ShippedFiles.project(project);
    pipeline = new Pipeline(null, project, log::add);
  }

  @Test
  void readsFunctionsAndUnitsFromTheProject() {
    // Given a pipeline of the temporary project

    // When its directories are asked for
    // Then they are under pulsar-deploy/ of the project
    assertThat(pipeline.functionsDir()).isEqualTo(project.resolve("pulsar-deploy/functions"));
    assertThat(pipeline.businessUnitsDir())
        .isEqualTo(project.resolve("pulsar-deploy/business-units"));
  }

  @Test
  void rendersEveryFunctionInDeployOrderDownstreamFirst() {
    // Given the lending unit
    BusinessUnit unit = BusinessUnit.load(pipeline.businessUnitsDir(), "lending");

    // When its pipeline is rendered
    List<FunctionDeployer.Deployment> deployments = pipeline.render(unit, Map.of());

    // Then it is guard, decide, the score functions, route, enrich: consumers before producers
    List<String> names = deployments.stream().map(d -> d.config().getName()).toList();
    assertThat(names).hasSize(ShippedFiles.functionFiles().size());
    assertThat(names.subList(0, 2)).containsExactly("guard", "decide");
    assertThat(names.subList(2, names.size() - 2))
        .isNotEmpty()
        .allMatch(n -> n.startsWith("score-"));
    assertThat(names.subList(names.size() - 2, names.size())).containsExactly("route", "enrich");
    assertThat(log).isEmpty();
  }

  @Test
  void theNaiveTopologyRendersFromItsOwnFolderWithoutTheExcludedFunctions() {
    // Given the lending unit and the naive baseline's folder, without the guard
    BusinessUnit unit = BusinessUnit.load(pipeline.businessUnitsDir(), "lending");
    Pipeline naive =
        pipeline.topology(project.resolve("pulsar-deploy/functions-naive"), Set.of("guard"));

    // When it is rendered
    List<FunctionDeployer.Deployment> deployments = naive.render(unit, Map.of());

    // Then it is the same stages, with blocking state and one model call per record
    assertThat(deployments.stream().map(d -> d.config().getName()))
        .containsExactly("decide", "score-challenger", "score-champion", "route", "enrich");
    assertThat(deployments.get(4).config().getClassName())
        .isEqualTo("io.decisionflow.functions.baseline.BlockingEnrichFunction");
    assertThat(userConfig(deployments, "score-champion")).containsEntry("maxBatchSize", 1);
    assertThat(naive.modelSlots()).containsExactlyInAnyOrder("champion", "challenger");
    // and the chained pipeline without its guard is the pipeline less the guard
    assertThat(pipeline.topology(pipeline.functionsDir(), Set.of("guard")).render(unit, Map.of()))
        .extracting(d -> d.config().getName())
        .doesNotContain("guard")
        .hasSize(ShippedFiles.functionFiles().size() - 1);
  }

  @Test
  void theFusedTopologyIsOneFunctionWithEveryStagesSettings() {
    BusinessUnit unit = BusinessUnit.load(pipeline.businessUnitsDir(), "lending");
    Pipeline fused = pipeline.topology(project.resolve("pulsar-deploy/functions-fused"), Set.of());

    List<FunctionDeployer.Deployment> deployments = fused.render(unit, Map.of());

    assertThat(deployments).hasSize(1);
    FunctionConfig config = deployments.get(0).config();
    assertThat(config.getClassName()).isEqualTo("io.decisionflow.functions.FusedFunction");
    assertThat(config.getTenant() + "/" + config.getNamespace()).isEqualTo("lending/fraud");
    assertThat(config.getOutput()).isNull();
    assertThat(config.getProcessingGuarantees().name()).isEqualTo("MANUAL");
    assertThat(config.getUserConfig()).containsKeys("enrich", "route", "slots", "decide");
    assertThat(deployments.get(0).jar().getFileName().toString())
        .isEqualTo("decisionflow-scoring.jar");
  }

  @Test
  void aTopologyFolderWithoutFunctionConfigsIsRefused() throws Exception {
    Path empty = Files.createDirectories(project.resolve("pulsar-deploy/functions-none"));

    assertThatThrownBy(() -> pipeline.topology(empty, Set.of()))
        .hasMessageContaining("no function config")
        .hasMessageContaining(empty.toString());
    assertThatThrownBy(
            () ->
                pipeline.topology(
                    project.resolve("pulsar-deploy/functions-naive"),
                    Set.of("enrich", "route", "score-champion", "score-challenger", "decide")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("besides");
  }

  @Test
  void rendersEveryFunctionForTheUnitsNamespaceWithItsSettings() {
    // Given the lending unit
    BusinessUnit unit = BusinessUnit.load(pipeline.businessUnitsDir(), "lending");

    // When its pipeline is rendered
    List<FunctionDeployer.Deployment> deployments = pipeline.render(unit, Map.of());

    // Then every function runs in lending/fraud from a jar of the project, with lending's settings
    for (FunctionDeployer.Deployment d : deployments) {
      FunctionConfig config = d.config();
      assertThat(config.getTenant() + "/" + config.getNamespace()).isEqualTo("lending/fraud");
      assertThat(d.jar()).startsWith(project).isRegularFile();
      assertThat(config.getUserConfig()).containsKey(FunctionDeployer.DEPLOYMENT_KEY);
    }
    assertThat(userConfig(deployments, "decide")).containsEntry("threshold", 0.4);
    assertThat(userConfig(deployments, "route").get("arms").toString()).contains("weight=90");
  }

  @Test
  void aRouteWhoseWeightsDoNotAddUpTo100FailsNamingFunctionUnitAndField() throws Exception {
    // Given a unit whose route arms weigh 60 + 30
    Path file =
        Files.writeString(
            pipeline.businessUnitsDir().resolve("acme.yaml"),
            """
            tenant: acme
            namespaces:
              - name: fraud
            pipeline:
              namespace: fraud
              functions:
                route:
                  userConfig:
                    arms:
                      - {name: champion, slot: champion, weight: 60}
                      - {name: challenger, slot: challenger, weight: 30}
            """);
    BusinessUnit unit = BusinessUnit.load(file);

    // When its pipeline is rendered
    // Then it fails naming the function, the unit, the field and the sum
    assertThatThrownBy(() -> pipeline.render(unit, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("function route")
        .hasMessageContaining("acme")
        .hasMessageContaining("arms[*].weight")
        .hasMessageContaining("90");
  }

  @Test
  void enrichWithTheRuntimeAcknowledgingFailsSayingWhatToSet() throws Exception {
    // Given an enrich config edited to ATLEAST_ONCE: the runtime would acknowledge each record
    // before its card's state is durable
    Path enrich = pipeline.functionsDir().resolve("enrich.yaml");
    Files.writeString(
        enrich,
        Files.readString(enrich)
            .replace("processingGuarantees: MANUAL", "processingGuarantees: ATLEAST_ONCE"));
    BusinessUnit unit = BusinessUnit.load(pipeline.businessUnitsDir(), "payments");

    // When its pipeline is rendered
    // Then it fails naming the function, the setting, the value and what to set
    assertThatThrownBy(() -> pipeline.render(unit, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("function enrich")
        .hasMessageContaining("processingGuarantees must be MANUAL")
        .hasMessageContaining("was ATLEAST_ONCE");
  }

  @Test
  void aThresholdOverrideOutsideZeroToOneFailsNamingTheField() {
    // Given the payments unit
    BusinessUnit unit = BusinessUnit.load(pipeline.businessUnitsDir(), "payments");

    // When its pipeline is rendered with decide's threshold overridden to "1.5"
    // Then it fails naming the function, the unit, the field and the value
    assertThatThrownBy(() -> pipeline.render(unit, Map.of("decide", Map.of("threshold", "1.5"))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("function decide")
        .hasMessageContaining("payments")
        .hasMessageContaining("userConfig.threshold")
        .hasMessageContaining("1.5");
  }

  @Test
  void aValidOverrideIsRenderedIntoTheFunction() {
    // Given the payments unit
    BusinessUnit unit = BusinessUnit.load(pipeline.businessUnitsDir(), "payments");

    // When its pipeline is rendered with decide's threshold overridden to "0.7"
    List<FunctionDeployer.Deployment> deployments =
        pipeline.render(unit, Map.of("decide", Map.of("threshold", "0.7")));

    // Then decide has that threshold
    assertThat(userConfig(deployments, "decide")).containsEntry("threshold", "0.7");
  }

  @Test
  void aMissingJarFailsTheRenderNamingIt() throws Exception {
    // Given a project where the scoring jar was not built
    FunctionConfig score = ShippedFiles.function("score-champion");
    Path jar = project.resolve(score.getJar()).normalize();
    Files.delete(jar);
    BusinessUnit unit = BusinessUnit.load(pipeline.businessUnitsDir(), "payments");

    // When the pipeline is rendered
    // Then it fails naming the jar and how to build it
    assertThatThrownBy(() -> pipeline.render(unit, Map.of()))
        .hasMessageContaining(jar.toString())
        .hasMessageContaining("mvn package");
  }

  @Test
  void modelLocationOverridesPointEveryScoreFunctionAtOneModel() {
    // Given the shipped score functions
    List<String> scoreFunctions =
        ShippedFiles.functionFiles().stream()
            .map(FunctionDeployer::read)
            .filter(c -> c.getUserConfig() != null && c.getUserConfig().containsKey("modelSlot"))
            .map(FunctionConfig::getName)
            .toList();

    // When overrides for a local model are asked for
    Map<String, Map<String, Object>> overrides = pipeline.modelLocationOverrides("/models/m1");

    // Then each score function, and only those, gets that model location
    assertThat(scoreFunctions).isNotEmpty();
    assertThat(overrides.keySet()).containsExactlyInAnyOrderElementsOf(scoreFunctions);
    assertThat(overrides.values())
        .allSatisfy(o -> assertThat(o).isEqualTo(Map.of("modelLocation", "/models/m1")));
  }

  private static Map<String, Object> userConfig(
      List<FunctionDeployer.Deployment> deployments, String name) {
    return deployments.stream()
        .filter(d -> d.config().getName().equals(name))
        .findFirst()
        .orElseThrow()
        .config()
        .getUserConfig();
  }

  @Test
  void routingSlotsAreThoseTheRouteFunctionKnows() {
    // Given the payments unit, whose route function lists its slots
    BusinessUnit unit = BusinessUnit.load(pipeline.businessUnitsDir(), "payments");

    // When / Then
    assertThat(pipeline.routingSlots(unit)).containsExactly("champion", "challenger");
    assertThat(pipeline.modelSlots())
        .containsExactlyInAnyOrderElementsOf(pipeline.routingSlots(unit));
  }

  @Test
  void aRouteThatMaySendToASlotNoScoreFunctionServesFailsNamingTheSlot() throws Exception {
    // Given a unit whose route function knows a slot "fraud-v9" without a score function
    Path file =
        Files.writeString(
            pipeline.businessUnitsDir().resolve("acme.yaml"),
            """
            tenant: acme
            namespaces:
              - name: fraud
            pipeline:
              namespace: fraud
              functions:
                route:
                  userConfig:
                    slots: [champion, fraud-v9]
                    arms:
                      - {name: champion, slot: champion, weight: 100}
            """);
    BusinessUnit unit = BusinessUnit.load(file);

    // When / Then
    assertThatThrownBy(() -> pipeline.render(unit, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("function route of acme")
        .hasMessageContaining("routes to slot 'fraud-v9', which no score function serves");
  }

  @Test
  void theGuardGetsTheRouteFunctionsTableOfTheUnit() {
    // Given the lending unit, whose route function has its own arms
    BusinessUnit unit = BusinessUnit.load(pipeline.businessUnitsDir(), "lending");

    // When its pipeline is rendered
    List<FunctionDeployer.Deployment> deployments = pipeline.render(unit, Map.of());

    // Then the guard's userConfig.routing is the route function's table, without deploy metadata
    Map<String, Object> route = userConfig(deployments, "route");
    @SuppressWarnings("unchecked")
    Map<String, Object> routing =
        (Map<String, Object>) userConfig(deployments, "guard").get(Pipeline.GUARD_ROUTING_KEY);
    assertThat(routing).isNotNull();
    assertThat(routing.get("arms")).isEqualTo(route.get("arms"));
    assertThat(routing.get("routingVersion")).isEqualTo(route.get("routingVersion"));
    assertThat(routing.keySet()).noneMatch(k -> k.startsWith("_"));
    assertThat(userConfig(deployments, "guard")).containsEntry("maxFallbackRatePercent", 20);
  }

  @Test
  void aGuardWithMoreThanOneInstanceFailsNamingTheFunction() throws Exception {
    // Given a unit that asks for two guard instances
    Path file =
        Files.writeString(
            pipeline.businessUnitsDir().resolve("acme.yaml"),
            """
            tenant: acme
            namespaces:
              - name: fraud
            pipeline:
              namespace: fraud
              functions:
                guard:
                  parallelism: 2
            """);
    BusinessUnit unit = BusinessUnit.load(file);

    // When / Then
    assertThatThrownBy(() -> pipeline.render(unit, Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("function guard of acme")
        .hasMessageContaining("parallelism: must be 1");
  }
}
