package io.decisionflow.tools.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * CPU time of the JVMs a run depends on: the function instances of a namespace (process runtime:
 * one JVM each, found by the function details the worker passes on their command line), the
 * standalone, and this process. Two samples give each JVM's CPU use over the window between them,
 * in cores (1.0 = one core busy all the time); the standalone's also by part ({@link
 * StandaloneParts}).
 */
public final class JvmCpu {

  /** One sample: CPU time by JVM name, and the standalone's by part (empty if not known). */
  public record Sample(
      Map<String, Duration> cpu, Map<String, Duration> standaloneParts, long nanoTime) {}

  private static final String STANDALONE = "standalone";

  private final Function<ProcessHandle, Optional<String>> namer;

  private JvmCpu(Function<ProcessHandle, Optional<String>> namer) {
    this.namer = namer;
  }

  /**
   * The instances of the functions of {@code tenant/namespace} (named {@code <function>#<id>}), the
   * standalone ({@code standalone}) and this process ({@code load generator}).
   */
  public static JvmCpu of(String tenant, String namespace) {
    long self = ProcessHandle.current().pid();
    String prefix = "\"tenant\":\"" + tenant + "\",\"namespace\":\"" + namespace + "\",\"name\":\"";
    return new JvmCpu(
        process -> {
          if (process.pid() == self) {
            return Optional.of("load generator");
          }
          String command = String.join(" ", process.info().arguments().orElse(new String[0]));
          if (command.contains("PulsarStandaloneStarter")) {
            return Optional.of(STANDALONE);
          }
          int at = command.indexOf(prefix);
          if (!command.contains("JavaInstanceMain") || at < 0) {
            return Optional.empty();
          }
          int start = at + prefix.length();
          String name = command.substring(start, command.indexOf('"', start));
          String id = argument(command, "--instance_id");
          return Optional.of(name + "#" + (id == null ? "0" : id));
        });
  }

  private static String argument(String command, String flag) {
    int at = command.indexOf(flag + " ");
    if (at < 0) {
      return null;
    }
    int start = at + flag.length() + 1;
    int end = command.indexOf(' ', start);
    return command.substring(start, end < 0 ? command.length() : end);
  }

  /** CPU time so far of every JVM this counts, and of the standalone's parts. */
  public Sample sample() {
    Map<String, Duration> cpu = new LinkedHashMap<>();
    Map<String, Duration> parts = new LinkedHashMap<>();
    ProcessHandle.allProcesses()
        .forEach(
            p ->
                namer
                    .apply(p)
                    .ifPresent(
                        name -> {
                          p.info()
                              .totalCpuDuration()
                              .ifPresent(d -> cpu.merge(name, d, Duration::plus));
                          if (name.equals(STANDALONE)) {
                            // summed over standalones, like their CPU under one name
                            StandaloneParts.sample(Path.of("/proc"), p.pid())
                                .forEach((part, d) -> parts.merge(part, d, Duration::plus));
                          }
                        }));
    return new Sample(cpu, parts, System.nanoTime());
  }

  /**
   * Cores each part of the standalone used between two samples ({@link
   * StandaloneParts#coresBetween}), given {@code cores}, what {@link #coresBetween} gave for the
   * same samples; empty if a sample has no parts.
   */
  public static Map<String, Double> standaloneCoresBetween(
      Sample before, Sample after, Map<String, Double> cores) {
    Double total = cores.get(STANDALONE);
    if (total == null) {
      return Map.of();
    }
    return StandaloneParts.coresBetween(
        before.standaloneParts(),
        after.standaloneParts(),
        (after.nanoTime() - before.nanoTime()) / 1e9,
        total);
  }

  /**
   * Cores each JVM used between two samples, by name; a JVM seen in one sample only is left out (it
   * started or stopped inside the window).
   */
  public static Map<String, Double> coresBetween(Sample before, Sample after) {
    double wallSeconds = (after.nanoTime() - before.nanoTime()) / 1e9;
    Map<String, Double> cores = new LinkedHashMap<>();
    if (wallSeconds <= 0) {
      return cores;
    }
    List<String> names = after.cpu().keySet().stream().sorted().toList();
    for (String name : names) {
      Duration start = before.cpu().get(name);
      if (start != null) {
        cores.put(name, (after.cpu().get(name).toNanos() - start.toNanos()) / 1e9 / wallSeconds);
      }
    }
    return cores;
  }
}
