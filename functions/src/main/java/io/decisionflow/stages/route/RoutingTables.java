package io.decisionflow.stages.route;

import io.decisionflow.schemas.Topics;
import io.decisionflow.schemas.control.RoutingArm;
import io.decisionflow.schemas.control.RoutingTable;
import io.decisionflow.schemas.control.ShadowArm;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The rules a {@link RoutingTable} must follow before a route function applies it (and before the
 * registry publishes it). A table that breaks one is refused with the reasons, and the current
 * table stays.
 *
 * <ul>
 *   <li>{@code version} is set;
 *   <li>at least one deciding arm; arm and shadow names are set and unique;
 *   <li>every {@code model_slot} is one of the pipeline's known slots (those its score functions
 *       serve);
 *   <li>weights are 0..100 and add up to 100, so at least one arm decides;
 *   <li>{@code mirror_percent} is 0..100.
 * </ul>
 */
public final class RoutingTables {

  private RoutingTables() {}

  /** A table that breaks the rules; the message lists every problem, separated by "; ". */
  public static final class InvalidRoutingTableException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    InvalidRoutingTableException(String version, List<String> problems) {
      super("routing table '" + version + "' refused: " + String.join("; ", problems));
      this.problems = List.copyOf(problems);
    }

    /** Each problem, naming the field and the value, e.g. {@code arms[*].weight: ...}. */
    public List<String> problems() {
      return problems;
    }

    /** The problems joined by "; ", without the table's version: what a status record says. */
    public String reason() {
      return String.join("; ", problems);
    }
  }

  /**
   * Checks {@code table} against the rules.
   *
   * @param knownSlots the model slots the pipeline serves
   * @throws InvalidRoutingTableException listing every problem
   */
  public static RoutingTable validate(RoutingTable table, Collection<String> knownSlots) {
    List<String> problems = problems(table, knownSlots);
    if (!problems.isEmpty()) {
      throw new InvalidRoutingTableException(table.getVersion(), problems);
    }
    return table;
  }

  /** Every rule {@code table} breaks, empty if none; each names the field and the value. */
  public static List<String> problems(RoutingTable table, Collection<String> knownSlots) {
    Set<String> known = new TreeSet<>(knownSlots);
    List<String> problems = new ArrayList<>();
    if (table.getVersion().isBlank()) {
      problems.add("version: is required");
    }
    if (table.getArmsCount() == 0) {
      problems.add("arms: must list at least one deciding arm, was none");
    }
    Set<String> names = new HashSet<>();
    int sum = 0;
    boolean deciding = false;
    for (int i = 0; i < table.getArmsCount(); i++) {
      RoutingArm arm = table.getArms(i);
      String at = "arms[" + i + "]";
      name(arm.getName(), at, names, problems);
      slot(arm.getModelSlot(), at, known, problems);
      if (arm.getWeight() < 0 || arm.getWeight() > 100) {
        problems.add(at + ".weight: must be between 0 and 100, was " + arm.getWeight());
      }
      sum += arm.getWeight();
      deciding |= arm.getWeight() > 0;
    }
    if (table.getArmsCount() > 0 && sum != 100) {
      problems.add("arms[*].weight: must add up to 100, was " + sum);
    }
    if (table.getArmsCount() > 0 && !deciding) {
      problems.add("arms: leaves no deciding arm (every weight is 0)");
    }
    for (int i = 0; i < table.getShadowsCount(); i++) {
      ShadowArm shadow = table.getShadows(i);
      String at = "shadows[" + i + "]";
      name(shadow.getName(), at, names, problems);
      slot(shadow.getModelSlot(), at, known, problems);
      if (shadow.getMirrorPercent() < 0 || shadow.getMirrorPercent() > 100) {
        problems.add(
            at + ".mirror_percent: must be between 0 and 100, was " + shadow.getMirrorPercent());
      }
    }
    return problems;
  }

  private static void name(String name, String at, Set<String> names, List<String> problems) {
    if (name.isBlank()) {
      problems.add(at + ".name: is required");
    } else if (!names.add(name)) {
      problems.add(at + ".name: must be unique among the arms and shadows, was " + name);
    }
  }

  private static void slot(String slot, String at, Set<String> known, List<String> problems) {
    try {
      Topics.scoring(slot);
    } catch (IllegalArgumentException e) {
      problems.add(at + ".model_slot: " + e.getMessage());
      return;
    }
    if (!known.contains(slot)) {
      problems.add(
          at
              + ".model_slot: unknown slot '"
              + slot
              + "'; the pipeline serves "
              + String.join(", ", known));
    }
  }

  /** Whether two tables route alike: the same arms and shadows, whatever their version. */
  public static boolean sameRouting(RoutingTable a, RoutingTable b) {
    return a.getArmsList().equals(b.getArmsList()) && a.getShadowsList().equals(b.getShadowsList());
  }

  /**
   * The table in the notation of the command line, e.g. {@code champion=champion:70,
   * challenger=challenger:30; shadows candidate=v3:10%}.
   */
  public static String describe(RoutingTable table) {
    StringBuilder text = new StringBuilder();
    for (RoutingArm arm : table.getArmsList()) {
      text.append(text.length() == 0 ? "" : ", ")
          .append(arm.getName())
          .append('=')
          .append(arm.getModelSlot())
          .append(':')
          .append(arm.getWeight());
    }
    if (table.getShadowsCount() > 0) {
      text.append("; shadows");
      for (ShadowArm shadow : table.getShadowsList()) {
        text.append(' ')
            .append(shadow.getName())
            .append('=')
            .append(shadow.getModelSlot())
            .append(':')
            .append(shadow.getMirrorPercent())
            .append('%');
      }
    }
    return text.toString();
  }
}
