package io.decisionflow.deploy;

import io.decisionflow.functions.UserConfigs;
import io.decisionflow.schemas.BusinessNamespace;
import io.decisionflow.stages.ConfigException;
import io.decisionflow.stages.StageConfigs;
import io.decisionflow.stages.route.RouteConfig;
import io.decisionflow.stages.score.ModelDigest;
import io.decisionflow.stages.score.ModelManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.client.admin.PulsarAdminException;
import org.apache.pulsar.common.functions.FunctionConfig;
import org.apache.pulsar.common.policies.data.FunctionStatus;
import org.apache.pulsar.common.policies.data.SinkStatus;

/**
 * A business unit's pipeline on a cluster: provisions the unit, then deploys every function config
 * of {@code pulsar-deploy/functions/} for it, downstream stages first.
 */
public final class Pipeline {

  /** What one deploy did. */
  public record Result(
      List<String> provisioned,
      Map<String, FunctionDeployer.Outcome> functions,
      Map<String, FunctionDeployer.Outcome> sinks) {}

  /** By name: the deploy tool runs without the Pulsar Functions API on its classpath. */
  private static final String ROUTE_FUNCTION = "io.decisionflow.functions.RouteFunction";

  private static final String GUARD_FUNCTION = "io.decisionflow.functions.GuardFunction";

  /** The guard's userConfig key for the route function's initial table. */
  static final String GUARD_ROUTING_KEY = "routing";

  private final PulsarAdmin admin;
  private final Path projectDir;
  private final Path functionsDir;
  private final Set<String> excluded;
  private final Consumer<String> log;

  /**
   * @param projectDir the repository root: function configs are read from {@code
   *     pulsar-deploy/functions} and their jars resolved from here
   */
  public Pipeline(PulsarAdmin admin, Path projectDir, Consumer<String> log) {
    this(admin, projectDir, projectDir.resolve("pulsar-deploy/functions"), Set.of(), log);
  }

  private Pipeline(
      PulsarAdmin admin,
      Path projectDir,
      Path functionsDir,
      Set<String> excluded,
      Consumer<String> log) {
    this.admin = admin;
    this.projectDir = projectDir;
    this.functionsDir = functionsDir;
    this.excluded = Set.copyOf(excluded);
    this.log = log;
  }

  /**
   * This pipeline with the function configs of {@code functionsDir} instead (another topology of
   * the same stages, e.g. {@code pulsar-deploy/functions-naive}), leaving out the functions named
   * in {@code excluded}.
   *
   * @throws ConfigException if {@code functionsDir} holds no function config
   */
  public Pipeline topology(Path functionsDir, Set<String> excluded) {
    Pipeline topology = new Pipeline(admin, projectDir, functionsDir, excluded, log);
    if (topology.templates().isEmpty()) {
      throw new ConfigException(
          "no function config (*.yaml) in "
              + functionsDir
              + (excluded.isEmpty() ? "" : " besides " + String.join(", ", excluded)));
    }
    return topology;
  }

  /** The function configs of this pipeline, without the excluded ones. */
  private List<FunctionConfig> templates() {
    return FunctionDeployer.readAll(functionsDir).stream()
        .filter(c -> !excluded.contains(c.getName()))
        .toList();
  }

  /** {@code pulsar-deploy/business-units} of the project. */
  public Path businessUnitsDir() {
    return projectDir.resolve("pulsar-deploy/business-units");
  }

  /** Where the function configs are read: {@code pulsar-deploy/functions} of the project. */
  public Path functionsDir() {
    return functionsDir;
  }

  /** {@code pulsar-deploy/sinks} of the project. */
  public Path sinksDir() {
    return projectDir.resolve("pulsar-deploy/sinks");
  }

  /**
   * The sink configs of the unit (those it lists under {@code pipeline.sinks}), rendered, with
   * their secrets read from this process's environment.
   *
   * @throws ConfigException if the unit names a sink without config, or a secret is missing
   */
  public List<SinkDeployer.Deployment> renderSinks(BusinessUnit unit) {
    if (unit.pipeline.sinks.isEmpty()) {
      return List.of();
    }
    Map<String, org.apache.pulsar.common.io.SinkConfig> templates =
        SinkDeployer.readAll(sinksDir());
    for (String name : unit.pipeline.sinks.keySet()) {
      if (!templates.containsKey(name)) {
        throw new ConfigException(
            unit.name
                + ": pipeline.sinks."
                + name
                + ": no sink config named "
                + name
                + " in "
                + sinksDir()
                + " (there are: "
                + String.join(", ", templates.keySet())
                + ")");
      }
    }
    List<SinkDeployer.Deployment> deployments = new ArrayList<>();
    unit.pipeline.sinks.forEach(
        (name, settings) ->
            deployments.add(
                SinkDeployer.render(
                    templates.get(name), unit, settings, projectDir, System::getenv)));
    return deployments;
  }

  /** The model slots of the pipeline: those its score functions' configs name. */
  public List<String> modelSlots() {
    return templates().stream()
        .map(c -> c.getUserConfig() == null ? null : c.getUserConfig().get("modelSlot"))
        .filter(slot -> slot != null)
        .map(String::valueOf)
        .toList();
  }

  /**
   * The model slots a routing table of {@code unit} may name: those its route function knows
   * ({@code userConfig.slots}, else the slots of its configured arms and shadows), as the unit's
   * settings render them. Needs no jar and no cluster.
   *
   * @throws ConfigException if the route function's userConfig is invalid
   */
  public Set<String> routingSlots(BusinessUnit unit) {
    return routeConfig(unit)
        .map(RouteConfig::knownSlots)
        .orElseGet(() -> new LinkedHashSet<>(modelSlots()));
  }

  /**
   * The routing table {@code unit}'s route function starts with (its function config with the
   * unit's settings), if the pipeline has a route function.
   */
  public java.util.Optional<io.decisionflow.schemas.control.RoutingTable> configuredRoutingTable(
      BusinessUnit unit) {
    return routeConfig(unit).map(RouteConfig::toTable);
  }

  private java.util.Optional<RouteConfig> routeConfig(BusinessUnit unit) {
    for (FunctionConfig template : templates()) {
      if (ROUTE_FUNCTION.equals(template.getClassName())) {
        return java.util.Optional.of(
            StageConfigs.load(FunctionDeployer.unitUserConfig(template, unit), RouteConfig.class));
      }
    }
    return java.util.Optional.empty();
  }

  /**
   * Overrides for the fused topology ({@code pulsar-deploy/functions-fused}): its function serves
   * each slot's configured model, {@code slotModels} (slot to model directory), in place of the
   * file's.
   */
  public static Map<String, Map<String, Object>> fusedModelLocations(
      Map<String, String> slotModels) {
    Map<String, Object> slots = new LinkedHashMap<>();
    slotModels.forEach((slot, location) -> slots.put(slot, Map.of("modelLocation", location)));
    return Map.of("fused", Map.of("slots", slots));
  }

  /**
   * Overrides that point every score function (every config whose userConfig names a {@code
   * modelSlot}) at one model directory, e.g. the model the build trained for local runs. When the
   * directory is on this machine, the model's checksum from its manifest goes along as deployment
   * metadata, so that a retrained model at the same place redeploys the score functions.
   */
  public Map<String, Map<String, Object>> modelLocationOverrides(String modelLocation) {
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("modelLocation", modelLocation);
    Path dir = Path.of(modelLocation);
    if (Files.isRegularFile(dir.resolve(ModelManifest.FILE_NAME))) {
      Map<String, Object> training = ModelManifest.read(dir).training();
      if (training != null && training.get(ModelDigest.MANIFEST_KEY) != null) {
        settings.put("_modelSha256", String.valueOf(training.get(ModelDigest.MANIFEST_KEY)));
      }
    }
    Map<String, Map<String, Object>> overrides = new LinkedHashMap<>();
    for (FunctionConfig config : templates()) {
      if (config.getUserConfig() != null && config.getUserConfig().containsKey("modelSlot")) {
        overrides.put(config.getName(), settings);
      }
    }
    return overrides;
  }

  /**
   * The function configs of the unit, rendered and validated, in deploy order (guard, decide,
   * score, route, enrich: consumers exist before their producers). A guard function whose
   * userConfig names no {@code routing} gets the route function's initial table there ({@code
   * arms}, {@code shadows}, {@code routingVersion}, {@code slots}), so that it can roll back an arm
   * before any table is published.
   *
   * @param overrides userConfig keys by function name, applied last (e.g. a local model path)
   * @throws ConfigException if a function's userConfig is invalid, naming function and field
   */
  public List<FunctionDeployer.Deployment> render(
      BusinessUnit unit, Map<String, Map<String, Object>> overrides) {
    List<FunctionConfig> templates = templates();
    Map<String, Object> routeTable = null;
    for (FunctionConfig template : templates) {
      if (ROUTE_FUNCTION.equals(template.getClassName())) {
        // Checked here, so that a bad route table fails naming the route function, not the guard
        routeTable = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e :
            validated(FunctionDeployer.render(template, unit, overrides, projectDir), unit)
                .config()
                .getUserConfig()
                .entrySet()) {
          if (!e.getKey().startsWith("_")) {
            routeTable.put(e.getKey(), e.getValue());
          }
        }
      }
    }
    List<FunctionDeployer.Deployment> deployments = new ArrayList<>();
    for (FunctionConfig template : templates) {
      Map<String, Map<String, Object>> withTable = overrides;
      if (GUARD_FUNCTION.equals(template.getClassName())) {
        withTable = guardOverrides(template, unit, overrides, routeTable);
      }
      FunctionDeployer.Deployment d =
          validated(FunctionDeployer.render(template, unit, withTable, projectDir), unit);
      if (GUARD_FUNCTION.equals(d.config().getClassName())
          && d.config().getParallelism() != null
          && d.config().getParallelism() != 1) {
        throw new ConfigException(
            "function "
                + d.config().getName()
                + " of "
                + unit.name
                + ": parallelism: must be 1 (each arm's window must see all its decisions), was "
                + d.config().getParallelism());
      }
      deployments.add(d);
    }
    servedSlots(unit, deployments);
    deployments.sort(Comparator.comparingInt(d -> order(d.config().getClassName())));
    return deployments;
  }

  /** {@code d}, once its userConfig is valid for its class. */
  private static FunctionDeployer.Deployment validated(
      FunctionDeployer.Deployment d, BusinessUnit unit) {
    try {
      UserConfigs.validate(d.config().getClassName(), d.config().getUserConfig());
      String guarantee =
          d.config().getProcessingGuarantees() == null
              ? "ATLEAST_ONCE"
              : d.config().getProcessingGuarantees().name();
      String required = UserConfigs.requiredProcessingGuarantees(d.config().getClassName());
      if (required != null && !required.equals(guarantee)) {
        throw new IllegalArgumentException(
            "processingGuarantees must be "
                + required
                + " (the function acknowledges each record itself, once its effect is durable),"
                + " was "
                + guarantee);
      }
    } catch (IllegalArgumentException e) {
      throw new ConfigException(
          "function " + d.config().getName() + " of " + unit.name + ": " + e.getMessage(), e);
    }
    return d;
  }

  /** {@code overrides} plus the route function's table for the guard, unless it names one. */
  private static Map<String, Map<String, Object>> guardOverrides(
      FunctionConfig guard,
      BusinessUnit unit,
      Map<String, Map<String, Object>> overrides,
      Map<String, Object> routeTable) {
    Map<String, Object> own = overrides.getOrDefault(guard.getName(), Map.of());
    boolean named =
        own.containsKey(GUARD_ROUTING_KEY)
            || unit.function(guard.getName()).userConfig.containsKey(GUARD_ROUTING_KEY)
            || (guard.getUserConfig() != null
                && guard.getUserConfig().containsKey(GUARD_ROUTING_KEY));
    if (named || routeTable == null) {
      return overrides;
    }
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put(GUARD_ROUTING_KEY, routeTable);
    settings.putAll(own);
    Map<String, Map<String, Object>> all = new LinkedHashMap<>(overrides);
    all.put(guard.getName(), settings);
    return all;
  }

  /**
   * Every slot the route function may send to (its known slots) has a score function among {@code
   * deployments}: otherwise a routing table could send records to a topic nobody reads.
   */
  private static void servedSlots(
      BusinessUnit unit, List<FunctionDeployer.Deployment> deployments) {
    Set<String> served = new LinkedHashSet<>();
    for (FunctionDeployer.Deployment d : deployments) {
      Object slot = d.config().getUserConfig().get("modelSlot");
      if (slot != null) {
        served.add(String.valueOf(slot));
      }
    }
    for (FunctionDeployer.Deployment d : deployments) {
      if (ROUTE_FUNCTION.equals(d.config().getClassName())) {
        for (String slot :
            StageConfigs.load(d.config().getUserConfig(), RouteConfig.class).knownSlots()) {
          if (!served.contains(slot)) {
            throw new ConfigException(
                "function "
                    + d.config().getName()
                    + " of "
                    + unit.name
                    + ": userConfig.slots: routes to slot '"
                    + slot
                    + "', which no score function serves (served: "
                    + String.join(", ", served)
                    + ")");
          }
        }
      }
    }
  }

  /** Provisions the unit and applies its function configs. */
  public Result deploy(BusinessUnit unit, Map<String, Map<String, Object>> overrides)
      throws PulsarAdminException {
    List<FunctionDeployer.Deployment> deployments = render(unit, overrides);
    List<SinkDeployer.Deployment> sinkDeployments = renderSinks(unit);
    List<String> provisioned = new Provisioner(admin, log).provision(unit, modelSlots());
    // Sinks first: like the functions, consumers exist before their producers.
    SinkDeployer sinkDeployer = new SinkDeployer(admin, log);
    Map<String, FunctionDeployer.Outcome> sinks = new LinkedHashMap<>();
    for (SinkDeployer.Deployment d : sinkDeployments) {
      sinks.put(d.config().getName(), sinkDeployer.apply(d));
    }
    FunctionDeployer deployer = new FunctionDeployer(admin, log);
    Map<String, FunctionDeployer.Outcome> outcomes = new LinkedHashMap<>();
    for (FunctionDeployer.Deployment d : deployments) {
      outcomes.put(d.config().getName(), deployer.apply(d));
    }
    return new Result(provisioned, outcomes, sinks);
  }

  /**
   * Waits until every instance of every function and sink of the unit runs.
   *
   * @throws IllegalStateException with the instances' errors if they do not run in time
   */
  public void awaitRunning(BusinessUnit unit, Duration timeout) throws InterruptedException {
    BusinessNamespace ns = unit.pipelineNamespace();
    awaitRunning(ns, functionNames(ns), sinkNames(ns), unit.name, timeout);
  }

  /**
   * Waits until every instance of the named functions of {@code ns} runs; {@code what} names them
   * in the log and the error.
   *
   * @throws IllegalStateException with the instances' errors if they do not run in time
   */
  public void awaitRunning(BusinessNamespace ns, List<String> names, String what, Duration timeout)
      throws InterruptedException {
    awaitRunning(ns, names, List.of(), what, timeout);
  }

  private void awaitRunning(
      BusinessNamespace ns, List<String> names, List<String> sinks, String what, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long lastReport = 0;
    while (true) {
      List<String> waiting = new ArrayList<>();
      for (String name : names) {
        String problem = problem(ns, name);
        if (problem != null) {
          waiting.add(problem);
        }
      }
      for (String sink : sinks) {
        String problem = sinkProblem(ns, sink);
        if (problem != null) {
          waiting.add(problem);
        }
      }
      if (waiting.isEmpty()) {
        log.accept(
            what
                + ": "
                + names.size()
                + " functions running"
                + (sinks.isEmpty() ? "" : ", " + sinks.size() + " sinks running"));
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            what + ": functions not running after " + timeout + ": " + waiting);
      }
      if (System.nanoTime() - lastReport > Duration.ofSeconds(10).toNanos()) {
        log.accept(what + ": waiting for " + waiting);
        lastReport = System.nanoTime();
      }
      Thread.sleep(500);
    }
  }

  /** Deletes the unit's functions and sinks (tenant, namespaces and data stay). */
  public void undeploy(BusinessUnit unit) throws PulsarAdminException {
    BusinessNamespace ns = unit.pipelineNamespace();
    FunctionDeployer deployer = new FunctionDeployer(admin, log);
    for (String name : functionNames(ns)) {
      deployer.delete(ns.tenant(), ns.namespace(), name);
    }
    SinkDeployer sinkDeployer = new SinkDeployer(admin, log);
    for (String name : sinkNames(ns)) {
      sinkDeployer.delete(ns.tenant(), ns.namespace(), name);
    }
  }

  private List<String> sinkNames(BusinessNamespace ns) {
    try {
      return admin.sinks().listSinks(ns.tenant(), ns.namespace());
    } catch (PulsarAdminException e) {
      throw new IllegalStateException("cannot list sinks of " + ns + ": " + e.getMessage(), e);
    }
  }

  /** Null if all instances of the sink run, else what is wrong. */
  private String sinkProblem(BusinessNamespace ns, String name) {
    SinkStatus status;
    try {
      status = admin.sinks().getSinkStatus(ns.tenant(), ns.namespace(), name);
    } catch (PulsarAdminException e) {
      return "sink " + name + " (status: " + e.getMessage() + ")";
    }
    return notRunning(
        "sink " + name,
        status.getNumRunning(),
        status.getNumInstances(),
        status.getInstances().stream()
            .map(i -> Map.entry(i.getInstanceId(), String.valueOf(i.getStatus().getError())))
            .toList());
  }

  private List<String> functionNames(BusinessNamespace ns) {
    try {
      return admin.functions().getFunctions(ns.tenant(), ns.namespace());
    } catch (PulsarAdminException e) {
      throw new IllegalStateException("cannot list functions of " + ns + ": " + e.getMessage(), e);
    }
  }

  /**
   * Null if all instances of the function run, else what is wrong: "name (running/instances
   * running; instance id: error ...)".
   */
  public String problem(BusinessNamespace ns, String name) {
    FunctionStatus status;
    try {
      status = admin.functions().getFunctionStatus(ns.tenant(), ns.namespace(), name);
    } catch (PulsarAdminException e) {
      return name + " (status: " + e.getMessage() + ")";
    }
    return notRunning(
        name,
        status.getNumRunning(),
        status.getNumInstances(),
        status.getInstances().stream()
            .map(i -> Map.entry(i.getInstanceId(), String.valueOf(i.getStatus().getError())))
            .toList());
  }

  /**
   * Null if all {@code instances} instances run, else "what (running/instances running; instance
   * id: error ...)" with the errors of the instances that report one.
   */
  private static String notRunning(
      String what, int running, int instances, List<Map.Entry<Integer, String>> errors) {
    if (instances > 0 && running == instances) {
      return null;
    }
    StringBuilder problem =
        new StringBuilder(what)
            .append(" (")
            .append(running)
            .append('/')
            .append(instances)
            .append(" running");
    for (Map.Entry<Integer, String> error : errors) {
      // Until an instance's process answers, its status reads "UNAVAILABLE": it is starting.
      String text = error.getValue();
      if (text != null
          && !text.isBlank()
          && !text.equals("null")
          && !text.startsWith("UNAVAILABLE")) {
        problem.append("; instance ").append(error.getKey()).append(": ").append(text);
      }
    }
    return problem.append(')').toString();
  }

  private static int order(String className) {
    String simple = className.substring(className.lastIndexOf('.') + 1);
    return switch (simple) {
      case "GuardFunction" -> -1;
      case "DecideFunction" -> 0;
      case "ScoreFunction" -> 1;
      case "RouteFunction" -> 2;
      case "EnrichFunction", "BlockingEnrichFunction", "FusedFunction" -> 3;
      default -> 4;
    };
  }
}
