package io.decisionflow.functions;

import io.decisionflow.stages.StageConfigs;
import io.decisionflow.stages.decide.DecideConfig;
import io.decisionflow.stages.enrich.EnrichConfig;
import io.decisionflow.stages.fused.FusedConfig;
import io.decisionflow.stages.guard.GuardConfig;
import io.decisionflow.stages.route.RouteConfig;
import io.decisionflow.stages.score.ScoreConfig;
import java.util.Map;

/**
 * The typed configuration of each function class, so that a deploy tool can check a function's
 * userConfig before it submits it: a bad config fails at deploy, not in a restarting instance.
 */
public final class UserConfigs {

  /**
   * Config class by function class name. Names, not class literals: the deploy tool validates
   * without the Pulsar Functions API on its classpath ({@code UserConfigsTest} keeps them right).
   */
  static final Map<String, Class<? extends StageConfigs.Validated>> BY_FUNCTION =
      Map.of(
          "io.decisionflow.functions.EnrichFunction", EnrichConfig.class,
          "io.decisionflow.functions.RouteFunction", RouteConfig.class,
          "io.decisionflow.functions.ScoreFunction", ScoreConfig.class,
          "io.decisionflow.functions.DecideFunction", DecideConfig.class,
          "io.decisionflow.functions.GuardFunction", GuardConfig.class,
          "io.decisionflow.functions.baseline.BlockingEnrichFunction", EnrichConfig.class,
          "io.decisionflow.functions.FusedFunction", FusedConfig.class);

  private UserConfigs() {}

  /**
   * The processing guarantees a function class must be deployed with, or null if any will do.
   * Enrich (and the fused function, which is enrich and more) acknowledges records itself once
   * their card state is durable ({@code MANUAL}).
   */
  public static String requiredProcessingGuarantees(String className) {
    return "io.decisionflow.functions.EnrichFunction".equals(className)
            || "io.decisionflow.functions.FusedFunction".equals(className)
        ? "MANUAL"
        : null;
  }

  /**
   * Validates {@code userConfig} for the function {@code className}.
   *
   * @throws io.decisionflow.stages.ConfigException naming the field and what to fix
   * @throws IllegalArgumentException if {@code className} is not a decisionflow function
   */
  public static void validate(String className, Map<String, Object> userConfig) {
    Class<? extends StageConfigs.Validated> type = BY_FUNCTION.get(className);
    if (type == null) {
      throw new IllegalArgumentException(
          "className: "
              + className
              + " is not a decisionflow function; known: "
              + BY_FUNCTION.keySet());
    }
    StageConfigs.load(userConfig, type);
  }
}
