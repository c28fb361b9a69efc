package io.decisionflow.stages.fused;

import io.decisionflow.stages.ConfigException;
import io.decisionflow.stages.StageConfigs;
import io.decisionflow.stages.decide.DecideConfig;
import io.decisionflow.stages.enrich.EnrichConfig;
import io.decisionflow.stages.route.RouteConfig;
import io.decisionflow.stages.score.ScoreConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The configuration of the fused topology: one function that runs enrich, route, score and decide.
 * Each stage's settings are a section of their own, in the form that stage's function takes:
 *
 * <pre>
 * userConfig:
 *   enrich: {featureSpecVersion: v3, ...}            # EnrichConfig
 *   route: {arms: [...], shadows: [...], ...}        # RouteConfig
 *   slots:                                           # ScoreConfig per model slot (modelSlot implied)
 *     champion: {modelLocation: /models/fraud-v1}
 *     challenger: {modelLocation: /models/fraud-v2}
 *   decide: {threshold: 0.2}                         # DecideConfig
 * </pre>
 *
 * Every slot the routing table may send to needs a section under {@code slots}.
 */
public final class FusedConfig implements StageConfigs.Validated {

  public Map<String, Object> enrich = new LinkedHashMap<>();
  public Map<String, Object> route;
  public Map<String, Map<String, Object>> slots;
  public Map<String, Object> decide;

  /** The enrich section, typed. */
  public EnrichConfig enrichConfig() {
    return section("enrich", enrich, EnrichConfig.class);
  }

  /** The route section, typed. */
  public RouteConfig routeConfig() {
    return section("route", route, RouteConfig.class);
  }

  /** The decide section, typed. */
  public DecideConfig decideConfig() {
    return section("decide", decide, DecideConfig.class);
  }

  /** Each slot's section, typed, with its modelSlot set to its name; sorted by slot. */
  public Map<String, ScoreConfig> scoreConfigs() {
    Map<String, ScoreConfig> configs = new TreeMap<>();
    slots.forEach(
        (slot, settings) -> {
          Map<String, Object> withSlot =
              new LinkedHashMap<>(settings == null ? Map.of() : settings);
          Object named = withSlot.putIfAbsent("modelSlot", slot);
          ConfigException.require(
              named == null || slot.equals(named),
              "slots." + slot + ".modelSlot",
              named,
              "must be the section's own name, " + slot + ", or left out");
          configs.put(slot, section("slots." + slot, withSlot, ScoreConfig.class));
        });
    return configs;
  }

  @Override
  public void validate() {
    ConfigException.require(
        route != null, "route", null, "is required: the routing table (arms, weights, slots)");
    ConfigException.require(
        slots != null && !slots.isEmpty(),
        "slots",
        slots,
        "must give each model slot its settings, e.g. {champion: {modelLocation: ...}}");
    ConfigException.require(decide != null, "decide", null, "is required (threshold)");
    enrichConfig();
    RouteConfig routing = routeConfig();
    Map<String, ScoreConfig> scores = scoreConfigs();
    for (String slot : routing.knownSlots()) {
      ConfigException.require(
          scores.containsKey(slot),
          "slots",
          scores.keySet(),
          "has no section for slot '" + slot + "', which the route section sends to");
    }
    decideConfig();
  }

  /** Loads {@code settings} as {@code type}, naming the section in any error. */
  private static <T extends StageConfigs.Validated> T section(
      String name, Map<String, Object> settings, Class<T> type) {
    try {
      return StageConfigs.load(settings == null ? Map.of() : settings, type);
    } catch (ConfigException e) {
      throw new ConfigException(
          e.getMessage().replaceFirst("^userConfig\\.", "userConfig." + name + "."), e);
    }
  }
}
