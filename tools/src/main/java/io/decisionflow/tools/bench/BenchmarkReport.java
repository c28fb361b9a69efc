package io.decisionflow.tools.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The benchmark's table: per topology its maximum sustainable rate, the ceiling ratio (max rate /
 * (broker ceiling / publish hops)), its latency and CPU per JVM at fractions of that rate, the
 * alerts' precision and recall against the generator's labels, and the issue's targets checked.
 */
public final class BenchmarkReport {

  /** The topologies the benchmark knows, with their publish hops per transaction. */
  public static final Map<String, Integer> PUBLISH_HOPS =
      Map.of(
          // generator -> transactions -> enriched -> scoring-<slot> -> scores -> decisions,
          // plus fraud-alerts or transactions-ok
          "chained", 6,
          "naive", 6,
          // generator -> transactions -> decisions, plus fraud-alerts or transactions-ok
          "fused", 3);

  /**
   * One latency measurement at a fixed rate, with the CPU each JVM used meanwhile and the
   * standalone's by part ({@link StandaloneParts}; empty where not known).
   */
  public record Level(
      String label,
      RateSearch.Step step,
      Map<String, Double> cpuCores,
      Map<String, Double> standaloneParts) {

    /** Cores of the function instances together. */
    double functionCores() {
      return cpuCores.entrySet().stream()
          .filter(e -> e.getKey().contains("#"))
          .mapToDouble(Map.Entry::getValue)
          .sum();
    }
  }

  /** What the benchmark measured of one topology. */
  public record Topology(
      String name, int publishHops, int maxRate, String rateNote, List<Level> levels) {

    /** The level measured at {@code label}, or null. */
    public Level level(String label) {
      return levels.stream().filter(l -> l.label().equals(label)).findFirst().orElse(null);
    }
  }

  private BenchmarkReport() {}

  /** A list item: {@code topology at <rate>/s: name cores, name cores, ...}. */
  private static void coresLine(
      StringBuilder s, String topology, int rate, Map<String, Double> cores) {
    List<String> parts = new ArrayList<>();
    cores.forEach((name, used) -> parts.add(fmt("%s %.2f", name, used)));
    s.append("- ")
        .append(topology)
        .append(" at ")
        .append(rate)
        .append("/s: ")
        .append(String.join(", ", parts))
        .append('\n');
  }

  /** Max rate over the ceiling's share per publish hop. */
  public static double ceilingRatio(double maxRate, double ceilingPerSecond, int publishHops) {
    return ceilingPerSecond <= 0 ? Double.NaN : maxRate / (ceilingPerSecond / publishHops);
  }

  /**
   * The report, in Markdown.
   *
   * @param header lines about the run (command, machine, message size)
   */
  public static String render(
      List<String> header, BrokerCeiling.Result ceiling, List<Topology> topologies) {
    StringBuilder s = new StringBuilder("# decisionflow benchmark\n\n");
    header.forEach(line -> s.append(line).append("  \n"));
    s.append('\n').append(ceiling.format()).append("\n\n");
    Topology naive = find(topologies, "naive");
    s.append(
        "| topology | max rate/s | ceiling ratio | vs naive | load | rate/s | decided | p50 ms | p95 ms |"
            + " p99 ms | max ms | CPU functions | CPU standalone | CPU generator | precision |"
            + " recall |\n");
    s.append("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Topology t : topologies) {
      String ratio = fmt("%.2f", ceilingRatio(t.maxRate(), ceiling.perSecond(), t.publishHops()));
      String vsNaive =
          naive == null || t == naive || naive.maxRate() == 0
              ? "-"
              : fmt("%.1fx", (double) t.maxRate() / naive.maxRate());
      boolean first = true;
      for (Level l : t.levels()) {
        DecisionTally.Result r = l.step().result();
        Percentiles p = r.latency();
        s.append(
            String.format(
                Locale.ROOT,
                "| %s | %s | %s | %s | %s | %d | %d/%d | %s | %s | %s | %s | %.2f | %.2f | %.2f | %s | %s"
                    + " |%n",
                first ? t.name() : "",
                first
                    ? t.maxRate() + (t.rateNote().isEmpty() ? "" : " (" + t.rateNote() + ")")
                    : "",
                first ? ratio : "",
                first ? vsNaive : "",
                l.label(),
                l.step().rate(),
                r.decided(),
                r.sent(),
                Percentiles.f(p.p50()),
                Percentiles.f(p.p95()),
                Percentiles.f(p.p99()),
                Percentiles.f(p.max()),
                l.functionCores(),
                l.cpuCores().getOrDefault("standalone", 0.0),
                l.cpuCores().getOrDefault("load generator", 0.0),
                fmt("%.2f", r.precision()),
                fmt("%.2f", r.recall())));
        first = false;
      }
    }
    s.append("\nCPU per JVM (cores) at the highest load measured:\n\n");
    for (Topology t : topologies) {
      if (t.levels().isEmpty()) {
        continue;
      }
      Level top = t.levels().get(t.levels().size() - 1);
      coresLine(s, t.name(), top.step().rate(), top.cpuCores());
    }
    if (topologies.stream()
        .flatMap(t -> t.levels().stream())
        .anyMatch(l -> !l.standaloneParts().isEmpty())) {
      s.append(
          "\nWhere the standalone's CPU goes (cores, by its threads; a thread that ended during"
              + " the run counts as other):\n\n");
      for (Topology t : topologies) {
        for (Level l : t.levels()) {
          if (!l.standaloneParts().isEmpty()) {
            coresLine(s, t.name(), l.step().rate(), l.standaloneParts());
          }
        }
      }
    }
    s.append(
        "\nWhere the time goes at the lowest load measured (from each decision's lineage):\n\n");
    for (Topology t : topologies) {
      if (t.levels().isEmpty() || t.levels().get(0).step().result().hops().isEmpty()) {
        continue;
      }
      Level low = t.levels().get(0);
      List<String> parts = new ArrayList<>();
      low.step()
          .result()
          .hops()
          .forEach(
              (hop, p) ->
                  parts.add(
                      hop + " p50 " + Percentiles.f(p.p50()) + " / p99 " + Percentiles.f(p.p99())));
      s.append("- ")
          .append(t.name())
          .append(" at ")
          .append(low.step().rate())
          .append("/s (ms): ")
          .append(String.join(", ", parts))
          .append('\n');
    }
    s.append("\nTargets:\n\n");
    targets(ceiling, topologies).forEach(line -> s.append("- ").append(line).append('\n'));
    return s.toString();
  }

  /** The issue's targets, each with the measured numbers and met / NOT met / not measured. */
  static List<String> targets(BrokerCeiling.Result ceiling, List<Topology> topologies) {
    List<String> lines = new ArrayList<>();
    Topology chained = find(topologies, "chained");
    Topology naive = find(topologies, "naive");
    Topology fused = find(topologies, "fused");
    if (chained == null) {
      lines.add("chained topology not measured: no target checked");
      return lines;
    }
    double perHop = ceiling.perSecond() / chained.publishHops();
    lines.add(
        verdict(
            chained.maxRate() >= 0.6 * perHop,
            fmt(
                "chained max rate %d/s >= 0.6 x (broker ceiling %.0f / %d hops) = %.0f/s",
                chained.maxRate(), ceiling.perSecond(), chained.publishHops(), 0.6 * perHop)));
    Level quarter = chained.level("25%");
    lines.add(
        quarter == null
            ? "chained p99 at 25% of max: not measured"
            : verdict(
                quarter.step().result().latency().p99() <= 25,
                fmt(
                    "chained p99 at 25%% of max (%d/s) %s ms <= 25 ms",
                    quarter.step().rate(),
                    Percentiles.f(quarter.step().result().latency().p99()))));
    if (naive == null) {
      lines.add("against the naive baseline: not measured");
    } else {
      lines.add(
          verdict(
              chained.maxRate() >= 3L * naive.maxRate(),
              fmt("chained max rate %d/s >= 3 x naive %d/s", chained.maxRate(), naive.maxRate())));
      Level naiveTop =
          naive.levels().isEmpty() ? null : naive.levels().get(naive.levels().size() - 1);
      Level same = naiveTop == null ? null : chained.level("naive " + naiveTop.label());
      if (same == null) {
        lines.add("chained p99 against naive p99 at the same rate: not measured");
      } else {
        double c = same.step().result().latency().p99();
        double n = naiveTop.step().result().latency().p99();
        lines.add(
            verdict(
                c <= n / 3,
                fmt(
                    "chained p99 %s ms <= 1/3 of naive p99 %s ms at the same rate (%d/s)",
                    Percentiles.f(c), Percentiles.f(n), naiveTop.step().rate())));
      }
    }
    lines.add(
        fused == null
            ? "fused max rate >= 2.5 x chained: not measured (no fused topology)"
            : verdict(
                fused.maxRate() >= 2.5 * chained.maxRate(),
                fmt(
                    "fused max rate %d/s >= 2.5 x chained %d/s",
                    fused.maxRate(), chained.maxRate())));
    return lines;
  }

  private static String verdict(boolean met, String what) {
    return what + ": " + (met ? "met" : "NOT met");
  }

  private static Topology find(List<Topology> topologies, String name) {
    return topologies.stream().filter(t -> t.name().equals(name)).findFirst().orElse(null);
  }

  private static String fmt(String format, Object... args) {
    if (args.length == 1 && args[0] instanceof Double d && d.isNaN()) {
      return "-";
    }
    return String.format(Locale.ROOT, format, args);
  }
}
