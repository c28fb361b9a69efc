package io.decisionflow.tools.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StandalonePartsTest {

  @Test
  void threadsBelongToPartsByTheirNames() {
    assertThat(StandaloneParts.part("pulsar-io-3-1")).isEqualTo("broker network I/O");
    assertThat(StandaloneParts.part("BookKeeperClien")).isEqualTo("BookKeeper");
    assertThat(StandaloneParts.part("bookie-io-1-1")).isEqualTo("BookKeeper");
    assertThat(StandaloneParts.part("BookieJournal-3")).isEqualTo("BookKeeper");
    assertThat(StandaloneParts.part("grpc-default-wo")).isEqualTo("table service");
    assertThat(StandaloneParts.part("DLM-/stream/sto")).isEqualTo("table service");
    assertThat(StandaloneParts.part("io-write-schedu")).isEqualTo("table service");
    assertThat(StandaloneParts.part("C2 CompilerThre")).isEqualTo("JIT compiler");
    assertThat(StandaloneParts.part("GC Thread#0")).isEqualTo("GC");
    assertThat(StandaloneParts.part("broker-topic-wo")).isNull();
  }

  @Test
  void readsEachThreadsUserAndSystemTimeFromProc(@TempDir Path proc) throws IOException {
    // utime and stime are the 14th and 15th fields, in ticks of 10 ms; a name may hold spaces
    thread(proc, 42, 1, "pulsar-io-3-1", 150, 50);
    thread(proc, 42, 2, "pulsar-io-3-2", 100, 0);
    thread(proc, 42, 3, "C2 CompilerThre", 30, 20);
    thread(proc, 42, 4, "main", 999, 999);

    Map<String, Duration> parts = StandaloneParts.sample(proc, 42);

    assertThat(parts)
        .containsOnly(
            Map.entry("broker network I/O", Duration.ofSeconds(3)),
            Map.entry("JIT compiler", Duration.ofMillis(500)));
    assertThat(StandaloneParts.sample(proc, 7)).isEmpty();
  }

  @Test
  void whatNoPartAccountsForIsOther() {
    Map<String, Duration> before = Map.of("broker network I/O", Duration.ofSeconds(10));
    Map<String, Duration> after =
        Map.of(
            "broker network I/O", Duration.ofSeconds(12), "table service", Duration.ofSeconds(3));

    // 10 s of wall time, the JVM used 0.8 cores: 0.2 broker, 0.3 table service, 0.3 other
    Map<String, Double> cores = StandaloneParts.coresBetween(before, after, 10, 0.8);

    assertThat(cores.keySet())
        .containsExactly(
            "broker network I/O",
            "BookKeeper",
            "table service",
            "JIT compiler",
            "GC",
            StandaloneParts.OTHER);
    assertThat(cores.get("broker network I/O")).isCloseTo(0.2, within(1e-9));
    assertThat(cores.get("table service")).isCloseTo(0.3, within(1e-9));
    assertThat(cores.get("BookKeeper")).isZero();
    assertThat(cores.get(StandaloneParts.OTHER)).isCloseTo(0.3, within(1e-9));
    assertThat(StandaloneParts.coresBetween(Map.of(), after, 10, 0.8)).isEmpty();
  }

  private static void thread(Path proc, int pid, int tid, String name, long utime, long stime)
      throws IOException {
    Path task = Files.createDirectories(proc.resolve(pid + "/task/" + tid));
    Files.writeString(
        task.resolve("stat"),
        tid
            + " ("
            + name
            + ") S 1 1 1 0 -1 4194368 100 0 0 0 "
            + utime
            + " "
            + stime
            + " 0 0 20 0 30 0 100 0 0\n");
  }
}
