package io.decisionflow.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short run of the benchmark command, through its jar, on the shared standalone: every part of it
 * (the broker ceiling with pulsar-perf, deploying the chained topology, open-loop steps, latency,
 * CPU per JVM, the table and its targets) runs, so that the benchmark cannot rot. It asserts what
 * the run measured, never how fast.
 */
class BenchmarkSmokeIT {

  @TempDir Path dir;

  @Test
  void theBenchmarkMeasuresTheChainedTopologyAndWritesItsTable() throws Exception {
    PulsarStandalone pulsar = PulsarStandalone.get();
    Path project = pulsar.projectDir();
    String tenant = "it-bench-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
    Path out = dir.resolve("benchmark.md");
    Path log = dir.resolve("benchmark.log");
    Process process =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar",
                project.resolve("tools/target/decisionflow-tools.jar").toString(),
                "benchmark",
                "--smoke",
                "--tenant",
                tenant,
                "--out",
                out.toString(),
                "--project-dir",
                project.toString(),
                "--service-url",
                PulsarStandalone.SERVICE_URL,
                "--admin-url",
                PulsarStandalone.ADMIN_URL)
            .directory(project.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    boolean finished = process.waitFor(10, TimeUnit.MINUTES);
    if (!finished) {
      process.destroyForcibly();
    }
    String output = Files.readString(log);
    System.out.println(output);
    assertThat(finished).as("benchmark finished in 10 min").isTrue();
    assertThat(process.exitValue()).as("exit code; output:%n%s", output).isZero();

    String table = Files.readString(out);
    assertThat(table).contains("broker ceiling: ").contains("Targets:");
    double ceiling =
        Double.parseDouble(table.replaceAll("(?s).*broker ceiling: ([0-9.]+) msg/s.*", "$1"));
    assertThat(ceiling).isPositive();

    List<List<String>> rows =
        table
            .lines()
            .filter(l -> l.startsWith("| chained |") || l.startsWith("|  |"))
            .map(l -> Arrays.stream(l.split("\\|")).map(String::trim).skip(1).toList())
            .toList();
    // 25, 50 and 80 % of the fixed rate of 40/s
    assertThat(rows).extracting(r -> r.get(4)).containsExactly("25%", "50%", "80%");
    assertThat(rows).extracting(r -> r.get(5)).containsExactly("10", "20", "32");
    assertThat(rows.get(0).get(1)).isEqualTo("40 (fixed)");
    for (List<String> row : rows) {
      String[] decided = row.get(6).split("/");
      assertThat(decided[0]).as("every transaction decided: %s", row).isEqualTo(decided[1]);
      assertThat(Long.parseLong(decided[1])).isPositive();
      double p50 = Double.parseDouble(row.get(7));
      double p99 = Double.parseDouble(row.get(9));
      assertThat(p50).isPositive().isLessThanOrEqualTo(p99);
      // CPU of the function instances, measured while the step ran
      assertThat(Double.parseDouble(row.get(11))).isPositive();
    }
    assertThat(table).containsPattern("- chained at 32/s: .*enrich#0 [0-9.]+.*standalone [0-9.]+");
    // The benchmark removes what it deployed
    assertThat(pulsar.admin().functions().getFunctions(tenant, "fraud")).isEmpty();
  }
}
