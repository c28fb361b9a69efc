package io.decisionflow.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class JvmCpuTest {

  @Test
  void coresAreCpuTimeOverWallTimeForJvmsInBothSamples() {
    JvmCpu.Sample before =
        new JvmCpu.Sample(
            Map.of("enrich#0", Duration.ofSeconds(10), "standalone", Duration.ofSeconds(100)),
            Map.of(),
            0);
    JvmCpu.Sample after =
        new JvmCpu.Sample(
            Map.of(
                "enrich#0", Duration.ofSeconds(15),
                "standalone", Duration.ofSeconds(102),
                "decide#0", Duration.ofSeconds(3)),
            Map.of(),
            10_000_000_000L);

    Map<String, Double> cores = JvmCpu.coresBetween(before, after);

    assertThat(cores).containsOnlyKeys("enrich#0", "standalone");
    assertThat(cores.get("enrich#0")).isCloseTo(0.5, Offset.offset(1e-9));
    assertThat(cores.get("standalone")).isCloseTo(0.2, Offset.offset(1e-9));
  }

  @Test
  void theStandalonesPartsAreCountedAgainstItsOwnTotal() {
    JvmCpu.Sample before =
        new JvmCpu.Sample(
            Map.of("standalone", Duration.ofSeconds(100)),
            Map.of("table service", Duration.ofSeconds(20)),
            0);
    JvmCpu.Sample after =
        new JvmCpu.Sample(
            Map.of("standalone", Duration.ofSeconds(110)),
            Map.of("table service", Duration.ofSeconds(24)),
            10_000_000_000L);

    Map<String, Double> parts =
        JvmCpu.standaloneCoresBetween(before, after, JvmCpu.coresBetween(before, after));

    assertThat(parts.get("table service")).isCloseTo(0.4, Offset.offset(1e-9));
    assertThat(parts.get(StandaloneParts.OTHER)).isCloseTo(0.6, Offset.offset(1e-9));
    assertThat(
            JvmCpu.standaloneCoresBetween(
                new JvmCpu.Sample(Map.of(), Map.of(), 0),
                after,
                JvmCpu.coresBetween(new JvmCpu.Sample(Map.of(), Map.of(), 0), after)))
        .isEmpty();
  }

  @Test
  void thisProcessIsCountedAsTheLoadGenerator() {
    JvmCpu.Sample sample = JvmCpu.of("no-such-tenant", "ns").sample();

    assertThat(sample.cpu()).containsKey("load generator");
    assertThat(sample.cpu()).doesNotContainKey("enrich#0");
  }
}
