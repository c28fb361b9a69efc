package io.decisionflow.connectors.archive;

import io.decisionflow.metrics.InstanceMetrics;
import io.decisionflow.schemas.Decision;
import io.prometheus.client.Counter;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.apache.pulsar.functions.api.Record;
import org.apache.pulsar.io.core.Sink;
import org.apache.pulsar.io.core.SinkContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pulsar IO sink that archives decisions to S3-compatible object storage as gzip-compressed JSON
 * lines, in date/hour folders ({@link ArchiveLayout}), acknowledging each record once the object
 * that holds it is durable ({@link Archiver}). Deploy it with a Failover subscription ({@code
 * retainOrdering: true}) and {@code inputSpecs: {<topic>: {schemaType: PROTOBUF_NATIVE}}}; see
 * {@code pulsar-deploy/sinks/archive.yaml}.
 */
public final class DecisionArchiveSink implements Sink<Decision> {

  private static final Logger log = LoggerFactory.getLogger(DecisionArchiveSink.class);

  /** How often batches are checked for age. */
  static final Duration TICK = Duration.ofSeconds(1);

  /** How long {@link #close()} waits for the last writes. */
  static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(60);

  private final Clock clock;
  private final BiFunction<ArchiveSinkConfig, ArchiveSinkConfig.Credentials, ObjectWriter> writers;

  private ObjectWriter writer;
  private Archiver archiver;
  private InstanceMetrics metrics;
  private Counter.Child received;
  private ScheduledExecutorService timer;

  /** The sink Pulsar instantiates: the system clock and S3. */
  public DecisionArchiveSink() {
    this(Clock.systemUTC(), S3ObjectWriter::create);
  }

  DecisionArchiveSink(
      Clock clock,
      BiFunction<ArchiveSinkConfig, ArchiveSinkConfig.Credentials, ObjectWriter> writers) {
    this.clock = clock;
    this.writers = writers;
  }

  @Override
  public void open(Map<String, Object> config, SinkContext context) {
    ArchiveSinkConfig settings = ArchiveSinkConfig.load(config);
    ArchiveSinkConfig.Credentials credentials = settings.credentials(context::getSecret);
    log.info("Decision archive: {}, credentials: {}", settings, credentials);
    metrics =
        InstanceMetrics.exported(
            context.getTenant(),
            context.getNamespace(),
            context.getSinkName(),
            context.getInstanceId());
    writer = new TimedObjectWriter(writers.apply(settings, credentials), metrics);
    archiver = new Archiver(new ArchiveLayout(settings.prefix), settings.limits(), writer, clock);
    timer =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "decision-archive-timer");
              thread.setDaemon(true);
              thread.setContextClassLoader(DecisionArchiveSink.class.getClassLoader());
              return thread;
            });
    timer.scheduleWithFixedDelay(
        this::flushDue, TICK.toMillis(), TICK.toMillis(), TimeUnit.MILLISECONDS);
    registerMetrics();
  }

  /**
   * {@code decisionflow_archive_*}: records received, archived and waiting in open batches, objects
   * stored, PUTs that failed (their records come again), PUT time and bytes stored.
   */
  private void registerMetrics() {
    received =
        metrics
            .counter("decisionflow_archive_records_in_total", "Records received by the sink")
            .labels();
    metrics.gauge(
        "decisionflow_archive_records_total",
        "Records archived (their object is durable)",
        () -> archiver.stats().recordsArchived());
    metrics.gauge(
        "decisionflow_archive_objects_total",
        "Objects stored",
        () -> archiver.stats().objectsWritten());
    metrics.gauge(
        "decisionflow_archive_put_failures_total",
        "Object writes that failed (their records are delivered again)",
        () -> archiver.stats().writesFailed());
    metrics.gauge(
        "decisionflow_archive_pending_records",
        "Records in open batches, not written yet",
        () -> archiver.stats().openRecords());
  }

  /** The sink's metrics. */
  InstanceMetrics metrics() {
    return metrics;
  }

  @Override
  public void write(Record<Decision> record) throws InterruptedException {
    received.inc();
    archiver.add(record);
  }

  /** Writes the batches that are old enough; what the timer runs every second. */
  void flushDue() {
    try {
      archiver.flushDue();
    } catch (RuntimeException e) {
      log.error("Decision archive: age check failed", e);
    }
  }

  Archiver archiver() {
    return archiver;
  }

  @Override
  public void close() throws InterruptedException {
    if (timer != null) {
      timer.shutdownNow();
      timer.awaitTermination(5, TimeUnit.SECONDS);
    }
    try {
      if (archiver != null) {
        boolean done = archiver.close(CLOSE_TIMEOUT);
        Archiver.Stats stats = archiver.stats();
        log.info(
            "Decision archive closed{}: {} objects, {} records archived, {} writes failed",
            done ? "" : " before every write finished (their records will be delivered again)",
            stats.objectsWritten(),
            stats.recordsArchived(),
            stats.writesFailed());
      }
    } finally {
      if (writer != null) {
        writer.close();
      }
      if (metrics != null) {
        metrics.close();
      }
    }
  }
}
