package io.decisionflow.functions.probe;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pulsar.functions.api.Context;
import org.apache.pulsar.functions.api.Function;

/**
 * Measures the capacity of Pulsar Functions state (the BookKeeper table service) from inside a
 * function instance, where the pipeline's enrich stage uses it. Each input is a command such as
 * {@code updates=2000 inFlight=16 keys=1000 valueBytes=64}; the function writes that many values
 * with {@code putStateAsync}, never more than {@code inFlight} outstanding, over {@code keys}
 * distinct keys, and returns one line: updates/s and the latency of each update (p50, p99, max).
 * With {@code mode=get} it reads the keys back instead. Not part of the pipeline: the {@code
 * decisionflow bench-state} command deploys it, sends the commands, and removes it.
 */
public class StateProbeFunction implements Function<String, String> {

  @Override
  public String process(String command, Context context) throws Exception {
    Map<String, String> args = ProbeLines.parse(command);
    int updates = Integer.parseInt(args.getOrDefault("updates", "1000"));
    int inFlight = Integer.parseInt(args.getOrDefault("inFlight", "1"));
    int keys = Integer.parseInt(args.getOrDefault("keys", "1000"));
    int valueBytes = Integer.parseInt(args.getOrDefault("valueBytes", "64"));
    boolean get = "get".equals(args.getOrDefault("mode", "put"));
    String prefix = args.getOrDefault("prefix", "probe");
    if (updates < 1 || inFlight < 1 || keys < 1 || valueBytes < 1) {
      return "error: updates, inFlight, keys and valueBytes must be >= 1, was " + command;
    }
    byte[] value = new byte[valueBytes];
    Arrays.fill(value, (byte) 7);
    long[] latencyNanos = new long[updates];
    Semaphore window = new Semaphore(inFlight);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    long start = System.nanoTime();
    for (int i = 0; i < updates && failure.get() == null; i++) {
      window.acquire();
      int n = i;
      String key = prefix + "-" + (i % keys);
      long sent = System.nanoTime();
      CompletableFuture<?> call =
          get ? context.getStateAsync(key) : context.putStateAsync(key, ByteBuffer.wrap(value));
      call.whenComplete(
          (ok, error) -> {
            latencyNanos[n] = System.nanoTime() - sent;
            if (error != null) {
              failure.compareAndSet(null, error);
            }
            window.release();
          });
    }
    if (!window.tryAcquire(inFlight, 5, TimeUnit.MINUTES)) {
      return "error: calls still outstanding after 5 minutes";
    }
    long elapsed = System.nanoTime() - start;
    if (failure.get() != null) {
      return "error: " + failure.get();
    }
    Arrays.sort(latencyNanos);
    return String.format(
        Locale.ROOT,
        "mode=%s updates=%d inFlight=%d keys=%d valueBytes=%d seconds=%.3f perSecond=%.0f"
            + " p50Ms=%.2f p99Ms=%.2f maxMs=%.2f",
        get ? "get" : "put",
        updates,
        inFlight,
        keys,
        valueBytes,
        elapsed / 1e9,
        updates / (elapsed / 1e9),
        latencyNanos[(int) (updates * 0.50)] / 1e6,
        latencyNanos[Math.min(updates - 1, (int) (updates * 0.99))] / 1e6,
        latencyNanos[updates - 1] / 1e6);
  }
}
