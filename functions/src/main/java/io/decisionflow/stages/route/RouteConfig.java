package io.decisionflow.stages.route;

import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.control.RoutingArm;
import io.decisionflow.schemas.control.RoutingTable;
import io.decisionflow.schemas.control.ShadowArm;
import io.decisionflow.stages.ConfigException;
import io.decisionflow.stages.StageConfigs;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Configuration of the route function ({@code userConfig} of its function config): the initial
 * routing table, served until a table is announced on the unit's {@code routing} topic, and the
 * model slots the pipeline serves, which every announced table must stay within.
 */
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

  /** A shadow arm: a mirrored copy of the records of some cards, scored but never decided. */
  public static final class Shadow {
    /** Name of the shadow arm, written into each mirrored copy. */
    public String name;

    /** Model slot that scores the copies; defaults to the shadow's name. */
    public String slot;

    /** Share of the cards mirrored, in percent. */
    public int mirrorPercent;

    public Shadow() {}

    public Shadow(String name, String slot, int mirrorPercent) {
      this.name = name;
      this.slot = slot;
      this.mirrorPercent = mirrorPercent;
    }

    /** The model slot, defaulting to the shadow's name. */
    public String slot() {
      return slot == null ? name : slot;
    }
  }

  /** The arms, in order; each card lands on one arm, the same one every time. */
  public List<Arm> arms;

  /** Shadow arms of the initial table (none by default). */
  public List<Shadow> shadows = new ArrayList<>();

  /** Version of this routing table, written into each record. */
  public String routingVersion = "static-1";

  /**
   * The model slots the pipeline serves (one score function each). An announced routing table
   * naming any other slot is refused. Defaults to the slots of {@link #arms} and {@link #shadows}.
   */
  public List<String> slots;

  /**
   * How long the stage's producers wait to batch its output, in microseconds; 0 sends each record
   * alone, -1 leaves publishing to the function runtime (which always waits 10 ms in Pulsar 4.0).
   */
  public long outputBatchingDelayMicros = 1000;

  @Override
  public void validate() {
    StageConfigs.requireOutputBatchingDelay(outputBatchingDelayMicros, true);
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
      slotName(arm.slot(), at + ".slot");
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
    ConfigException.require(shadows != null, "shadows", null, "must be a list (or left out)");
    for (int i = 0; i < shadows.size(); i++) {
      Shadow shadow = shadows.get(i);
      String at = "shadows[" + i + "]";
      ConfigException.require(
          shadow != null, at, null, "must be a shadow arm {name, slot, mirrorPercent}");
      ConfigException.require(
          shadow.name != null && !shadow.name.isBlank(), at + ".name", shadow.name, "is required");
      ConfigException.require(
          names.add(shadow.name),
          at + ".name",
          shadow.name,
          "must be unique among the arms and shadows");
      slotName(shadow.slot(), at + ".slot");
      ConfigException.require(
          shadow.mirrorPercent >= 0 && shadow.mirrorPercent <= 100,
          at + ".mirrorPercent",
          shadow.mirrorPercent,
          "must be between 0 and 100");
    }
    if (slots != null) {
      ConfigException.require(!slots.isEmpty(), "slots", slots, "must list at least one slot");
      for (int i = 0; i < slots.size(); i++) {
        slotName(slots.get(i), "slots[" + i + "]");
      }
      for (int i = 0; i < arms.size(); i++) {
        knownSlot(arms.get(i).slot(), "arms[" + i + "].slot");
      }
      for (int i = 0; i < shadows.size(); i++) {
        knownSlot(shadows.get(i).slot(), "shadows[" + i + "].slot");
      }
    }
  }

  /** The model slots announced tables may name: {@link #slots}, else those of the initial table. */
  public Set<String> knownSlots() {
    Set<String> known = new LinkedHashSet<>();
    if (slots != null) {
      known.addAll(slots);
    } else {
      arms.forEach(arm -> known.add(arm.slot()));
      shadows.forEach(shadow -> known.add(shadow.slot()));
    }
    return known;
  }

  /** The initial routing table this config describes. */
  public RoutingTable toTable() {
    RoutingTable.Builder table = RoutingTable.newBuilder().setVersion(routingVersion);
    for (Arm arm : arms) {
      table.addArms(
          RoutingArm.newBuilder().setName(arm.name).setModelSlot(arm.slot()).setWeight(arm.weight));
    }
    for (Shadow shadow : shadows) {
      table.addShadows(
          ShadowArm.newBuilder()
              .setName(shadow.name)
              .setModelSlot(shadow.slot())
              .setMirrorPercent(shadow.mirrorPercent));
    }
    return table.setPublishedBy("userConfig").build();
  }

  private void knownSlot(String slot, String field) {
    ConfigException.require(slots.contains(slot), field, slot, "must be one of the slots " + slots);
  }

  private static void slotName(String slot, String field) {
    try {
      Topics.scoring(slot);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("userConfig." + field + ": " + e.getMessage(), e);
    }
  }
}
