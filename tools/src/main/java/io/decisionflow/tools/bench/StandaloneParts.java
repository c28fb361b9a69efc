package io.decisionflow.tools.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a standalone's CPU goes: its threads' CPU time by the part of Pulsar they belong to, told
 * by their names (the broker's network threads, BookKeeper's client and bookie, the table service
 * that holds function state, the JIT compiler, the garbage collector). Read from {@code
 * /proc/<pid>/task} on Linux; elsewhere there are no parts.
 *
 * <p>A thread that ends between two samples takes its CPU time with it, so the parts are counted
 * against the JVM's own total: {@link #coresBetween} gives what no named part accounts for as
 * {@value #OTHER}.
 */
public final class StandaloneParts {

  /** Named parts, in the order a report lists them. */
  public static final List<String> PARTS =
      List.of("broker network I/O", "BookKeeper", "table service", "JIT compiler", "GC");

  /** What no named part accounts for. */
  public static final String OTHER = "other";

  /** Linux's USER_HZ, the unit of a thread's CPU time in {@code /proc}: 100 on every ABI. */
  private static final long TICKS_PER_SECOND = 100;

  private StandaloneParts() {}

  /**
   * The part a thread of the standalone belongs to, by its name as {@code /proc} shows it (at most
   * 15 characters), or null for none of {@link #PARTS}.
   */
  public static String part(String threadName) {
    if (threadName.startsWith("pulsar-io")) {
      return "broker network I/O";
    }
    if (threadName.startsWith("BookKeeperClien")
        || threadName.startsWith("bookie-io")
        || threadName.startsWith("Bookie")
        || threadName.startsWith("ForceWriteThrea")
        || threadName.startsWith("db-storage")) {
      return "BookKeeper";
    }
    if (threadName.startsWith("grpc-default")
        || threadName.startsWith("DLM-")
        || threadName.startsWith("DL-io")
        || threadName.startsWith("io-write-schedu")
        || threadName.startsWith("io-read-schedul")
        || threadName.startsWith("io-checkpoint")) {
      // (RocksDB's own threads serve the bookie's index too: they count as other)
      return "table service";
    }
    if (threadName.contains("CompilerThre")) {
      return "JIT compiler";
    }
    if (threadName.startsWith("GC Thread")
        || threadName.startsWith("G1 ")
        || threadName.startsWith("VM Thread")) {
      return "GC";
    }
    return null;
  }

  /**
   * CPU time so far of process {@code pid}'s threads, by part; empty if {@code proc} (the {@code
   * /proc} file system) does not show them.
   */
  public static Map<String, Duration> sample(Path proc, long pid) {
    Map<String, Duration> parts = new LinkedHashMap<>();
    Path tasks = proc.resolve(Long.toString(pid)).resolve("task");
    try (DirectoryStream<Path> threads = Files.newDirectoryStream(tasks)) {
      for (Path thread : threads) {
        String stat;
        try {
          stat = Files.readString(thread.resolve("stat"));
        } catch (IOException e) {
          continue; // the thread ended meanwhile
        }
        Stat s = Stat.parse(stat);
        String part = s == null ? null : part(s.name());
        if (part != null) {
          parts.merge(part, s.cpu(), Duration::plus);
        }
      }
    } catch (IOException e) {
      return Map.of(); // no such process, or no /proc
    }
    return parts;
  }

  /** A thread's name and CPU time (user + system) from its {@code /proc/.../stat} line. */
  record Stat(String name, Duration cpu) {

    /** The stat line parsed, or null if it is not one. */
    static Stat parse(String line) {
      int open = line.indexOf('(');
      int close = line.lastIndexOf(')');
      if (open < 0 || close < open) {
        return null;
      }
      // after the name: state (field 3) ... utime (field 14) and stime (field 15)
      String[] fields = line.substring(close + 2).trim().split(" ");
      if (fields.length < 13) {
        return null;
      }
      try {
        long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        return new Stat(
            line.substring(open + 1, close), Duration.ofMillis(ticks * 1000 / TICKS_PER_SECOND));
      } catch (NumberFormatException e) {
        return null;
      }
    }
  }

  /**
   * Cores each part used between two samples, and {@value #OTHER}: the JVM's {@code totalCores}
   * over the same window less the named parts. Empty if either sample has no parts.
   */
  public static Map<String, Double> coresBetween(
      Map<String, Duration> before,
      Map<String, Duration> after,
      double wallSeconds,
      double totalCores) {
    Map<String, Double> cores = new LinkedHashMap<>();
    if (before.isEmpty() || after.isEmpty() || wallSeconds <= 0) {
      return cores;
    }
    double named = 0;
    for (String part : PARTS) {
      Duration end = after.getOrDefault(part, Duration.ZERO);
      Duration start = before.getOrDefault(part, Duration.ZERO);
      // a part's threads that ended meanwhile can make it go back: count no less than nothing
      double used = Math.max(0, (end.toNanos() - start.toNanos()) / 1e9 / wallSeconds);
      cores.put(part, used);
      named += used;
    }
    cores.put(OTHER, Math.max(0, totalCores - named));
    return cores;
  }
}
