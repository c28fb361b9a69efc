package io.decisionflow.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.decisionflow.deploy.BusinessUnit;
import io.decisionflow.deploy.FunctionDeployer;
import io.decisionflow.deploy.Pipeline;
import io.decisionflow.deploy.UserConfigOverrides;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.pulsar.client.admin.PulsarAdmin;
import org.apache.pulsar.common.functions.FunctionConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Provisions a business unit and deploys its pipeline (create or update each function). */
@Command(
    name = "deploy",
    mixinStandardHelpOptions = true,
    description = {
      "Provision a business unit and deploy its pipeline from pulsar-deploy/functions/*.yaml,",
      "and the sinks it lists from pulsar-deploy/sinks/*.yaml: each is created, updated if its",
      "config or code changed, or left alone. Sink secrets come from the environment variables",
      "the unit's file names (e.g. DF_POSTGRES_PASSWORD)."
    })
final class DeployCommand implements Callable<Integer> {

  @Mixin ClusterOptions cluster;

  @Option(
      names = "--set",
      paramLabel = "FUNCTION.KEY=VALUE",
      description =
          "Override a userConfig key of one function, e.g. score-champion.modelLocation=/models/fraud-v1;"
              + " a dotted KEY sets a nested one, e.g. decide.bands.review=0.15"
              + " (repeatable; numbers and true/false are typed).")
  List<String> sets = List.of();

  @Option(
      names = "--model-location",
      paramLabel = "DIR",
      description = "Model directory (absolute on the workers) for every score function.")
  String modelLocation;

  @Option(
      names = "--render-to",
      paramLabel = "DIR",
      description =
          "Write the unit's function configs to DIR (for pulsar-admin) instead of deploying.")
  Path renderTo;

  @Option(
      names = "--without-sinks",
      description =
          "Deploy the functions only, not the sinks the unit lists (e.g. without a database).")
  boolean withoutSinks;

  @Option(
      names = "--wait",
      defaultValue = "180",
      description = "Seconds to wait until every function runs; 0 to not wait (${DEFAULT-VALUE}).")
  int waitSeconds;

  @Override
  public Integer call() throws Exception {
    try (PulsarAdmin admin = cluster.admin()) {
      Pipeline pipeline = cluster.pipeline(admin, System.out::println);
      Map<String, Map<String, Object>> overrides =
          UserConfigOverrides.mergeByFunction(
              modelLocation == null ? Map.of() : pipeline.modelLocationOverrides(modelLocation),
              UserConfigOverrides.parse(sets));
      BusinessUnit unit = cluster.businessUnit(pipeline);
      if (withoutSinks) {
        unit.pipeline.sinks.clear();
      }
      if (renderTo != null) {
        render(pipeline.render(unit, overrides));
        return 0;
      }
      Pipeline.Result result = pipeline.deploy(unit, overrides);
      System.out.println(
          unit.name
              + ": "
              + result.functions()
              + (result.sinks().isEmpty() ? "" : ", sinks " + result.sinks()));
      if (waitSeconds > 0) {
        pipeline.awaitRunning(unit, Duration.ofSeconds(waitSeconds));
      }
    }
    return 0;
  }

  private void render(List<FunctionDeployer.Deployment> deployments) throws Exception {
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    Files.createDirectories(renderTo);
    for (FunctionDeployer.Deployment d : deployments) {
      FunctionConfig config = d.config();
      Map<String, Object> userConfig = new LinkedHashMap<>(config.getUserConfig());
      userConfig.remove(FunctionDeployer.DEPLOYMENT_KEY);
      config.setUserConfig(userConfig);
      Path file = renderTo.resolve(config.getName() + ".yaml");
      yaml.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), config);
      System.out.println("wrote " + file);
    }
  }
}
