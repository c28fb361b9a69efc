package io.decisionflow.models.bench;

import io.decisionflow.models.synthetic.TransactionGenerator;
import io.decisionflow.schemas.EnrichedTransaction;
import io.decisionflow.schemas.Score;
import io.decisionflow.schemas.ScoringRequest;
import io.decisionflow.schemas.Transaction;
import io.decisionflow.schemas.state.CardState;
import io.decisionflow.stages.enrich.EnrichStage;
import io.decisionflow.stages.enrich.FeatureSpec;
import io.decisionflow.stages.score.MicroBatchTimer;
import io.decisionflow.stages.score.MicroBatcher;
import io.decisionflow.stages.score.ScoreConfig;
import io.decisionflow.stages.score.ScoreStage;
import io.decisionflow.stages.score.TensorFlowModel;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Measures the score stage alone, in-process, with the real TensorFlow model: closed-loop
 * throughput of {@link ScoreStage#scoreAll} per batch size on one thread, and the latency it adds
 * at a fixed arrival rate through a {@link MicroBatcher} with its {@link MicroBatchTimer} (open
 * loop: submissions follow a schedule and never wait for completions; a record's latency is its
 * completion time minus its <em>scheduled</em> submit time, so a harness that falls behind shows up
 * in the numbers instead of hiding them).
 *
 * <p>This is a benchmark, not a test: it reports numbers and asserts nothing about speed. It fails
 * only if the numbers would be wrong (the circuit breaker fell back to the rules, or a record
 * failed).
 */
@Command(
    name = "scoring-benchmark",
    mixinStandardHelpOptions = true,
    description =
        "Benchmark the score stage in-process with the real TensorFlow model: throughput per batch"
            + " size (closed loop, 1 thread) and added latency at a fixed rate (open loop).")
public final class ScoringBenchmark implements Callable<Integer> {

  /** Model slot of every generated request. */
  static final String SLOT = "champion";

  /** A run whose backlog at the end of the schedule exceeds this did not keep up. */
  static final double BACKLOG_LIMIT_MS = 100;

  /** A run that completes less than this share of the target rate did not keep up. */
  static final double MIN_RATE_SHARE = 0.95;

  private static final long PROGRESS_NANOS = TimeUnit.SECONDS.toNanos(1);

  @Option(
      names = "--model",
      defaultValue = "models/target/models/fraud-v1",
      description = "Model directory (${DEFAULT-VALUE}, resolved against the working directory).")
  Path model;

  @Option(
      names = "--rows",
      defaultValue = "20000",
      description = "Scoring requests to generate and cycle through (${DEFAULT-VALUE}).")
  int rows;

  @Option(
      names = "--seed",
      defaultValue = "7",
      description = "Seed of the transaction generator (${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--batch-sizes",
      split = ",",
      defaultValue = "1,8,64,256",
      description = "Batch sizes of the throughput runs (${DEFAULT-VALUE}).")
  List<Integer> batchSizes;

  @Option(
      names = "--seconds",
      defaultValue = "5",
      description = "Measured seconds of each run (${DEFAULT-VALUE}).")
  double seconds;

  @Option(
      names = "--warmup-seconds",
      defaultValue = "2",
      description = "Warm-up seconds before each run, not measured (${DEFAULT-VALUE}).")
  double warmupSeconds;

  @Option(
      names = "--rate",
      defaultValue = "5000",
      description = "Arrival rate of the open-loop runs, records per second (${DEFAULT-VALUE}).")
  int rate;

  @Option(
      names = "--max-batch",
      defaultValue = "64",
      description = "maxBatchSize of the batched open-loop run (${DEFAULT-VALUE}).")
  int maxBatch;

  @Option(
      names = "--max-wait-ms",
      defaultValue = "1",
      description = "maxBatchWaitMs of the batched open-loop run (${DEFAULT-VALUE}).")
  int maxWaitMs;

  @Option(
      names = "--out",
      defaultValue = "models/target/bench/scoring.txt",
      description = "Report file (${DEFAULT-VALUE}, resolved against the working directory).")
  Path out;

  @Spec CommandSpec spec;

  /** Keeps the scores alive so that no call can be optimized away. */
  private volatile double sink;

  public static void main(String[] args) {
    int code = new CommandLine(new ScoringBenchmark()).execute(args);
    if (code != 0) {
      System.exit(code);
    }
  }

  @Override
  public Integer call() throws IOException {
    validateOptions();
    Path modelDir = model.toAbsolutePath().normalize();
    Path outFile = out.toAbsolutePath().normalize();
    double loadBefore = loadAverage();
    String started = ZonedDateTime.now().withNano(0).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);

    ScoreConfig config = new ScoreConfig();
    config.modelSlot = SLOT;
    config.modelLocation = modelDir.toString();
    config.maxBatchSize = maxBatch;
    config.maxBatchWaitMs = maxWaitMs;
    // Far above any model call, so that the breaker never trips on slow calls while we measure.
    config.latencyBudgetMs = 1000;
    config.validate();

    progress("loading model %s", modelDir);
    List<Throughput> throughputs = new ArrayList<>();
    List<OpenLoop> openLoops = new ArrayList<>();
    String modelName;
    String breaker;
    try (TensorFlowModel tf = TensorFlowModel.load(config.existingModelPath())) {
      modelName = tf.manifest().name() + " " + tf.manifest().version();
      // Wall clock for lineage stamps and breaker timing; the latency budget is far from reach.
      ScoreStage stage = new ScoreStage(config, tf);

      progress("generating %d scoring requests (seed %d)", rows, seed);
      List<ScoreStage.Prepared> prepared = new ArrayList<>(rows);
      for (ScoringRequest request : requests(seed, rows)) {
        prepared.add(stage.prepare(request));
      }

      for (int batchSize : batchSizes) {
        throughputs.add(throughput(stage, prepared, batchSize));
        requireNoFallback(stage, "throughput batch " + batchSize);
      }
      openLoops.add(openLoop(stage, prepared, "batch-1", 1, 0));
      requireNoFallback(stage, "open loop batch-1");
      openLoops.add(openLoop(stage, prepared, "micro-batch", maxBatch, maxWaitMs));
      requireNoFallback(stage, "open loop micro-batch");
      breaker =
          String.format(
              Locale.ROOT,
              "%s at the end; %,d rows scored by the model, %,d by the fallback rules",
              stage.guarded().state(),
              stage.guarded().modelRows(),
              stage.guarded().fallbackRows());
    }

    String report =
        report(
            modelName,
            breaker,
            modelDir,
            started,
            loadBefore,
            loadAverage(),
            throughputs,
            openLoops);
    System.out.println();
    System.out.print(report);
    Files.createDirectories(outFile.getParent());
    Files.writeString(outFile, report, StandardCharsets.UTF_8);
    System.out.println("wrote " + outFile);
    return 0;
  }

  private void validateOptions() {
    List<String> problems = new ArrayList<>();
    if (rows < 1) {
      problems.add("--rows must be at least 1, was " + rows);
    }
    if (batchSizes.isEmpty()) {
      problems.add("--batch-sizes must name at least one size");
    }
    for (int size : batchSizes) {
      if (size < 1 || size > rows) {
        problems.add("--batch-sizes: " + size + " must be between 1 and --rows (" + rows + ")");
      }
    }
    if (!(seconds > 0)) {
      problems.add("--seconds must be positive, was " + seconds);
    }
    if (!(warmupSeconds >= 0)) {
      problems.add("--warmup-seconds must not be negative, was " + warmupSeconds);
    }
    if (rate < 1) {
      problems.add("--rate must be at least 1, was " + rate);
    }
    if (maxBatch < 1 || maxBatch > 4096) {
      problems.add("--max-batch must be between 1 and 4096, was " + maxBatch);
    }
    if (maxWaitMs < 0 || maxWaitMs > 1000) {
      problems.add("--max-wait-ms must be between 0 and 1000, was " + maxWaitMs);
    }
    if (!problems.isEmpty()) {
      throw new CommandLine.ParameterException(spec.commandLine(), String.join("; ", problems));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs

  /**
   * {@code count} routed requests for slot {@value #SLOT}: the generator's transactions with their
   * features computed by {@link FeatureSpec} from per-card state and the generator's merchant
   * table, as {@code LabelledFeatures} and the enrich stage do.
   */
  static List<ScoringRequest> requests(long seed, int count) {
    TransactionGenerator generator =
        new TransactionGenerator(TransactionGenerator.Options.defaults(seed));
    Map<String, CardState> cards = new HashMap<>();
    List<ScoringRequest> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      Transaction txn = generator.next().transaction();
      CardState prior = cards.getOrDefault(txn.getCardId(), CardState.getDefaultInstance());
      cards.put(txn.getCardId(), FeatureSpec.apply(prior, txn, generator.merchantRisks()));
      EnrichedTransaction enriched =
          EnrichStage.enriched(txn, prior, generator.merchantRisks(), txn.getEventTimeMs());
      out.add(
          ScoringRequest.newBuilder()
              .setEnriched(enriched)
              .setArm(SLOT)
              .setModelSlot(SLOT)
              .setRoutingVersion("bench")
              .build());
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Throughput: closed loop on this thread

  record Throughput(
      int batchSize,
      long calls,
      long rows,
      long wallNanos,
      long cpuNanos,
      Histogram callNanos,
      Gc gc) {

    double rowsPerSecond() {
      return rows * 1e9 / wallNanos;
    }

    double microsPerCall() {
      return wallNanos / 1e3 / calls;
    }

    /** Process CPU time over wall time, in percent; -1 if the JVM does not tell. */
    double cpuPercent() {
      return cpuNanos < 0 ? -1 : 100.0 * cpuNanos / wallNanos;
    }
  }

  private Throughput throughput(ScoreStage stage, List<ScoreStage.Prepared> prepared, int size) {
    String name = "throughput batch " + size;
    int n = prepared.size();
    int offset = 0;
    double checksum = 0;

    progress("%s: warming up %.1f s", name, warmupSeconds);
    long warmEnd = System.nanoTime() + nanos(warmupSeconds);
    while (System.nanoTime() < warmEnd) {
      checksum += stage.scoreAll(prepared.subList(offset, offset + size)).get(0).getScore();
      offset = offset + 2 * size > n ? 0 : offset + size;
    }

    progress("%s: measuring %.1f s", name, seconds);
    Histogram callNanos = new Histogram(3);
    long calls = 0;
    Gc gcStart = Gc.now();
    long cpuStart = processCpuNanos();
    long start = System.nanoTime();
    long end = start + nanos(seconds);
    long nextProgress = start + PROGRESS_NANOS;
    long now = start;
    while (now < end) {
      List<Score> scores = stage.scoreAll(prepared.subList(offset, offset + size));
      long after = System.nanoTime();
      callNanos.recordValue(after - now);
      now = after;
      calls++;
      if (scores.size() != size) {
        throw new IllegalStateException(
            name + ": scoreAll returned " + scores.size() + " scores for " + size + " requests");
      }
      checksum += scores.get(0).getScore();
      offset = offset + 2 * size > n ? 0 : offset + size;
      if (now >= nextProgress) {
        progress(
            "%s: %.0f s, %,d calls, %,.0f rows/s",
            name, (now - start) / 1e9, calls, calls * size * 1e9 / (now - start));
        nextProgress += PROGRESS_NANOS;
      }
    }
    long cpuEnd = processCpuNanos();
    Gc gc = Gc.now().minus(gcStart);
    sink = checksum;
    Throughput result =
        new Throughput(
            size,
            calls,
            calls * size,
            now - start,
            cpuStart < 0 || cpuEnd < 0 ? -1 : cpuEnd - cpuStart,
            callNanos,
            gc);
    progress(
        "%s: %,.0f rows/s, %.1f us per call", name, result.rowsPerSecond(), result.microsPerCall());
    return result;
  }

  // ---------------------------------------------------------------------------------------------
  // Added latency: open loop through the micro-batcher

  record OpenLoop(
      String mode,
      int maxBatchSize,
      int maxWaitMs,
      int targetRate,
      double achievedRate,
      double meanBatch,
      Histogram latencyMicros,
      Histogram submitLagMicros,
      double backlogMs,
      long records,
      long abandoned,
      Gc gc) {

    boolean rateMet() {
      return ScoringBenchmark.rateMet(targetRate, achievedRate, backlogMs);
    }
  }

  /** What the submitter thread tells the main thread. */
  private static final class Submitter {
    final LongAdder submitted = new LongAdder();
    final LongAdder completed = new LongAdder();
    final LongAdder completedInWindow = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder fallbacks = new LongAdder();
    final AtomicReference<Throwable> firstFailure = new AtomicReference<>();
    // Written by the submitter thread only; read by the main thread after joining it.
    final Histogram submitLagMicros = new Histogram(3);
    long measured;
    long outstandingAtEnd;
    long lagAtEndNanos;
    long abandoned;
    // Read by the main thread while the submitter runs, for progress lines.
    volatile long lagNanos;
  }

  private OpenLoop openLoop(
      ScoreStage stage,
      List<ScoreStage.Prepared> prepared,
      String mode,
      int batchSize,
      int waitMs) {
    String name =
        "open loop " + mode + " (max batch " + batchSize + ", max wait " + waitMs + " ms)";
    MicroBatcher<ScoreStage.Prepared, Score> batcher =
        new MicroBatcher<>(
            batchSize, Duration.ofMillis(waitMs), stage::scoreAll, Clock.systemUTC());
    MicroBatchTimer timer = MicroBatchTimer.start(batcher, "bench-" + mode + "-batches");
    Schedule schedule = new Schedule(rate);
    Recorder recorder = new Recorder(3);
    Submitter s = new Submitter();
    long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
    long warmEnd = start + nanos(warmupSeconds);
    long end = warmEnd + nanos(seconds);

    Thread thread =
        new Thread(
            () -> {
              try {
                submitOnSchedule(batcher, prepared, schedule, recorder, s, start, warmEnd, end);
              } catch (RuntimeException | Error e) {
                s.firstFailure.compareAndSet(null, e);
                s.failed.increment();
              }
            },
            "bench-open-loop-submitter");
    thread.setDaemon(true);
    progress(
        "%s at %,d/s: warming up %.1f s, then measuring %.1f s",
        name, rate, warmupSeconds, seconds);
    long itemsAtWarmEnd = -1;
    long batchesAtWarmEnd = -1;
    Gc gcAtWarmEnd = null;
    Histogram latency = new Histogram(3);
    Histogram interval = null;
    thread.start();
    long nextProgress = start + PROGRESS_NANOS;
    try {
      while (thread.isAlive()) {
        long next = itemsAtWarmEnd < 0 ? Math.min(nextProgress, warmEnd) : nextProgress;
        thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(next - System.nanoTime())));
        long now = System.nanoTime();
        if (itemsAtWarmEnd < 0 && now >= warmEnd) {
          itemsAtWarmEnd = batcher.items();
          batchesAtWarmEnd = batcher.batches();
          gcAtWarmEnd = Gc.now();
        }
        if (now >= nextProgress && thread.isAlive()) {
          interval = recorder.getIntervalHistogram(interval);
          latency.add(interval);
          long outstanding = s.submitted.sum() - s.completed.sum();
          progress(
              "%s: %.0f s (%s), submitted %,d, completed %,d, in flight %,d, behind schedule"
                  + " %.1f ms, p99 last second %s",
              mode,
              (now - start) / 1e9,
              now < warmEnd ? "warm-up" : now < end ? "measuring" : "catching up",
              s.submitted.sum(),
              s.completed.sum(),
              outstanding,
              s.lagNanos / 1e6,
              interval.getTotalCount() == 0 ? "-" : interval.getValueAtPercentile(99) + " us");
          nextProgress += PROGRESS_NANOS;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while benchmarking " + name, e);
    } finally {
      timer.close();
      batcher.close();
    }
    Gc gc = Gc.now();
    if (itemsAtWarmEnd < 0) {
      itemsAtWarmEnd = 0;
      batchesAtWarmEnd = 0;
      gcAtWarmEnd = Gc.ZERO;
    }
    gc = gc.minus(gcAtWarmEnd);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (s.completed.sum() < s.submitted.sum() && System.nanoTime() < deadline) {
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }
    if (s.completed.sum() < s.submitted.sum()) {
      throw new IllegalStateException(
          name
              + ": "
              + (s.submitted.sum() - s.completed.sum())
              + " records never completed after the batcher was closed");
    }
    if (s.failed.sum() > 0) {
      throw new IllegalStateException(
          name + ": " + s.failed.sum() + " records failed; the first failure follows",
          s.firstFailure.get());
    }
    if (s.fallbacks.sum() > 0) {
      throw new IllegalStateException(
          name
              + ": "
              + s.fallbacks.sum()
              + " records were scored by the fallback rules, not the model: the numbers would be"
              + " wrong");
    }
    latency.add(recorder.getIntervalHistogram());
    long batches = batcher.batches() - batchesAtWarmEnd;
    long items = batcher.items() - itemsAtWarmEnd;
    double windowSeconds = (end - warmEnd) / 1e9;
    double backlogMs = s.lagAtEndNanos / 1e6 + s.outstandingAtEnd * 1000.0 / rate;
    OpenLoop result =
        new OpenLoop(
            mode,
            batchSize,
            waitMs,
            rate,
            s.completedInWindow.sum() / windowSeconds,
            batches == 0 ? 0 : (double) items / batches,
            latency,
            s.submitLagMicros,
            backlogMs,
            s.measured,
            s.abandoned,
            gc);
    progress(
        "%s: achieved %,.0f/s, p50 %s us, p99 %s us, max %s us, mean batch %.1f, backlog at end"
            + " %.1f ms%s",
        mode,
        result.achievedRate(),
        percentile(latency, 50),
        percentile(latency, 99),
        percentile(latency, 100),
        result.meanBatch(),
        backlogMs,
        result.rateMet() ? "" : " -- RATE NOT MET");
    return result;
  }

  /** Runs on the submitter thread: submits on schedule, never waiting for completions. */
  private static void submitOnSchedule(
      MicroBatcher<ScoreStage.Prepared, Score> batcher,
      List<ScoreStage.Prepared> prepared,
      Schedule schedule,
      Recorder recorder,
      Submitter s,
      long start,
      long warmEnd,
      long end) {
    int n = prepared.size();
    // An overloaded run catches up for at most as long again as it measures, then gives up on the
    // rest of its schedule (counted, and reported) so that it cannot run for ever.
    long giveUp = end + Math.max(TimeUnit.SECONDS.toNanos(1), end - warmEnd);
    long lastScheduled = start;
    for (long i = 0; ; i++) {
      long scheduled = start + schedule.offsetNanos(i);
      if (scheduled >= end) {
        break;
      }
      if (System.nanoTime() >= giveUp) {
        long abandoned = 0;
        for (long j = i; start + schedule.offsetNanos(j) < end; j++) {
          abandoned++;
        }
        s.abandoned = abandoned;
        break;
      }
      lastScheduled = scheduled;
      long now;
      while ((now = System.nanoTime()) < scheduled) {
        LockSupport.parkNanos(scheduled - now);
      }
      long lag = now - scheduled;
      s.lagNanos = lag;
      boolean measure = scheduled >= warmEnd;
      if (measure) {
        s.submitLagMicros.recordValue(lag / 1000);
        s.measured++;
      }
      CompletableFuture<Score> future = batcher.submit(prepared.get((int) (i % n)));
      s.submitted.increment();
      future.whenComplete(
          (score, failure) -> {
            long done = System.nanoTime();
            if (failure != null) {
              s.firstFailure.compareAndSet(null, failure);
              s.failed.increment();
            } else {
              if (score.getFallback()) {
                s.fallbacks.increment();
              }
              if (measure) {
                recorder.recordValue(Math.max(0, done - scheduled) / 1000);
              }
              if (done >= warmEnd && done < end) {
                s.completedInWindow.increment();
              }
            }
            s.completed.increment();
          });
    }
    long finished = System.nanoTime();
    s.lagAtEndNanos = Math.max(0, finished - lastScheduled);
    s.outstandingAtEnd = s.submitted.sum() - s.completed.sum();
  }

  // ---------------------------------------------------------------------------------------------
  // Report

  private String report(
      String modelName,
      String breaker,
      Path modelDir,
      String started,
      double loadBefore,
      double loadAfter,
      List<Throughput> throughputs,
      List<OpenLoop> openLoops) {
    StringBuilder b = new StringBuilder();
    b.append("decisionflow scoring benchmark (score stage in-process, real TensorFlow model)\n");
    b.append("date:        ").append(started).append('\n');
    b.append("command:     scoring-benchmark ")
        .append(String.join(" ", spec.commandLine().getParseResult().originalArgs()))
        .append('\n');
    b.append(
        String.format(
            Locale.ROOT,
            "options:     --model %s --rows %d --seed %d --batch-sizes %s --seconds %s"
                + " --warmup-seconds %s --rate %d --max-batch %d --max-wait-ms %d%n",
            modelDir,
            rows,
            seed,
            String.join(",", batchSizes.stream().map(String::valueOf).toList()),
            number(seconds),
            number(warmupSeconds),
            rate,
            maxBatch,
            maxWaitMs));
    b.append("model:       ").append(modelName).append('\n');
    b.append("breaker:     ").append(breaker).append('\n');
    b.append(
        String.format(
            Locale.ROOT,
            "java:        %s (%s %s), max heap %d MiB%n",
            System.getProperty("java.version"),
            System.getProperty("java.vm.name"),
            System.getProperty("java.vm.version"),
            Runtime.getRuntime().maxMemory() >> 20));
    b.append(
        String.format(
            Locale.ROOT,
            "machine:     %s %s, %d available processors, CPU %s%n",
            System.getProperty("os.name"),
            System.getProperty("os.arch"),
            Runtime.getRuntime().availableProcessors(),
            cpuModel()));
    b.append(
        String.format(
            Locale.ROOT,
            "load:        1-minute load average %.2f before, %.2f after%n",
            loadBefore,
            loadAfter));
    b.append('\n');

    b.append(
        String.format(
            Locale.ROOT,
            "Throughput: closed loop, 1 thread calling ScoreStage.scoreAll on consecutive slices,"
                + " %s s measured after %s s warm-up%n",
            number(seconds),
            number(warmupSeconds)));
    TextTable t =
        new TextTable(
            "batch",
            "calls",
            "rows/s per core",
            "us/call mean",
            "us/call p50",
            "us/call p99",
            "us/row",
            "process CPU",
            "GCs",
            "GC ms");
    for (Throughput r : throughputs) {
      t.row(
          String.valueOf(r.batchSize()),
          String.format(Locale.ROOT, "%,d", r.calls()),
          String.format(Locale.ROOT, "%,.0f", r.rowsPerSecond()),
          String.format(Locale.ROOT, "%.1f", r.microsPerCall()),
          String.format(Locale.ROOT, "%.1f", r.callNanos().getValueAtPercentile(50) / 1e3),
          String.format(Locale.ROOT, "%.1f", r.callNanos().getValueAtPercentile(99) / 1e3),
          String.format(Locale.ROOT, "%.2f", r.microsPerCall() / r.batchSize()),
          r.cpuPercent() < 0 ? "-" : String.format(Locale.ROOT, "%.0f%%", r.cpuPercent()),
          String.valueOf(r.gc().count()),
          String.valueOf(r.gc().millis()));
    }
    b.append(t.render()).append('\n');

    b.append(
        String.format(
            Locale.ROOT,
            "Added latency: open loop at %,d records/s through MicroBatcher + MicroBatchTimer,"
                + " %s s measured after %s s warm-up;%n"
                + "latency = completion - scheduled submit time (includes the submitter's"
                + " wake-up lag and any queueing)%n",
            rate,
            number(seconds),
            number(warmupSeconds)));
    TextTable o =
        new TextTable(
            "mode",
            "max batch",
            "max wait ms",
            "target/s",
            "achieved/s",
            "mean batch",
            "p50 us",
            "p99 us",
            "p99.9 us",
            "max us",
            "backlog ms",
            "GCs",
            "GC ms",
            "rate");
    for (OpenLoop r : openLoops) {
      o.row(
          r.mode(),
          String.valueOf(r.maxBatchSize()),
          String.valueOf(r.maxWaitMs()),
          String.format(Locale.ROOT, "%,d", r.targetRate()),
          String.format(Locale.ROOT, "%,.0f", r.achievedRate()),
          String.format(Locale.ROOT, "%.1f", r.meanBatch()),
          percentile(r.latencyMicros(), 50),
          percentile(r.latencyMicros(), 99),
          percentile(r.latencyMicros(), 99.9),
          percentile(r.latencyMicros(), 100),
          String.format(Locale.ROOT, "%.1f", r.backlogMs()),
          String.valueOf(r.gc().count()),
          String.valueOf(r.gc().millis()),
          r.rateMet() ? "met" : "NOT MET");
    }
    b.append(o.render());
    for (OpenLoop r : openLoops) {
      b.append(
          String.format(
              Locale.ROOT,
              "  %s: %,d records measured; submit lag (actual - scheduled submit time) p50 %s us,"
                  + " p99 %s us%n",
              r.mode(),
              r.records(),
              percentile(r.submitLagMicros(), 50),
              percentile(r.submitLagMicros(), 99)));
      if (!r.rateMet()) {
        b.append(
            String.format(
                Locale.ROOT,
                "  %s: RATE NOT MET: completed %,.0f/s of %,d/s and was %.1f ms behind at the end"
                    + " of the schedule; its latencies include a growing queue%n",
                r.mode(),
                r.achievedRate(),
                r.targetRate(),
                r.backlogMs()));
      }
      if (r.abandoned() > 0) {
        b.append(
            String.format(
                Locale.ROOT,
                "  %s: gave up on the last %,d scheduled records (too far behind); they are not in"
                    + " the latencies, which are therefore a lower bound%n",
                r.mode(),
                r.abandoned()));
      }
    }
    b.append(
        String.format(
            Locale.ROOT,
            "  rate met = achieved >= %.0f%% of target and backlog at the end of the schedule"
                + " <= %.0f ms%n",
            MIN_RATE_SHARE * 100,
            BACKLOG_LIMIT_MS));
    return b.toString();
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers (package-private for tests)

  /**
   * Whether an open-loop run kept up with its schedule: it completed at least {@value
   * #MIN_RATE_SHARE} of the target rate, and at the end of the schedule it was no more than {@value
   * #BACKLOG_LIMIT_MS} ms of work behind.
   */
  static boolean rateMet(double targetRate, double achievedRate, double backlogMs) {
    return achievedRate >= MIN_RATE_SHARE * targetRate && backlogMs <= BACKLOG_LIMIT_MS;
  }

  /** Submit times of an open-loop run: record {@code i} is due {@code i / rate} seconds in. */
  static final class Schedule {
    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    private final long rate;

    Schedule(long ratePerSecond) {
      if (ratePerSecond < 1) {
        throw new IllegalArgumentException("rate must be at least 1/s, was " + ratePerSecond);
      }
      this.rate = ratePerSecond;
    }

    /**
     * When record {@code i} (from 0) is due, in nanoseconds after the start: exact to the
     * nanosecond (rounded down) without drift, however long the run.
     */
    long offsetNanos(long i) {
      if (i < 0) {
        throw new IllegalArgumentException("record index must not be negative, was " + i);
      }
      return (i / rate) * NANOS_PER_SECOND + (i % rate) * NANOS_PER_SECOND / rate;
    }
  }

  /** A plain-text table: first column left-aligned, the others right-aligned. */
  static final class TextTable {
    private final List<String[]> rows = new ArrayList<>();
    private final int columns;

    TextTable(String... header) {
      if (header.length == 0) {
        throw new IllegalArgumentException("a table needs at least one column");
      }
      this.columns = header.length;
      rows.add(header.clone());
    }

    TextTable row(String... cells) {
      if (cells.length != columns) {
        throw new IllegalArgumentException(
            "row has " + cells.length + " cells, the table " + columns + " columns");
      }
      rows.add(cells.clone());
      return this;
    }

    String render() {
      int[] width = new int[columns];
      for (String[] row : rows) {
        for (int c = 0; c < columns; c++) {
          width[c] = Math.max(width[c], row[c].length());
        }
      }
      StringBuilder b = new StringBuilder();
      for (int r = 0; r < rows.size(); r++) {
        String[] row = rows.get(r);
        StringBuilder line = new StringBuilder();
        for (int c = 0; c < columns; c++) {
          if (c > 0) {
            line.append("  ");
          }
          String pad = " ".repeat(width[c] - row[c].length());
          line.append(c == 0 ? row[c] + pad : pad + row[c]);
        }
        b.append(line.toString().stripTrailing()).append('\n');
        if (r == 0) {
          int total = 2 * (columns - 1);
          for (int w : width) {
            total += w;
          }
          b.append("-".repeat(total)).append('\n');
        }
      }
      return b.toString();
    }
  }

  /**
   * Fails if any row so far was scored by the fallback rules: the breaker tripped, so the numbers
   * would measure the rules instead of the model.
   */
  private static void requireNoFallback(ScoreStage stage, String run) {
    long fallbackRows = stage.guarded().fallbackRows();
    if (fallbackRows != 0) {
      throw new IllegalStateException(
          "after "
              + run
              + ": the circuit breaker ("
              + stage.guarded().state()
              + ") fell back to the rules for "
              + fallbackRows
              + " rows, so these numbers would not measure the model; is the machine overloaded"
              + " or the model failing?");
    }
  }

  /** Garbage collections and their accumulated time, over all collectors of this JVM. */
  record Gc(long count, long millis) {
    static final Gc ZERO = new Gc(0, 0);

    static Gc now() {
      long count = 0;
      long millis = 0;
      for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) {
        count += Math.max(0, bean.getCollectionCount());
        millis += Math.max(0, bean.getCollectionTime());
      }
      return new Gc(count, millis);
    }

    Gc minus(Gc earlier) {
      return new Gc(count - earlier.count, millis - earlier.millis);
    }
  }

  /** A percentile of a histogram (100: its maximum), or "-" if it recorded nothing. */
  static String percentile(Histogram histogram, double percentile) {
    if (histogram.getTotalCount() == 0) {
      return "-";
    }
    return String.valueOf(
        percentile >= 100 ? histogram.getMaxValue() : histogram.getValueAtPercentile(percentile));
  }

  private static long nanos(double seconds) {
    return (long) (seconds * 1e9);
  }

  private static String number(double value) {
    return value == Math.rint(value)
        ? String.valueOf((long) value)
        : String.format(Locale.ROOT, "%s", value);
  }

  private static void progress(String format, Object... args) {
    System.out.printf(
        Locale.ROOT,
        "[%s] %s%n",
        java.time.LocalTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss")),
        String.format(Locale.ROOT, format, args));
    System.out.flush();
  }

  private static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  /** CPU time of the whole process in nanoseconds; -1 if the JVM does not tell. */
  private static long processCpuNanos() {
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
      return sun.getProcessCpuTime();
    }
    return -1;
  }

  private static String cpuModel() {
    try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
      return lines
          .filter(line -> line.startsWith("model name"))
          .map(line -> line.substring(line.indexOf(':') + 1).trim())
          .findFirst()
          .orElse("unknown");
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }
}
