package io.decisionflow.tools;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Every record of a latency run as a CSV line ({@code path,window,measured,sent_ms,latency_us}), so
 * that a tail can be lined up with other logs of the same machine (GC, CPU): the intended send time
 * is in epoch milliseconds. A log opened without a file takes the records and writes nothing.
 */
final class LatencyLog implements AutoCloseable {

  static final String HEADER = "path,window,measured,sent_ms,latency_us";

  private final BufferedWriter out;
  private final long epochMinusNanoTime;

  private LatencyLog(BufferedWriter out) {
    this.out = out;
    this.epochMinusNanoTime =
        TimeUnit.MILLISECONDS.toNanos(System.currentTimeMillis()) - System.nanoTime();
  }

  /** A log writing to {@code file} (replaced), or to nothing when {@code file} is null. */
  static LatencyLog open(Path file) throws IOException {
    if (file == null) {
      return new LatencyLog(null);
    }
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    BufferedWriter out = Files.newBufferedWriter(file);
    out.write(HEADER);
    out.newLine();
    return new LatencyLog(out);
  }

  /**
   * One window's records.
   *
   * @param sentNanos each record's intended send time ({@link System#nanoTime()})
   * @param latencyMicros each record's latency, same order
   */
  void window(String path, int window, boolean measured, long[] sentNanos, long[] latencyMicros)
      throws IOException {
    if (out == null) {
      return;
    }
    String prefix = path + "," + window + "," + measured + ",";
    for (int i = 0; i < sentNanos.length; i++) {
      out.write(prefix);
      out.write(Long.toString(TimeUnit.NANOSECONDS.toMillis(sentNanos[i] + epochMinusNanoTime)));
      out.write(',');
      out.write(Long.toString(latencyMicros[i]));
      out.newLine();
    }
  }

  @Override
  public void close() throws IOException {
    if (out != null) {
      out.close();
    }
  }
}
