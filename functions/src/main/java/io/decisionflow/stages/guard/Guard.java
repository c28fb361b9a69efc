package io.decisionflow.stages.guard;

import io.decisionflow.schemas.Decision;
import io.decisionflow.schemas.control.RoutingArm;
import io.decisionflow.schemas.control.RoutingTable;
import io.decisionflow.schemas.control.ShadowArm;
import io.decisionflow.stages.decide.DecideStage;
import io.decisionflow.stages.route.RoutingTables;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Watches the deciding arms of the routing table in force and says when one breaks a bound of
 * {@link GuardConfig}: too many decisions scored by the fallback rules (the score stage turns a
 * model's errors into fallback scores, so scoring errors show here), an alert rate too many times
 * the champion's, or a route-to-score p99 latency too high.
 *
 * <p>Only decisions of the table in force count (by {@code routing_version}): a new table starts
 * every arm's window afresh. Only arms with weight above 0 are judged, never the champion, and only
 * once they have {@code minRecords} decisions in the window. The guard acts at most once per table
 * version, and not again within {@code cooldownSeconds} of its last rollback. Not thread-safe.
 */
public final class Guard {

  /** One bound an arm broke, with the reason naming the KPI, the value and the bound. */
  public record Breach(String arm, String kpi, String reason) {}

  /** The arms to roll back from {@code table}, and why. */
  public record Verdict(RoutingTable table, List<Breach> breaches) {

    /** Every breach's reason, joined by "; ". */
    public String reason() {
      return String.join("; ", breaches.stream().map(Breach::reason).toList());
    }
  }

  /** Publisher named in a rollback table. */
  public static final String PUBLISHED_BY = "guard";

  /** How often the arms are judged at most, in milliseconds of the clock. */
  static final long JUDGE_EVERY_MS = 1_000;

  private final GuardConfig config;
  private final Clock clock;
  private final Map<String, ArmWindow> windows = new LinkedHashMap<>();
  private RoutingTable table;
  private String actedOn;
  private long lastActionMs = Long.MIN_VALUE;
  private long lastJudgedMs = Long.MIN_VALUE;

  public Guard(GuardConfig config, Clock clock) {
    this.config = config;
    this.clock = clock;
  }

  /**
   * The table in force from now on. A table of another version starts the windows afresh; the same
   * version again (e.g. read back after a restart) keeps them.
   */
  public void table(RoutingTable newTable) {
    if (table != null && table.getVersion().equals(newTable.getVersion())) {
      table = newTable;
      return;
    }
    table = newTable;
    windows.clear();
    for (RoutingArm arm : newTable.getArmsList()) {
      windows.put(arm.getName(), new ArmWindow(config.windowSeconds, clock));
    }
    lastJudgedMs = Long.MIN_VALUE;
  }

  /** The table in force, if the guard knows one. */
  public Optional<RoutingTable> table() {
    return Optional.ofNullable(table);
  }

  /**
   * Counts {@code decision} if the table in force made it, and judges the arms at most once a
   * second of the clock.
   *
   * @return the arms to roll back now, if any
   */
  public Optional<Verdict> observe(Decision decision) {
    record(decision);
    return judgeThrottled();
  }

  /** {@link #judge()}, but at most once a second of the clock; empty in between. */
  public Optional<Verdict> judgeThrottled() {
    long now = clock.millis();
    if (lastJudgedMs != Long.MIN_VALUE && now - lastJudgedMs < JUDGE_EVERY_MS) {
      return Optional.empty();
    }
    lastJudgedMs = now;
    return judge();
  }

  /** Counts {@code decision} if the table in force made it; returns whether it counted. */
  public boolean record(Decision decision) {
    if (table == null || !table.getVersion().equals(decision.getRoutingVersion())) {
      return false;
    }
    ArmWindow window = windows.get(decision.getArm());
    if (window == null) {
      return false;
    }
    long time =
        decision.getDecidedAtMs() > 0 ? decision.getDecidedAtMs() : decision.getScoredAtMs();
    long latency =
        decision.getRoutedAtMs() > 0 && decision.getScoredAtMs() >= decision.getRoutedAtMs()
            ? decision.getScoredAtMs() - decision.getRoutedAtMs()
            : -1;
    return window.add(
        time, decision.getFallback(), DecideStage.ALERT.equals(decision.getOutcome()), latency);
  }

  /** What the window of {@code arm} holds now, if the table in force has that arm. */
  public Optional<ArmWindow.Totals> totals(String arm) {
    ArmWindow window = windows.get(arm);
    return window == null ? Optional.empty() : Optional.of(window.totals());
  }

  /**
   * Judges every deciding arm but the champion now. Empty if none breaks a bound, if the table in
   * force has no champion arm, if the guard already acted on this table version, or within the
   * cooldown of its last rollback. A verdict returned counts as acted upon ({@link #failed} undoes
   * that if the rollback could not be published).
   */
  public Optional<Verdict> judge() {
    if (table == null || table.getVersion().equals(actedOn)) {
      return Optional.empty();
    }
    long now = clock.millis();
    if (lastActionMs != Long.MIN_VALUE && now - lastActionMs < config.cooldownSeconds * 1000L) {
      return Optional.empty();
    }
    ArmWindow championWindow = windows.get(config.championArm);
    if (championWindow == null) {
      return Optional.empty();
    }
    ArmWindow.Totals champion = championWindow.totals();
    List<Breach> breaches = new ArrayList<>();
    for (RoutingArm arm : table.getArmsList()) {
      if (arm.getName().equals(config.championArm) || arm.getWeight() == 0) {
        continue;
      }
      ArmWindow.Totals totals = windows.get(arm.getName()).totals();
      if (totals.decisions() < config.minRecords) {
        continue;
      }
      breach(arm.getName(), totals, champion).ifPresent(breaches::add);
    }
    if (breaches.isEmpty()) {
      return Optional.empty();
    }
    actedOn = table.getVersion();
    lastActionMs = now;
    return Optional.of(new Verdict(table, List.copyOf(breaches)));
  }

  /** The rollback of {@code verdict} could not be published: the guard may act on it again. */
  public void failed(Verdict verdict) {
    if (verdict.table().getVersion().equals(actedOn)) {
      actedOn = null;
    }
  }

  /** The first bound the arm breaks: fallback rate, then alert rate, then latency. */
  private Optional<Breach> breach(String arm, ArmWindow.Totals t, ArmWindow.Totals champion) {
    String window = " over the last " + config.windowSeconds + " s";
    double fallbackPercent = t.fallbackRate() * 100;
    if (fallbackPercent > config.maxFallbackRatePercent) {
      return Optional.of(
          new Breach(
              arm,
              "fallback_rate",
              String.format(
                  Locale.ROOT,
                  "arm %s: fallback rate %.1f%%%s (%d of %d decisions) exceeds %s%%",
                  arm,
                  fallbackPercent,
                  window,
                  t.fallbacks(),
                  t.decisions(),
                  number(config.maxFallbackRatePercent))));
    }
    if (champion.decisions() >= config.minRecords && t.alerts() >= config.minAlerts) {
      // A champion without alerts counts as one, so that one alert of an arm is not infinitely
      // many times the champion's rate.
      double championRate =
          Math.max(champion.alerts(), 1) / (double) Math.max(champion.decisions(), 1);
      double ratio = t.alertRate() / championRate;
      if (ratio > config.maxAlertRateRatio) {
        return Optional.of(
            new Breach(
                arm,
                "alert_rate_ratio",
                String.format(
                    Locale.ROOT,
                    "arm %s: alert rate %.1f%%%s (%d of %d decisions) is %.1f times the"
                        + " champion's %.1f%% (%d of %d%s), exceeds %sx",
                    arm,
                    t.alertRate() * 100,
                    window,
                    t.alerts(),
                    t.decisions(),
                    ratio,
                    champion.alertRate() * 100,
                    champion.alerts(),
                    champion.decisions(),
                    champion.alerts() == 0 ? ", counted as 1" : "",
                    number(config.maxAlertRateRatio))));
      }
    }
    boolean championJudged = champion.latencies() >= config.minRecords;
    if (t.latencies() >= config.minRecords
        && t.p99Ms() > config.maxP99LatencyMs
        && (!championJudged || t.p99Ms() > config.maxP99LatencyRatio * champion.p99Ms())) {
      return Optional.of(
          new Breach(
              arm,
              "p99_latency",
              String.format(
                  Locale.ROOT,
                  "arm %s: p99 latency route to score %d ms%s (%d decisions) exceeds %d ms%s",
                  arm,
                  t.p99Ms(),
                  window,
                  t.latencies(),
                  config.maxP99LatencyMs,
                  championJudged
                      ? String.format(
                          Locale.ROOT,
                          " and %sx the champion's %d ms",
                          number(config.maxP99LatencyRatio),
                          champion.p99Ms())
                      : "")));
    }
    return Optional.empty();
  }

  /**
   * The table that rolls back the verdict's arms: each one's weight moves to the champion arm
   * (weights still add up to 100, table order kept, shadows kept), version {@code
   * <old>-rollback-<arm>[-<arm>...]}, published by {@value #PUBLISHED_BY} with the verdict's
   * reason, checked by {@link RoutingTables#validate} against the slots of the table.
   *
   * @throws IllegalArgumentException if the table has no champion arm
   */
  public RoutingTable rollback(Verdict verdict) {
    RoutingTable old = verdict.table();
    Set<String> rolledBack = new LinkedHashSet<>();
    verdict.breaches().forEach(b -> rolledBack.add(b.arm()));
    rolledBack.remove(config.championArm);
    int moved = 0;
    for (RoutingArm arm : old.getArmsList()) {
      if (rolledBack.contains(arm.getName())) {
        moved += arm.getWeight();
      }
    }
    RoutingTable.Builder next =
        old.toBuilder()
            .clearArms()
            .setVersion(old.getVersion() + "-rollback-" + String.join("-", rolledBack))
            .setPublishedAtMs(clock.millis())
            .setPublishedBy(PUBLISHED_BY)
            .setReason(verdict.reason());
    boolean championFound = false;
    for (RoutingArm arm : old.getArmsList()) {
      if (arm.getName().equals(config.championArm)) {
        championFound = true;
        next.addArms(arm.toBuilder().setWeight(arm.getWeight() + moved));
      } else if (rolledBack.contains(arm.getName())) {
        next.addArms(arm.toBuilder().setWeight(0));
      } else {
        next.addArms(arm);
      }
    }
    if (!championFound) {
      throw new IllegalArgumentException(
          "routing table '"
              + old.getVersion()
              + "' has no arm '"
              + config.championArm
              + "' to take the weight of "
              + rolledBack);
    }
    Set<String> slots = new LinkedHashSet<>();
    old.getArmsList().forEach(a -> slots.add(a.getModelSlot()));
    for (ShadowArm shadow : old.getShadowsList()) {
      slots.add(shadow.getModelSlot());
    }
    return RoutingTables.validate(next.build(), slots);
  }

  private static String number(double value) {
    return value == Math.rint(value) && Math.abs(value) < 1e15
        ? Long.toString((long) value)
        : Double.toString(value);
  }
}
