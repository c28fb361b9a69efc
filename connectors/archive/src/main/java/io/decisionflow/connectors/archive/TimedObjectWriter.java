package io.decisionflow.connectors.archive;

import io.decisionflow.metrics.InstanceMetrics;
import io.prometheus.client.Counter;
import io.prometheus.client.Histogram;
import java.util.concurrent.CompletableFuture;

/**
 * Measures the PUTs of an {@link ObjectWriter}: {@code decisionflow_archive_put_seconds} (until the
 * object is durable, or the PUT failed) and {@code decisionflow_archive_bytes_total} (bytes of the
 * objects stored, compressed).
 */
final class TimedObjectWriter implements ObjectWriter {

  private final ObjectWriter writer;
  private final Histogram.Child puts;
  private final Counter.Child bytes;

  TimedObjectWriter(ObjectWriter writer, InstanceMetrics metrics) {
    this.writer = writer;
    puts =
        metrics
            .latency(
                "decisionflow_archive_put_seconds",
                "Time to store one object, until durable or failed")
            .labels();
    bytes =
        metrics
            .counter("decisionflow_archive_bytes_total", "Bytes of the objects stored (gzip)")
            .labels();
  }

  @Override
  public CompletableFuture<Void> put(String key, byte[] body) {
    long started = System.nanoTime();
    return writer
        .put(key, body)
        .whenComplete(
            (v, failure) -> {
              puts.observe((System.nanoTime() - started) / 1e9);
              if (failure == null) {
                bytes.inc(body.length);
              }
            });
  }

  @Override
  public void close() {
    writer.close();
  }
}
