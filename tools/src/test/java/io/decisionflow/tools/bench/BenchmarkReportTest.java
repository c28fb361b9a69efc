package io.decisionflow.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchmarkReportTest {

  private static final BrokerCeiling.Result CEILING =
      new BrokerCeiling.Result(118_000, 1_180_000, 1_180_000, 120, 50, 600, 900);

  private static BenchmarkReport.Level level(String label, int rate, double p99) {
    return level(label, rate, p99, Map.of());
  }

  private static BenchmarkReport.Level level(
      String label, int rate, double p99, Map<String, Double> standaloneParts) {
    DecisionTally.Result r =
        new DecisionTally.Result(
            rate * 20L,
            rate * 20L,
            0,
            new Percentiles(rate * 20L, p99 / 2, p99 * 0.8, p99, p99 * 2),
            40,
            10,
            20,
            0,
            Map.of());
    return new BenchmarkReport.Level(
        label,
        new RateSearch.Step(rate, r, 0, null),
        Map.of("enrich#0", 0.5, "decide#0", 0.25, "standalone", 0.75, "load generator", 0.1),
        standaloneParts);
  }

  @Test
  void theCeilingRatioDividesTheCeilingByThePublishHops() {
    // 118k/s sustained over 6 hops = 19,667/s per hop; 11,800/s is 0.6 of it
    assertThat(BenchmarkReport.ceilingRatio(11_800, 118_000, 6)).isEqualTo(0.6);
    assertThat(BenchmarkReport.ceilingRatio(100, 0, 6)).isNaN();
  }

  @Test
  void rendersARowPerLoadAndChecksTheTargets() {
    BenchmarkReport.Topology naive =
        new BenchmarkReport.Topology(
            "naive", 6, 400, "", List.of(level("25%", 100, 90), level("80%", 320, 900)));
    BenchmarkReport.Topology chained =
        new BenchmarkReport.Topology(
            "chained",
            6,
            4_000,
            "",
            List.of(level("25%", 1_000, 20), level("80%", 3_200, 80), level("naive 80%", 320, 12)));

    String table = BenchmarkReport.render(List.of("run: test"), CEILING, List.of(naive, chained));

    assertThat(table)
        .contains(
            "| chained | 4000 | 0.20 | 10.0x | 25% | 1000 | 20000/20000 | 10.0 | 16.0 | 20.0 | 40.0 | 0.75 |"
                + " 0.75 | 0.10 | 0.25 | 0.50 |")
        .contains("| naive | 400 | 0.02 | - | 25% | 100 |")
        .contains("- chained at 320/s: ")
        .contains(
            "chained max rate 4000/s >= 0.6 x (broker ceiling 118000 / 6 hops) = 11800/s: NOT met")
        .contains("chained p99 at 25% of max (1000/s) 20.0 ms <= 25 ms: met")
        .contains("chained max rate 4000/s >= 3 x naive 400/s: met")
        .contains("chained p99 12.0 ms <= 1/3 of naive p99 900 ms at the same rate (320/s): met")
        .contains("fused max rate >= 2.5 x chained: not measured")
        .doesNotContain("Where the standalone's CPU goes");
  }

  @Test
  void listsWhereTheStandalonesCpuGoesAtEachLoadWhereItIsKnown() {
    Map<String, Double> parts = new LinkedHashMap<>();
    parts.put("broker network I/O", 0.2);
    parts.put("table service", 0.3);
    parts.put(StandaloneParts.OTHER, 0.25);
    BenchmarkReport.Topology chained =
        new BenchmarkReport.Topology(
            "chained",
            6,
            4_000,
            "",
            List.of(level("25%", 1_000, 20, parts), level("80%", 3_200, 80, Map.of())));

    String table = BenchmarkReport.render(List.of("run: test"), CEILING, List.of(chained));

    assertThat(table)
        .contains(
            "Where the standalone's CPU goes (cores, by its threads; a thread that ended during"
                + " the run counts as other):\n\n"
                + "- chained at 1000/s: broker network I/O 0.20, table service 0.30, other 0.25\n\n");
  }

  @Test
  void withoutTheChainedTopologyNoTargetIsChecked() {
    BenchmarkReport.Topology naive =
        new BenchmarkReport.Topology("naive", 6, 400, "", List.of(level("25%", 100, 90)));

    assertThat(BenchmarkReport.targets(CEILING, List.of(naive)))
        .containsExactly("chained topology not measured: no target checked");
  }
}
