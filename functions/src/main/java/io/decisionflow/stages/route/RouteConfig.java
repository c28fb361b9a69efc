package io.decisionflow.stages.route;

import io.decisionflow.schemas.Topics;
import io.decisionflow.stages.ConfigException;
import io.decisionflow.stages.StageConfigs;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Configuration of the route function ({@code userConfig} of its function config). */
public final class RouteConfig implements StageConfigs.Validated {

  /** One arm of the routing table: a share of the cards sent to one model slot. */
  public static final class Arm {
    /** Name of the arm, written into each record, e.g. {@code champion}. */
    public String name;

    /** Model slot that scores this arm's records; defaults to the arm's name. */
    public String slot;

    /** Share of cards in percent; the weights of all arms add up to 100. */
    public int weight;

    public Arm() {}

    public Arm(String name, String slot, int weight) {
      this.name = name;
      this.slot = slot;
      this.weight = weight;
    }

    /** The model slot, defaulting to the arm's name. */
    public String slot() {
      return slot == null ? name : slot;
    }
  }

  /** The arms, in order; each card lands on one arm, the same one every time. */
  public List<Arm> arms;

  /** Version of this routing table, written into each record. */
  public String routingVersion = "static-1";

  @Override
  public void validate() {
    ConfigException.require(
        arms != null && !arms.isEmpty(), "arms", arms, "must list at least one arm");
    int sum = 0;
    Set<String> names = new HashSet<>();
    for (int i = 0; i < arms.size(); i++) {
      Arm arm = arms.get(i);
      String at = "arms[" + i + "]";
      ConfigException.require(arm != null, at, null, "must be an arm {name, slot, weight}");
      ConfigException.require(
          arm.name != null && !arm.name.isBlank(), at + ".name", arm.name, "is required");
      ConfigException.require(
          names.add(arm.name), at + ".name", arm.name, "must be unique among the arms");
      try {
        Topics.scoring(arm.slot());
      } catch (IllegalArgumentException e) {
        throw new ConfigException("userConfig." + at + ".slot: " + e.getMessage(), e);
      }
      ConfigException.require(
          arm.weight >= 0 && arm.weight <= 100,
          at + ".weight",
          arm.weight,
          "must be between 0 and 100");
      sum += arm.weight;
    }
    ConfigException.require(sum == 100, "arms[*].weight", sum, "must add up to 100");
    ConfigException.require(
        routingVersion != null && !routingVersion.isBlank(),
        "routingVersion",
        routingVersion,
        "is required");
  }
}
